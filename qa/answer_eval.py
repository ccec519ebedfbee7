"""Answer-level evaluation (python -m qa.eval without --retrieval-only)."""
from __future__ import annotations

import sys
import time

from tqdm import tqdm

from .cite import number_consistency
from .normalize import compact
from .eval import Question, contains_quote, percentile


def answer_correct(answer: str, acceptable: tuple[str, ...]) -> bool:
    a = compact(answer)
    return any(compact(x) in a for x in acceptable)


def run_answers(engine, questions: list[Question], results: list[dict], answerer=None) -> tuple[list[dict], dict]:
    from .service import load_answerer

    answerer = answerer or load_answerer(engine)
    by_id = {r["id"]: r for r in results}
    correct = cite_hit = cite_total = cite_good = nums_ok = nums_total = 0
    refuse_ok = false_refusals = n_answerable = n_unanswerable = 0
    lat_total, lat_first = [], []
    for q in tqdm(questions, desc=f"问答 {answerer.model_name}", file=sys.stderr):
        t0 = time.perf_counter()
        ans = answerer.answer(q.question)
        dt = time.perf_counter() - t0
        lat_total.append(dt)
        if "first_token" in ans.latency:
            lat_first.append(ans.latency["first_token"])
        row = by_id.setdefault(q.id, {"id": q.id, "question": q.question})
        cits = [{"n": c.n, "doc": c.doc, "para": c.para, "section": c.section, "text": c.text, "quote": c.quote}
                for c in ans.citations]
        gold_cited = [any(c.doc == d and contains_quote(c.text, quote) for d, quote in q.evidence) for c in ans.citations]
        row.update(answer=ans.text, abstained=ans.abstained, citations=cits, standalone=ans.standalone,
                   repairs=ans.repairs, latency_s={**ans.latency, "wall": round(dt, 3)},
                   correct=answer_correct(ans.text, q.answers) if q.answerable else ans.abstained)
        if q.answerable:
            n_answerable += 1
            correct += row["correct"]
            false_refusals += ans.abstained
            if not ans.abstained:
                cite_hit += any(gold_cited)
                cite_total += 1
                cite_good += sum(gold_cited)
                ok, total = number_consistency(ans.text, ans.citations)
                nums_ok += ok
                nums_total += total
            row["citation_hit"] = any(gold_cited)
        else:
            n_unanswerable += 1
            refuse_ok += ans.abstained
    n_cit = sum(len(by_id[q.id]["citations"]) for q in questions if q.answerable and not by_id[q.id]["abstained"])
    summary = {
        "model": answerer.model_name,
        "answer_accuracy": round(correct / max(n_answerable, 1), 4),
        "citation_hit_rate": round(cite_hit / max(n_answerable, 1), 4),
        "citation_precision": round(cite_good / max(n_cit, 1), 4),
        "numbers_in_cited_passages": round(nums_ok / nums_total, 4) if nums_total else 1.0,
        "refusal_accuracy": round(refuse_ok / max(n_unanswerable, 1), 4),
        "false_refusal_rate": round(false_refusals / max(n_answerable, 1), 4),
        "answer_latency_s": {
            "p50": round(percentile(lat_total, 50), 3), "p95": round(percentile(lat_total, 95), 3),
            "first_token_p50": round(percentile(lat_first, 50), 3), "first_token_p95": round(percentile(lat_first, 95), 3),
        },
    }
    return [by_id[q.id] for q in questions], summary
