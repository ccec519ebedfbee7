"""Generate stage, OpenVINO GenAI backend: the packaged Q4_K_M GGUF turned once into OpenVINO IR.

Why: prefill dominates a RAG prompt on a CPU, and OpenVINO picks its kernels at run time (AVX2,
AVX-512 VNNI, AMX) from a prebuilt wheel, where the portable llama.cpp build leaves the wide vector
units idle (docs/generators.md has the measurement). Nothing to compile at install.

Conversion: OpenVINO GenAI reads the GGUF itself (its own GGUF reader, in memory, ~10 s, ~3.8 GB peak
for the 1.5B) and writes the IR next to the file it was given; that happens once, in a staging folder
under cache_dir/openvino/, and every IR file's sha256 goes into a manifest that is checked (by size and
mtime stamp, rehashed when they change) before each load. Greedy decoding; the stateful pipeline keeps
the previous call's KV and reuses the longest shared token prefix, as the llama.cpp backend does.
"""
from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from qa.generate.checksum import hash_file, sha256_stamped, write_stamp
from qa.generate.llm_base import BaseGenerator, ChatTemplate, GenerationError, GenStats, ModelError, common_prefix

MANIFEST = "policyqa_manifest.json"
IR_FILES = ("openvino_model.xml", "openvino_model.bin", "openvino_tokenizer.xml", "openvino_tokenizer.bin",
            "openvino_detokenizer.xml", "openvino_detokenizer.bin")


def _import_genai():
    try:
        import openvino_genai
    except ImportError as e:
        raise ModelError("未安装 openvino-genai，请按 README 的安装命令重新安装 / "
                         f"openvino-genai is not installed: {e}") from e
    return openvino_genai


def _stamp(d: Path, name: str) -> Path:
    return d / "stamps" / f"{name}.json"


def manifest_ok(d: Path, sha: str) -> bool:
    """The IR in `d` was converted from the GGUF whose sha256 is `sha`, and no file changed since."""
    try:
        m = json.loads((d / MANIFEST).read_text())
        if m["source_sha256"] != sha:
            return False
        return all(sha256_stamped(d / f, _stamp(d, f)) == m["files"][f] for f in IR_FILES)
    except (OSError, ValueError, KeyError):
        return False


_CONVERT = """import sys, openvino_genai
openvino_genai.LLMPipeline(sys.argv[1], "CPU", enable_save_ov_model=True, INFERENCE_NUM_THREADS=int(sys.argv[2]))
"""


