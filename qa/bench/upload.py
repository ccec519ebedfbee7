"""A large upload through the HTTP API, timed from the outside (python -m qa.bench --only upload).

    python -m qa.bench --only upload [--upload-mb 5]

A real `python -m qa serve` (extractive answers, no model) runs on a copy of the seeds. One text
document of the given size is uploaded; it is made of the .txt/.md/.html documents of corpora/wild
recombined, each copy of a paragraph numbered so that none is a duplicate of another (the figure is
about size, not about deduplication). While the server indexes it in the background, the bench
keeps asking: searches and extractive answers against the previous index, and the upload job's
progress. It prints how long questions took before and during the indexing, how often the progress
moved, and the indexing time. Then the same upload is made again under another name and the server
is killed (SIGKILL) in the middle of embedding: the documents folder and the index are compared,
file by file, with what they were before.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from qa.bench.server import child
from qa.settings import PROJECT_ROOT, Settings

WILD = PROJECT_ROOT / "corpora" / "wild"
QUESTIONS = ("城镇新增就业", "驻村帮扶干部生活补助", "乡村振兴战略的基本原则", "第一书记的管理")


def big_text(mb: float) -> str:
    """About mb megabytes (UTF-8) of real Chinese official text: the plain-text documents of
    corpora/wild, paragraph by paragraph, each copy labelled with its round so no two are equal."""
    from qa.ingest.load import load_file

    paras = []
    for p in sorted(WILD.iterdir()):
        if p.suffix in (".txt", ".md", ".html"):
            paras += [line.strip() for line in load_file(p).text.splitlines() if len(line.strip()) >= 20]
    out, size, n = ["法规文件汇编（测试用，由 corpora/wild 的文档重组）", ""], 0, 0
    while size < mb * 1024 * 1024:
        n += 1
        out.append(f"第{n}编")
        for t in paras:
            line = f"（{n}）{t}"
            out.append(line)
            size += len(line.encode("utf-8")) + 1
    return "\n".join(out) + "\n"


def file_tree(root: Path) -> dict[str, str]:
    """Path → sha256 of every file under root but upload staging and the lock: what a failed or killed
    upload must leave exactly as it was."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "staging" not in p.parts and p.name != ".lock"}


def qa_server(docs: Path, index: Path, cache: Path, timeout_s: float = 600):
    """A real `python -m qa serve` (extractive answers) on docs and index: (process, URL, start s)."""
    return child(["-m", "qa", "--docs", str(docs), "--index-dir", str(index), "serve", "--model", "extractive"],
                 "/v1/health", env={"QA_CACHE_DIR": str(cache)}, timeout_s=timeout_s)


def _ms(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return round(1000 * xs[min(len(xs) - 1, int(p * len(xs)))], 1) if xs else 0.0


def measure(mb: float = 5.0) -> dict:
    import httpx

    settings = Settings()
    work = Path(tempfile.mkdtemp(prefix="qa-bench-upload-"))
    try:
        docs, index = work / "docs", work / "index"
        shutil.copytree(settings.docs_dir, docs, ignore=shutil.ignore_patterns("__pycache__", ".*"))
        text = big_text(mb)
        data = text.encode("utf-8")
        with qa_server(docs, index, settings.cache_dir) as (proc, url, _):
            def asked(kind: str, q: str) -> float:
                t = time.perf_counter()
                if kind == "search":
                    r = httpx.get(f"{url}/v1/search", params={"q": q}, timeout=120)
                else:
                    r = httpx.post(f"{url}/v1/ask", json={"question": q + "是怎样的？", "model": "extractive"}, timeout=120)
                r.raise_for_status()
                return time.perf_counter() - t

            before = {k: [asked(k, q) for _ in range(5) for q in QUESTIONS] for k in ("search", "ask")}
            t0 = time.perf_counter()
            job = httpx.post(f"{url}/v1/documents", files=[("files", ("法规文件汇编.txt", data))], timeout=120).json()
            accepted_s = time.perf_counter() - t0
            during: dict[str, list[float]] = {"search": [], "ask": []}
            fractions, polls, i = [], [], 0
            while True:
                t = time.perf_counter()
                j = httpx.get(f"{url}/v1/documents/jobs/{job['id']}", timeout=60).json()
                polls.append(time.perf_counter() - t)
                fractions.append((round(time.perf_counter() - t0, 1), j["stage"], j["progress"]["fraction"]))
                if j["state"] in ("done", "failed", "cancelled"):
                    break
                kind = ("search", "ask")[i % 2]
                during[kind].append(asked(kind, QUESTIONS[i % len(QUESTIONS)]))
                i += 1
                time.sleep(0.5)
            total_s = time.perf_counter() - t0
            moves = [f for k, f in enumerate(fractions) if k == 0 or f[2] != fractions[k - 1][2]]
            gaps = [b[0] - a[0] for a, b in zip(moves, moves[1:])]
            result = {
                "document_mb": round(len(data) / 1024 / 1024, 2), "document_chars": len(text),
                "state": j["state"], "error": j.get("error"), "chunks": j["progress"]["chunks"],
                "upload_accepted_s": round(accepted_s, 2), "index_total_s": round(total_s, 1),
                "progress_updates": len(moves), "progress_longest_still_s": round(max(gaps, default=0.0), 1),
                "job_poll_p95_ms": _ms(polls, 0.95),
                **{f"{k}_before_p50_ms": _ms(v, 0.5) for k, v in before.items()},
                **{f"{k}_during_p50_ms": _ms(v, 0.5) for k, v in during.items()},
                **{f"{k}_during_p95_ms": _ms(v, 0.95) for k, v in during.items()},
                "asked_during": sum(len(v) for v in during.values()),
            }
        # Killed mid-embedding: nothing of the second upload may remain, nothing else may change.
        with qa_server(docs, index, settings.cache_dir) as (proc, url, _):
            docs_before, index_before = file_tree(docs), file_tree(index)
            job = httpx.post(f"{url}/v1/documents", files=[("files", ("法规文件汇编_第二份.txt", data))], timeout=120).json()
            while True:
                j = httpx.get(f"{url}/v1/documents/jobs/{job['id']}", timeout=60).json()
                if (j["stage"] == "embed" and j["progress"]["embedded"] > 0) or j["state"] in ("done", "failed"):
                    break
                time.sleep(0.2)
            killed_at = j["progress"]["fraction"]
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(30)
        result.update(killed_at_fraction=killed_at, after_kill_documents_unchanged=file_tree(docs) == docs_before,
                      after_kill_index_unchanged=file_tree(index) == index_before)
        with qa_server(docs, index, settings.cache_dir) as (proc, url, _):
            names = [d["name"] for d in httpx.get(f"{url}/v1/documents", timeout=60).json()["documents"]]
            result["after_restart_documents"] = len(names)
            result["after_restart_search_ok"] = bool(httpx.get(f"{url}/v1/search", params={"q": QUESTIONS[0]},
                                                               timeout=120).json()["hits"])
        return result
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    import json

    print(json.dumps(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
