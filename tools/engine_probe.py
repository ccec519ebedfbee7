"""One prompt through one generator engine, timed: first token, decode speed and memory of this process.

    python tools/engine_probe.py openvino:1.5b
    OV_CPU_MAX_ISA=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 python tools/engine_probe.py openvino:1.5b   # as on an AVX2-only CPU
    python tools/engine_probe.py llamacpp:1.5b

The prompt is the system turn and ~700 characters of the first seed as one passage (~500 tokens);
the KV cache is cleared before each of three runs, so every run prefills the whole prompt. The first
run pays one-off kernel setup: read the last two. Prints RssAnon/RssFile too (OpenVINO maps its IR
file, which counts as resident but is reclaimable). Run each engine alone on a quiet machine.
"""
from __future__ import annotations

import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.generate.llm import load_generator  # noqa: E402

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def rss() -> str:
    lines = Path("/proc/self/status").read_text().splitlines()
    return " ".join(ln.split()[0] + ln.split()[1] for ln in lines if ln.startswith(("VmRSS", "RssAnon", "RssFile")))


def main(spec: str) -> None:
    gen = load_generator(spec, threads=2)
    passage = sorted(SEEDS.iterdir())[0].read_text(encoding="utf-8", errors="ignore")[:700]
    msgs = [{"role": "system", "content": "只根据资料回答，并标注[n]。"},
            {"role": "user", "content": f"资料：[1]{passage}\n问题：这份文件的主要内容是什么？"}]
    for _ in range(3):
        gen.reset_cache()
        gen.chat(msgs, max_new_tokens=60)
        s = gen.last
        decode = (s.new_tokens - 1) / (s.total_s - s.first_token_s) if s.new_tokens > 1 else 0.0
        print(f"{spec}: {s.prompt_tokens} prompt tokens, first token {s.first_token_s:.2f} s, "
              f"{s.new_tokens} new tokens, decode {decode:.1f} tokens/s", flush=True)
    print(f"{spec}: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB; now {rss()} (kB)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "openvino:1.5b")
