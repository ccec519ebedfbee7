"""Search time on one corpus, an older commit's retriever against the current one, on one machine.

    python tools/search_speed.py [--old b6b0628] [--docs seeds] [--questions questions/dev.jsonl] [--rounds 6]

The older commit's `qa/` and `embeddings/` are extracted with `git archive` into a temporary folder
(no worktree, nothing in the project changes) and given their own cache folder, so their index
format never meets the current one. Each round starts one process per side, old and new in turn,
so that load from other work on the machine falls on both alike. A process opens its engine, warms
every mode once, encodes every question once (query vectors cached: the encoder is the same model
on both sides, and its time is not the retriever's), then times every question in each mode.
Printed: p50 / p95 per mode and side, and the ratio of the p50s. Default old commit: the last one
before the retrieval that scales (bm25s, FAISS top-n, columnar index), i.e. rank_bm25 and a FAISS
search over every vector.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MODES = ("hybrid", "bm25", "dense")

# Runs inside each side's own tree (sys.path[0]); uses only the API both sides share.
CHILD = r"""
import json, sys, time
from pathlib import Path
from qa.settings import Settings
from qa.retrieval.engine import Engine
docs, cache, qfile, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
kw = {"docs_dir": Path(docs)}
if cache != "-":
    kw["cache_dir"] = Path(cache)
engine = Engine.open(Settings(**kw))
questions = [json.loads(l)["question"] for l in open(qfile, encoding="utf-8") if l.strip()]
enc = engine.encoder
memo, encode = {}, enc.encode_queries
def cached(texts, *a, **kw):
    key = tuple(texts)
    if key not in memo:
        memo[key] = encode(texts, *a, **kw)
    return memo[key]
enc.encode_queries = cached
for mode in ("hybrid", "bm25", "dense"):
    engine.search("预热", k=k, mode=mode)
for q in questions:
    engine.search(q, k=k, mode="dense")          # fills the query-vector cache
out = {}
for mode in ("hybrid", "bm25", "dense"):
    times = []
    for q in questions:
        t = time.perf_counter()
        engine.search(q, k=k, mode=mode)
        times.append((time.perf_counter() - t) * 1000)
    out[mode] = times
print(json.dumps(out))
"""


def run_side(tree: Path, docs: Path, cache: str, questions: Path, k: int) -> dict[str, list[float]]:
    res = subprocess.run([sys.executable, "-c", CHILD, str(docs), cache, str(questions), str(k)],
                         cwd=tree, capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", default="b6b0628", help="commit whose retriever is the baseline")
    ap.add_argument("--docs", type=Path, default=ROOT / "seeds")
    ap.add_argument("--questions", type=Path, default=ROOT / "questions" / "dev.jsonl")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("-k", type=int, default=5)
    a = ap.parse_args(argv)
    docs, questions = a.docs.resolve(), a.questions.resolve()
    with tempfile.TemporaryDirectory(prefix="search-speed-") as tmp:
        old = Path(tmp) / "old"
        old.mkdir()
        archive = subprocess.run(["git", "archive", a.old, "qa", "embeddings"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        sides = {"old": (old, str(Path(tmp) / "cache")), "new": (ROOT, "-")}
        times: dict[str, dict[str, list[float]]] = {s: {m: [] for m in MODES} for s in sides}
        for r in range(a.rounds):
            for side, (tree, cache) in sides.items():
                got = run_side(tree, docs, cache, questions, a.k)
                for m in MODES:
                    times[side][m].extend(got[m])
            print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    n = len(times["new"]["hybrid"])
    print(f"{docs.name}: {n} searches per mode and side ({a.rounds} rounds), old = {a.old}, new = working tree")
    print(f"{'mode':<8} {'old p50/p95 ms':>16} {'new p50/p95 ms':>16}  new/old p50")
    for m in MODES:
        o, w = np.percentile(times["old"][m], [50, 95]), np.percentile(times["new"][m], [50, 95])
        print(f"{m:<8} {o[0]:>7.3f} / {o[1]:<6.3f} {w[0]:>7.3f} / {w[1]:<6.3f}  {w[0] / o[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
