"""A bounded load test of the HTTP API: N concurrent clients send a fixed mix of requests (search,
extractive answers, model answers) and the latency of each kind is reported.

    from qa.bench.loadtest import run_load
    run_load("http://127.0.0.1:8000", clients=16, requests=200, mix={"search": 90, "extractive": 90, "1.5b": 20})

    python -m qa.bench.loadtest URL [--clients 16] [--requests 200] [--model-share 0.1]

A request that gets 503 (「繁忙，请稍后再试」, the bounded queue) counts as dropped, any other failure
(a status ≥ 400, a broken connection, a timeout) as an error. The mix is deterministic: the same
arguments send the same requests in the same order, so runs compare.
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


def one(client, base: str, kind: str, question: str, timeout: float) -> tuple[str, float, str | None]:
    """(outcome ok|dropped|error, seconds, detail)."""
    t0 = time.perf_counter()
    try:
        if kind == "search":
            r = client.get(f"{base}/v1/search", params={"q": question, "k": 5}, timeout=timeout)
        else:
            r = client.post(f"{base}/v1/ask", json={"question": question, "model": kind}, timeout=timeout)
        dt = time.perf_counter() - t0
        if r.status_code == 503:
            return "dropped", dt, None
        if r.status_code != 200:
            return "error", dt, f"{r.status_code} {r.text[:200]}"
        body = r.json()
        if kind != "search" and not body.get("answer"):
            return "error", dt, "empty answer"
        return "ok", dt, None
    except Exception as exc:  # connection refused, reset, timeout
        return "error", time.perf_counter() - t0, f"{type(exc).__name__}: {exc}"


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
        result, dt, detail = one(local.client, base.rstrip("/"), kind, q, timeout)
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
