"""Evaluation metrics: pure functions of result rows (one row per question and configuration, as
stored in results.jsonl), so every figure in summary.json and report.html can be recomputed from
that file alone. Definitions: docs/evaluation.md "Metrics".

A retrieved passage is a hit when it belongs to the evidence document and contains its gold quote
after normalization (whitespace removed, full-width → half-width, traditional → simplified), as
written or in the cell reading of its table rows (cell_reading).
"""
from __future__ import annotations

import re
import statistics
from typing import Iterable, Mapping

from qa.text.normalize import compact

MODES = ("hybrid", "bm25", "dense")
RECALL_DEPTH = 10  # recall@1…10 is reported whatever top-k the answerer sees
# Failed checks of a row, in the order the report lists them, with their user-facing names.
CHECKS = {
    "retrieval_miss": "检索未命中",
    "wrong_answer": "答案错误",
    "bad_citation": "引用未含标准出处",
    "false_refusal": "误拒（可回答却拒答）",
    "missed_refusal": "漏拒（不可回答却作答）",
}
# Nested latency blocks and the recall curve are flattened into gate names ("answer_latency_s.p95").
_FLATTENED = ("recall_curve", "latency_s", "answer_latency_s")
_DESCRIPTORS = ("config", "mode", "k", "model")  # what a summary says about its configuration: not metrics


_ROW_TITLE = re.compile(r"^【[^】]*】")
_FIGURE_WITH_UNIT = re.compile(r"^\s*([-+−]?\d[\d,，]*(?:\.\d+)?)\D{1,4}$")


def _after_name(cell: str) -> str:
    """「列名：值」 → 值; the name may hold a colon in brackets (「金额（单位：万元）：7.5」)."""
    depth = 0
    for i, ch in enumerate(cell):
        depth += ch in "（(" and 1 or ch in "）)" and -1 or 0
        if ch == "：" and depth == 0:
            return cell[i + 1:]
    return cell


def cell_reading(passage: str) -> str:
    """Table rows rendered 「【表名】列名：值；列名：值」 read as the source prints them: the values side by
    side, a figure without the unit it carries from its table's 「单位：万元」. A gold quote copied from
    the printed table (「行政事业性收费7730.28」) stands in this reading, not in the rendering."""
    out = []
    for line in passage.split("\n"):
        values = []
        for part in _ROW_TITLE.sub("", line).split("；"):
            value = _after_name(part)
            m = _FIGURE_WITH_UNIT.match(value)
            values.append(m.group(1) if m else value)
        out.append("".join(values))
    return "\n".join(out)


def contains_quote(passage: str, quote: str) -> bool:
    q = compact(quote)
    return q in compact(passage) or q in compact(cell_reading(passage))


def field_lines(meta_text: str, source: str) -> str:
    """The lines of a document's source that its metadata paragraph's fields were read from.

    The metadata paragraph `#0` is written as 「字段：值」 lines, not copied from the document, while a
    gold quote is a line of the source (「2014年3月5日在第十二届全国人民代表大会第二次会议上」,
    「（厅字﹝2019﹞33号）」): the paragraph holds a quote that stands in a line one of its values came
    from. Each value (a 沿革 of several lines split at 「；」) takes the first source line holding it."""
    lines = [compact(ln) for ln in source.split("\n")]
    values = [compact(v) for ln in meta_text.split("\n") for v in re.split("[；;]", ln.partition("：")[2])]
    found = {next((i for i, ln in enumerate(lines) if v in ln), None) for v in values if v}
    return "\n".join(lines[i] for i in sorted(i for i in found if i is not None))


def with_source(text: str, para_id: str, sources: Mapping[str, str]) -> str:
    """What the evidence check reads of a paragraph: its text, and for a metadata paragraph the source
    lines its fields were read from (field_lines)."""
    return f"{text}\n{sources[para_id]}" if para_id in sources else text


def has_gold(doc: str, text: str, evidence: Iterable[tuple[str, str]]) -> bool:
    return any(doc == d and contains_quote(text, q) for d, q in evidence)


def hit_rank(passages: list[tuple[str, str]], evidence: tuple[tuple[str, str], ...]) -> int | None:
    """1-based rank of the first (doc, text) passage containing any gold quote of that doc."""
    for rank, (doc, text) in enumerate(passages, 1):
        if has_gold(doc, text, evidence):
            return rank
    return None


def evidence_coverage(passages: list[tuple[str, str]], evidence: tuple[tuple[str, str], ...]) -> float:
    found = sum(any(doc == d and contains_quote(t, q) for doc, t in passages) for d, q in evidence)
    return found / len(evidence) if evidence else 0.0


def ratio(num: float, den: float) -> float | None:
    """None when nothing was measured (no question of that type), so a gate cannot pass vacuously."""
    return round(num / den, 4) if den else None


def percentile(xs: list[float], p: float) -> float:
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * (len(xs) - 1))))]


def _percentiles(xs: list[float], prefix: str = "") -> dict[str, float | None]:
    return {f"{prefix}{name}": round(percentile(xs, p), 4) if xs else None for name, p in (("p50", 50), ("p95", 95))}


def within(rank: int | None, k: int) -> int | None:
    return rank if rank is not None and rank <= k else None


def retrieval_metrics(rows: list[dict], k: int) -> dict:
    """rows: {"kind", "rank" (int|None, within the top k), "coverage"} for answerable questions only."""
    def block(rs: list[dict]) -> dict:
        n = len(rs)
        return {
            "n": n,
            "recall@1": ratio(sum(r["rank"] == 1 for r in rs), n),
            f"recall@{k}": ratio(sum(r["rank"] is not None and r["rank"] <= k for r in rs), n),
            "mrr": ratio(sum(1 / r["rank"] for r in rs if r["rank"]), n),
            f"evidence_recall@{k}": ratio(sum(r["coverage"] for r in rs), n),
        }
    out = block(rows)
    out["by_kind"] = {kind: block([r for r in rows if r["kind"] == kind]) for kind in sorted({r["kind"] for r in rows})}
    return out


