"""A bounded load test of the HTTP API: N concurrent clients send a fixed mix of requests (search,
extractive answers, model answers) and the latency of each kind is reported.

    from qa.bench.loadtest import run_load
    run_load("http://127.0.0.1:8000", clients=16, requests=200, mix={"search": 90, "extractive": 90, "1.5b": 20})

    python -m qa.bench.loadtest URL [--clients 16] [--requests 200] [--model-share 0.1]

A request that gets 503 (「繁忙，请稍后再试」, the bounded queue) counts as dropped, any other failure
(a status ≥ 400, a broken connection, a timeout) as an error. The mix is deterministic: the same
arguments send the same requests in the same order, so runs compare.

With documents (run_documents_load, `python -m qa.bench --only load`): for a set time the clients
also upload small documents (background jobs) and remove the ones already indexed, against a server
on a copy of the corpus. The first half of the time runs without uploads, the second with them: the
search p95 of both halves is reported, and at the end every document that should be there is there
(uploaded and not removed: listed and on disk; removed: gone) with no 5xx anywhere.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from qa.eval.metrics import percentile

QUESTIONS = Path(__file__).resolve().parents[2] / "questions" / "dev.jsonl"


def questions(path: Path = QUESTIONS) -> list[str]:
    from qa.eval.run import load_questions

    return [q.question for q in load_questions(path) if q.answerable and q.kind != "english"]


def plan(mix: dict[str, int], qs: list[str]) -> list[tuple[str, str]]:
    """(kind, question) for every request, kinds interleaved evenly (not all searches first)."""
    total = sum(mix.values())
    slots = sorted(((i + 0.5) / n, kind) for kind, n in mix.items() for i in range(n))
    return [(kind, qs[j % len(qs)]) for j, (_, kind) in enumerate(slots)][:total]


def one(client, base: str, kind: str, question: str, timeout: float) -> tuple[str, float, int | None, str | None]:
    """(outcome ok|dropped|rate_limited|error, seconds, HTTP status or None when no response came, detail)."""
    t0 = time.perf_counter()
    try:
        if kind == "search":
            r = client.get(f"{base}/v1/search", params={"q": question, "k": 5}, timeout=timeout)
        else:
            r = client.post(f"{base}/v1/ask", json={"question": question, "model": kind}, timeout=timeout)
        dt = time.perf_counter() - t0
        if r.status_code == 503:
            return "dropped", dt, 503, None
        if r.status_code == 429:
            return "rate_limited", dt, 429, None
        if r.status_code != 200:
            return "error", dt, r.status_code, f"{r.status_code} {r.text[:200]}"
        body = r.json()
        if kind != "search" and not body.get("answer"):
            return "error", dt, 200, "empty answer"
        return "ok", dt, 200, None
    except Exception as exc:  # connection refused, reset, timeout
        return "error", time.perf_counter() - t0, None, f"{type(exc).__name__}: {exc}"


def run_load(base: str, clients: int = 16, requests: int = 200, mix: dict[str, int] | None = None,
             qs: list[str] | None = None, timeout: float = 1800) -> dict:
    """Send the mix (kind → number of requests; kinds: search, or a model for /v1/ask) from
    `clients` threads; p50/p95 per kind over successful requests, counts of drops and errors."""
    import httpx

    if mix is None:  # 45% search, 45% extractive, the rest 1.5B answers
        mix = {"search": requests * 45 // 100, "extractive": requests * 45 // 100}
        mix["1.5b"] = requests - sum(mix.values())
    todo = plan(mix, qs or questions())
    lat: dict[str, list[float]] = defaultdict(list)
    outcome: dict[str, dict[str, int]] = defaultdict(lambda: {"ok": 0, "dropped": 0, "error": 0})
    details: list[str] = []
    lock = threading.Lock()
    local = threading.local()

    def task(item: tuple[str, str]) -> None:
        if not hasattr(local, "client"):
            local.client = httpx.Client()
        kind, q = item
        result, dt, _, detail = one(local.client, base.rstrip("/"), kind, q, timeout)
        with lock:
            outcome[kind][result] += 1
            if result == "ok":
                lat[kind].append(dt)
            elif detail:
                details.append(f"{kind}: {detail}")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as ex:
        list(ex.map(task, todo))
    wall = time.perf_counter() - t0
    kinds = {}
    for kind in mix:
        xs = lat[kind]
        kinds[kind] = {**outcome[kind], "p50_s": round(percentile(xs, 50), 3) if xs else None,
                       "p95_s": round(percentile(xs, 95), 3) if xs else None}
    return {"clients": clients, "requests": len(todo), "wall_s": round(wall, 1), "kinds": kinds,
            "errors": sum(o["error"] for o in outcome.values()),
            "dropped": sum(o["dropped"] for o in outcome.values()), "error_details": details[:10]}


# After the clients stop, the upload jobs still running get this long to finish; any left are reported
# as unfinished (a stuck job must not hang the bench).
JOBS_DEADLINE_S = 600

UPLOAD_TEXT = "负载测试文档{n}\n一、基本情况\n第{n}号负载测试文档记载的数字是{v}个。\n"


def run_documents_load(base: str, docs_dir: Path, clients: int = 32, seconds: float = 300, model: str = "1.5b",
                       qs: list[str] | None = None, timeout: float = 600, keys: list[str] | None = None) -> dict:
    """Mixed load with uploads and removals for `seconds` (first half: asks and searches only).
    keys: client w sends keys[w] (each client its own, as the server's per-client limits expect)."""
    import httpx

    def auth(w: int) -> dict:
        return {"Authorization": f"Bearer {keys[w % len(keys)]}"} if keys else {}

    base = base.rstrip("/")
    qs = qs or questions()
    before = {p.name for p in Path(docs_dir).iterdir() if p.is_file()}
    # per 20 requests: 10 searches, 7 extractive answers, 1 model answer, 1 upload, 1 removal
    cycle = ["search", "extractive", "search", "extractive", "search", model, "search", "extractive", "search", "upload",
             "search", "extractive", "search", "extractive", "search", "remove", "search", "extractive", "search", "extractive"]
    lock = threading.Lock()
    lat: dict[tuple[str, int], list[float]] = defaultdict(list)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    details: list[str] = []
    uploaded: list[str] = []
    removed: set[str] = set()
    jobs: list[str] = []
    seq = iter(range(10 ** 9))
    t0 = time.perf_counter()
    half = t0 + seconds / 2

    def record(kind: str, phase: int, result: str, dt: float, status: int | None, detail: str | None = None) -> None:
        with lock:
            counts[kind][result] += 1
            if status is not None and status >= 500 and status != 503:
                counts[kind]["5xx"] += 1
            if result == "ok":
                lat[(kind, phase)].append(dt)
            elif detail and len(details) < 20:
                details.append(f"{kind}: {detail}")

    def worker(w: int) -> None:
        client = httpx.Client(headers=auth(w))
        i = w
        while time.perf_counter() - t0 < seconds:
            phase = 0 if time.perf_counter() < half else 1
            kind = cycle[i % len(cycle)]
            i += clients
            if phase == 0 and kind in ("upload", "remove"):
                kind = "search"
            q = qs[i % len(qs)]
            t = time.perf_counter()
            try:
                if kind == "upload":
                    n = next(seq)
                    name = f"负载测试{n}.txt"
                    r = client.post(f"{base}/v1/documents", timeout=timeout,
                                    files={"files": (name, UPLOAD_TEXT.format(n=n, v=n * 7 + 3).encode(), "text/plain")})
                    if r.status_code == 202:
                        with lock:
                            uploaded.append(name)
                            jobs.append(r.json()["id"])
                    record(kind, phase, "ok" if r.status_code == 202 else "error", time.perf_counter() - t, r.status_code,
                           None if r.status_code == 202 else f"{r.status_code} {r.text[:200]}")
                    continue
                if kind == "remove":
                    with lock:
                        name = next((u for u in uploaded if u not in removed), None)
                        if name:
                            removed.add(name)   # claimed by this worker
                    if name is None:
                        record(kind, phase, "skipped", 0.0, None)
                        continue
                    r = client.delete(f"{base}/v1/documents/{name}", timeout=timeout)
                    if r.status_code != 200:
                        with lock:
                            removed.discard(name)   # not indexed yet (404): another worker may try later
                    result = "ok" if r.status_code == 200 else "skipped" if r.status_code in (404, 409) else "error"
                    record(kind, phase, result, time.perf_counter() - t, r.status_code,
                           None if result != "error" else f"{r.status_code} {r.text[:200]}")
                    continue
                result, dt, status, detail = one(client, base, kind, q, timeout)
                record(kind, phase, result, dt, status, detail)
            except Exception as exc:
                record(kind, phase, "error", time.perf_counter() - t, None, f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    client = httpx.Client(headers=auth(0))
    states = {}
    deadline = time.perf_counter() + JOBS_DEADLINE_S
    for job in jobs:   # every upload job to its end, or reported as unfinished
        while True:
            st = client.get(f"{base}/v1/documents/jobs/{job}", timeout=60).json()
            if st["state"] in ("done", "failed", "cancelled") or time.perf_counter() > deadline:
                states[job] = st
                break
            time.sleep(0.5)
    accepted = {n for st in states.values() if st["state"] == "done" for n in st["accepted"]}
    listed = {d["name"] for d in client.get(f"{base}/v1/documents", timeout=60).json()["documents"]}
    on_disk = {p.name for p in Path(docs_dir).iterdir() if p.is_file()}
    expected = (before | accepted) - removed
    search = {ph: lat[("search", ph)] for ph in (0, 1)}
    p95 = {ph: round(percentile(xs, 95), 3) if xs else None for ph, xs in search.items()}
    return {
        "clients": clients, "seconds": round(wall, 1),
        "kinds": {k: dict(v) for k, v in counts.items()},
        "search_p95_s": {"without_uploads": p95[0], "with_uploads": p95[1],
                         "ratio": round(p95[1] / p95[0], 2) if p95[0] and p95[1] else None},
        "p50_s": {k: round(percentile(lat[(k, 1)] + lat[(k, 0)], 50), 3) for k in counts if lat[(k, 0)] or lat[(k, 1)]},
        "uploads": {"sent": len(uploaded), "indexed": len(accepted), "removed": len(removed),
                    "failed_jobs": sum(st["state"] == "failed" for st in states.values()),
                    "unfinished_jobs": sum(st["state"] in ("queued", "running") for st in states.values())},
        "server_5xx": sum(v.get("5xx", 0) for v in counts.values()),
        "dropped_503": sum(v.get("dropped", 0) for v in counts.values()),
        "rate_limited_429": sum(v.get("rate_limited", 0) for v in counts.values()),
        "lost_documents": sorted(expected - listed) + sorted(n for n in expected - on_disk if n not in listed),
        "unexpected_documents": sorted((listed | on_disk) - expected),
        "error_details": details,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qa.bench.loadtest")
    ap.add_argument("url")
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--model", default="1.5b", help="模型回答使用的模型")
    ap.add_argument("--model-share", type=float, default=0.1, help="模型回答占请求的比例")
    a = ap.parse_args(argv)
    n_model = round(a.requests * a.model_share)
    n_search = (a.requests - n_model) // 2
    mix = {"search": n_search, "extractive": a.requests - n_model - n_search, a.model: n_model}
    print(json.dumps(run_load(a.url, a.clients, a.requests, mix), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
