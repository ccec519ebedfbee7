"""Scripted evaluation on a question set (JSON lines; see questions/dev.jsonl).

  python -m qa.eval --questions questions/dev.jsonl --out runs/dev --retrieval-only [-k 5] [--mode hybrid]

A retrieved passage is a hit when it contains a gold quote after normalization
(whitespace removed, full-width → half-width, traditional → simplified).
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .normalize import compact
from .settings import Settings

MODES = ("hybrid", "bm25", "dense")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[tuple[str, str], ...]  # (doc, quote)
    answerable: bool
    kind: str


def load_questions(path: Path) -> list[Question]:
    out = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
            out.append(Question(
                str(o["id"]), o["question"], tuple(o.get("answers", [])),
                tuple((e["doc"], e["quote"]) for e in o.get("evidence", [])),
                bool(o.get("answerable", True)), o.get("kind", ""),
            ))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path}:{n}: 问题格式错误：{exc}") from exc
    return out


def contains_quote(passage: str, quote: str) -> bool:
    return compact(quote) in compact(passage)


def hit_rank(passages: list[tuple[str, str]], evidence: tuple[tuple[str, str], ...]) -> int | None:
    """1-based rank of the first (doc, text) passage containing any gold quote of that doc."""
    for rank, (doc, text) in enumerate(passages, 1):
        if any(doc == d and contains_quote(text, q) for d, q in evidence):
            return rank
    return None


def evidence_coverage(passages: list[tuple[str, str]], evidence: tuple[tuple[str, str], ...]) -> float:
    found = sum(any(doc == d and contains_quote(t, q) for doc, t in passages) for d, q in evidence)
    return found / len(evidence) if evidence else 0.0


def retrieval_metrics(rows: list[dict], k: int) -> dict:
    """rows: {"kind", "rank" (int|None), "coverage"} for answerable questions only."""
    def block(rs: list[dict]) -> dict:
        n = len(rs)
        if not n:
            return {"n": 0}
        return {
            "n": n,
            "recall@1": round(sum(r["rank"] == 1 for r in rs) / n, 4),
            f"recall@{k}": round(sum(r["rank"] is not None and r["rank"] <= k for r in rs) / n, 4),
            "mrr": round(sum(1 / r["rank"] for r in rs if r["rank"]) / n, 4),
            f"evidence_recall@{k}": round(sum(r["coverage"] for r in rs) / n, 4),
        }
    out = block(rows)
    out["by_kind"] = {kind: block([r for r in rows if r["kind"] == kind]) for kind in sorted({r["kind"] for r in rows})}
    return out


def percentile(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def run_retrieval(engine, questions: list[Question], k: int, mode: str, progress: bool = True) -> tuple[list[dict], dict]:
    results, metric_rows, lat = [], [], []
    for q in tqdm(questions, desc=f"检索 {mode}", disable=not progress, file=sys.stderr):
        t0 = time.perf_counter()
        hits = engine.search(q.question, k=k, mode=mode)
        dt = time.perf_counter() - t0
        lat.append(dt)
        passages = [(h.chunk.doc, h.chunk.text) for h in hits]
        rank = hit_rank(passages, q.evidence) if q.answerable else None
        results.append({
            "id": q.id, "question": q.question, "kind": q.kind, "answerable": q.answerable, "hit_rank": rank,
            "retrieved": [{"doc": h.chunk.doc, "para": h.chunk.para_ids[0], "section": h.chunk.section_path,
                           "text": h.chunk.text, "score": round(h.score, 5),
                           "dense": h.dense, "bm25": h.bm25} for h in hits],
            "latency_s": round(dt, 4),
        })
        if q.answerable:
            metric_rows.append({"kind": q.kind, "rank": rank, "coverage": evidence_coverage(passages, q.evidence)})
    summary = retrieval_metrics(metric_rows, k)
    summary["latency_s"] = {"p50": round(percentile(lat, 50), 4), "p95": round(percentile(lat, 95), 4)}
    return results, summary


def _write(out: Path, results: list[dict], summary: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m qa.eval", description="在问题集上评测检索与问答")
    ap.add_argument("--questions", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--retrieval-only", action="store_true")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--mode", choices=MODES, default="hybrid")
    ap.add_argument("--docs")
    ap.add_argument("--model", help="1.5b | 0.5b | extractive | 模型路径")
    ap.add_argument("--limit", type=int, help="只评测前 N 个问题")
    args = ap.parse_args(argv)

    from .engine import Engine

    questions = load_questions(args.questions)[: args.limit]
    settings = Settings.load(docs_dir=args.docs, top_k=args.k, mode=args.mode, llm=args.model)
    engine = Engine.open(settings, progress=lambda m: print(m, file=sys.stderr))
    results, summary = run_retrieval(engine, questions, args.k, args.mode)
    summary = {"mode": args.mode, "k": args.k, "questions": len(questions), **summary}
    comparison = {args.mode: summary}
    for other in MODES:
        if other != args.mode:
            comparison[other] = run_retrieval(engine, questions, args.k, other, progress=False)[1]
    summary["modes"] = {m: {key: s[key] for key in ("recall@1", f"recall@{args.k}", "mrr")} for m, s in comparison.items()}
    if not args.retrieval_only:
        from .answer_eval import run_answers  # added with the generator

        results, answer_summary = run_answers(engine, questions, results)
        summary.update(answer_summary)
    _write(args.out, results, summary)

    print(f"\n检索评测（k={args.k}，{sum(q.answerable for q in questions)} 个可回答问题）")
    print(f"{'模式':<8}{'R@1':>8}{f'R@{args.k}':>8}{'MRR':>8}")
    for m in MODES:
        s = summary["modes"][m]
        print(f"{m:<8}{s['recall@1']:>8.3f}{s[f'recall@{args.k}']:>8.3f}{s['mrr']:>8.3f}")
    print(f"\n按类型（{args.mode}）：")
    for kind, s in summary["by_kind"].items():
        print(f"  {kind:<12} n={s['n']:<3} R@1={s['recall@1']:.2f}  R@{args.k}={s[f'recall@{args.k}']:.2f}")
    print(f"\n结果已写入 {args.out}/results.jsonl 和 summary.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