def answer_metrics(rows: list[dict]) -> dict:
    """Rows that carry an answer (configurations with a model)."""
    answerable = [r for r in rows if r["answerable"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    answered = [r for r in answerable if not r["abstained"]]
    first = [r["latency_s"]["first_token"] for r in rows if "first_token" in r["latency_s"]]
    kinds = sorted({r["kind"] for r in rows})
    return {
        "answer_accuracy": ratio(sum(r["correct"] for r in answerable), len(answerable)),
        "citation_hit_rate": ratio(sum(any(r["gold_cited"]) for r in answered), len(answerable)),
        "citation_precision": ratio(sum(sum(r["gold_cited"]) for r in answered), sum(len(r["gold_cited"]) for r in answered)),
        "numbers_in_cited_passages": ratio(sum(r["numbers"][0] for r in answered), sum(r["numbers"][1] for r in answered)),
        # The same on the model's own text before verification: this one can fail.
        "raw_numbers_in_cited_passages": ratio(sum(r.get("raw_numbers", (0, 0))[0] for r in rows),
                                               sum(r.get("raw_numbers", (0, 0))[1] for r in rows)),
        "sentences_deleted": sum(len(r.get("deleted", ())) for r in rows),
        "sentences_marked": sum(len(r.get("marked", ())) for r in rows),
        # Share of answerable questions where verification removed a sentence holding an acceptable answer.
        "deleted_acceptable_rate": ratio(sum(bool(r.get("deleted_correct")) for r in answerable), len(answerable)),
        # Share of answerable questions whose acceptable raw answer verification turned into a wrong
        # answer or a refusal (deleted, or marked unsupported): the verification error the issue bounds.
        "lost_acceptable_rate": ratio(sum(bool(r.get("lost_correct")) for r in answerable), len(answerable)),
        # Raw (the model's text) against final (after the checks), beside the right raw answers lost
        # (lost_acceptable_rate): a wrong raw answer the checks passed, or stopped with a refusal.
        "verify_passed_wrong_rate": ratio(sum(r.get("raw_correct") is False and not r["abstained"] and not r["correct"]
                                              for r in answerable), len(answerable)),
        "verify_stopped_wrong": sum(r.get("raw_correct") is False and r["abstained"] for r in rows),
        "wrong_answer_rate": ratio(sum(not r["abstained"] and not r["correct"] for r in rows), len(rows)),
        "refusal_accuracy": ratio(sum(r["abstained"] for r in unanswerable), len(unanswerable)),
        "false_refusal_rate": ratio(sum(r["abstained"] for r in answerable), len(answerable)),
        "answer_latency_s": {**_percentiles([r["latency_s"]["wall"] for r in rows]),
                             **_percentiles(first, "first_token_")},
        # "correct" of an unanswerable question is its refusal, so every kind has an accuracy.
        "answer_by_kind": {kind: {"n": len(rs), "accuracy": ratio(sum(r["correct"] for r in rs), len(rs))}
                           for kind in kinds for rs in [[r for r in rows if r["kind"] == kind]]},
    }


def summarize(rows: list[dict], k: int, with_answers: bool) -> dict:
    """All figures of one configuration from its rows (one per question)."""
    answerable = [r for r in rows if r["answerable"]]

    def ranked(rank_of, depth: int) -> list[dict]:
        return [{"kind": r["kind"], "rank": within(rank_of(r), depth), "coverage": r["coverage"]} for r in answerable]

    def own(r: dict) -> int | None:
        return r["hit_rank"]

    out = {
        "questions": len(rows),
        "recall_curve": {f"recall@{n}": retrieval_metrics(ranked(own, n), n)[f"recall@{n}"]
                         for n in range(1, RECALL_DEPTH + 1)},
        **retrieval_metrics(ranked(own, k), k),
    }
    out["modes"] = {m: {key: s[key] for key in ("recall@1", f"recall@{k}", "mrr")}
                    for m in MODES for s in [retrieval_metrics(ranked(lambda r: r["mode_ranks"][m], k), k)]}
    out["latency_s"] = _percentiles([r["latency_s"]["search"] for r in rows])
    out["time_per_question_s"] = round(statistics.fmean(r["time_s"] for r in rows), 4) if rows else None
    if with_answers:
        out.update(answer_metrics(rows))
    return out


def gate_metrics(summary: dict) -> dict[str, float | None]:
    """The flat name → value view of a configuration's summary that --min/--max and the report use."""
    out: dict[str, float | None] = {}
    for key, value in summary.items():
        if key in _FLATTENED:
            out.update({sub if key == "recall_curve" else f"{key}.{sub}": v for sub, v in value.items()})
        elif not isinstance(value, dict) and key not in _DESCRIPTORS:
            out[key] = value
    return out


def metric_names(k: int, with_answers: bool) -> list[str]:
    return list(gate_metrics(summarize([], k, with_answers)))


def failed_checks(row: dict, k: int) -> list[str]:
    """Which checks of CHECKS one result row fails (empty: the question passed)."""
    has_answer = "answer" in row
    answered = has_answer and not row["abstained"]
    if row["answerable"]:
        failed = {
            "retrieval_miss": within(row["hit_rank"], k) is None,
            "wrong_answer": answered and not row["correct"],
            "bad_citation": answered and not any(row["gold_cited"]),
            "false_refusal": has_answer and row["abstained"],
        }
    else:
        failed = {"missed_refusal": answered}
    return [name for name in CHECKS if failed.get(name)]
