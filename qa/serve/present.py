"""Answers and search hits as JSON: the one shape the command line (--json) and the HTTP API give."""
from __future__ import annotations


def hit_json(h) -> dict:
    c = h.chunk
    return {
        "rank": h.rank, "doc": c.doc, "para": c.para_ids[0], "paras": list(c.para_ids),
        "section": c.section_path, "title": c.title, "score": round(h.score, 5),
        "dense": None if h.dense is None else round(h.dense, 4),
        "bm25": None if h.bm25 is None else round(h.bm25, 3), "text": c.text,
    }


def answer_json(ans) -> dict:
    return {
        "question": ans.question,
        "standalone": ans.standalone,
        "answer": ans.text,
        "abstained": ans.abstained,
        "model": ans.model,
        "citations": [{"n": c.n, "doc": c.doc, "para": c.para, "section": c.section, "title": c.title,
                       "text": c.text, "quote": c.quote, "span": list(c.span), "lines": list(c.lines), "page": c.page}
                      for c in ans.citations],
        "claims": [{"text": c.text, "citations": list(c.citations), "supported": c.supported} for c in ans.claims],
        "repairs": ans.repairs,
        "notices": ans.notices,
        "retrieved": [hit_json(h) for h in ans.hits],
        "latency_s": ans.latency,
    }