def convert_gguf(gguf: Path, sha: str, out: Path, threads: int) -> None:
    """GGUF → OpenVINO IR in `out` (written to a staging folder first, then renamed: a crash leaves no
    half-written model behind)."""
    og = _import_genai()
    tmp = out.with_name(f"{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    # The reader writes the IR next to the file it opens: give it a link to the GGUF inside the staging folder.
    link = tmp / gguf.name
    try:
        os.link(gguf, link)
    except OSError:
        link.symlink_to(gguf.resolve())
    print(f"正在把模型转换为 OpenVINO 格式（只做一次，约 10–60 秒）：{gguf.name}", file=sys.stderr, flush=True)
    try:
        t0 = time.perf_counter()
        # In a child process: the reader's ~3.8 GB peak is returned to the system when it exits,
        # instead of staying in the server's heap.
        done = subprocess.run([sys.executable, "-c", _CONVERT, str(link), str(threads)],
                              capture_output=True, text=True, errors="replace")
        if done.returncode:
            tail = (done.stderr.strip().splitlines() or ["?"])[-1][:300]
            raise ModelError(f"OpenVINO 无法转换模型 / OpenVINO cannot convert {gguf}: {tail}")
        link.unlink()
        missing = [f for f in IR_FILES if not (tmp / f).is_file()]
        if missing:
            raise ModelError(f"OpenVINO 转换不完整 / conversion wrote no {missing}")
        digests = {f: hash_file(tmp / f) for f in IR_FILES}
        (tmp / MANIFEST).write_text(json.dumps({
            "source": gguf.name, "source_sha256": sha, "openvino_genai": og.__version__, "files": digests,
            "seconds": round(time.perf_counter() - t0, 1), "created": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1))
        if out.exists():
            shutil.rmtree(out)   # stale, or changed since it was converted
        try:
            os.replace(tmp, out)
        except OSError:
            if not manifest_ok(out, sha):   # lost a race only if the other process left a good copy
                raise
            return
        # The digests just taken stamp the files where they now stand, so the check that follows does
        # not hash 1.3 GB a second time.
        for f, digest in digests.items():
            write_stamp(out / f, _stamp(out, f), digest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_ir(gguf: Path, sha: str, cache_dir: Path, threads: int) -> tuple[Path, bool]:
    """The checked IR folder for a GGUF, converting it first when needed; (folder, was already there)."""
    out = Path(cache_dir) / "openvino" / f"{gguf.stem}-{sha[:12]}"
    if manifest_ok(out, sha):
        return out, True
    convert_gguf(gguf, sha, out, threads)
    if not manifest_ok(out, sha):
        raise ModelError(f"OpenVINO 模型校验失败 / the converted model in {out} failed its checksum")
    return out, False


class OpenVINOGenerator(BaseGenerator):
    def __init__(self, name: str, model_dir: Path, threads: int, n_ctx: int) -> None:
        super().__init__(name)
        og = _import_genai()
        self._og = og
        try:
            self.pipe = og.LLMPipeline(str(model_dir), "CPU", INFERENCE_NUM_THREADS=threads)
        except Exception as e:
            raise ModelError(f"OpenVINO 无法加载模型 / OpenVINO cannot load {model_dir}: {e}") from e
        self.model_id = str(model_dir)
        self.n_ctx = n_ctx
        self.tokenizer = self.pipe.get_tokenizer()
        self.template = ChatTemplate(self.tokenizer.chat_template, self.tokenizer.get_bos_token(),
                                     self.tokenizer.get_eos_token())
        self._eos = self.stop_ids([self.tokenizer.get_eos_token_id()])
        self._previous: list[int] = []

    def encode(self, text: str, special: bool = True) -> list[int]:
        # The Qwen tokenizer model parses its special markers in text either way; `special` has no switch here.
        return [int(i) for i in self.tokenizer.encode(text, add_special_tokens=False).input_ids.data[0]]

    def stream_chat(self, messages: list[dict], max_new_tokens: int = 256,
                    stop: Callable[[str], bool] | None = None) -> Iterator[str]:
        t0 = time.perf_counter()
        text = self.prompt_text(messages)
        ids = self.encode(text)
        if len(ids) + max_new_tokens > self.n_ctx:
            raise GenerationError(f"提问内容过长（{len(ids)} 个词元），超出模型上下文 {self.n_ctx}。")
        og = self._og
        stats = GenStats(prompt_tokens=len(ids))
        config = og.GenerationConfig(max_new_tokens=max_new_tokens, do_sample=False)
        config.apply_chat_template = False      # the text is already the rendered chat
        config.stop_token_ids = set(self._eos)
        pieces: queue.Queue = queue.Queue()
        cancelled = threading.Event()
        so_far: list[str] = []

        def on_text(piece: str):
            if not stats.first_token_s:
                stats.first_token_s = time.perf_counter() - t0
            so_far.append(piece)
            pieces.put(piece)
            if cancelled.is_set() or (stop is not None and stop("".join(so_far))):
                return og.StreamingStatus.STOP
            return og.StreamingStatus.RUNNING

        def run() -> None:
            try:
                # The ids themselves, not the text: the tokens every backend gets for these messages.
                res = self.pipe.generate(self._inputs(ids), config, streamer=on_text)
                new = list(res.tokens[0])
                stats.new_tokens = len(new) - (1 if new and new[-1] in self._eos else 0)
                pieces.put(None)
            except Exception as e:   # handed to the consumer's thread
                pieces.put(e)

        # One pipeline, one KV: calls are serialized like the llama.cpp backend's.
        with self._lock:
            stats.reused_tokens = common_prefix(self._previous, ids) if self.reuse_prefix else 0
            if not self.reuse_prefix:
                self._clear_kv()
            self._previous = ids
            worker = threading.Thread(target=run, name="openvino-generate", daemon=True)
            worker.start()
            try:
                while True:
                    item = pieces.get()
                    if item is None:
                        break
                    if isinstance(item, Exception):
                        raise GenerationError(f"本地模型生成失败：{type(item).__name__}") from item
                    if item:
                        yield item
            finally:
                cancelled.set()
                worker.join()
                stats.total_s = time.perf_counter() - t0
                self.last = stats

    def _inputs(self, ids: list[int]):
        import numpy as np
        import openvino

        a = np.array([ids], dtype=np.int64)
        return self._og.TokenizedInputs(openvino.Tensor(a), openvino.Tensor(np.ones_like(a)))

    def _clear_kv(self) -> None:
        # The pipeline has no call that drops its kept KV (start_chat/finish_chat leave it): a one-token
        # prompt that shares nothing with the next one replaces it (~50 ms).
        config = self._og.GenerationConfig(max_new_tokens=1, do_sample=False)
        config.apply_chat_template = False
        self.pipe.generate(self._inputs([min(self._eos)]), config)
        self._previous = []

    def reset_cache(self) -> None:
        with self._lock:
            self._clear_kv()

    def close(self) -> None:
        with self._lock:
            self.pipe = None   # frees the compiled model and its KV (~1.5-3 GB) now, not at interpreter exit
