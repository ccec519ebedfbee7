"""Answer one evaluation question and record what the metrics need (python -m qa.eval with a model)."""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .cite import number_consistency
from .metrics import has_gold
from .normalize import compact

if TYPE_CHECKING:
    from .answer import Answerer
    from .eval import Question


def answer_correct(answer: str, acceptable: tuple[str, ...]) -> bool:
    a = compact(answer)
    return any(compact(x) in a for x in acceptable)


def answer_fields(answerer: "Answerer", q: "Question") -> dict:
    """The answer part of a result row (its latency_s is merged with the row's search latency)."""
    t0 = time.perf_counter()
    ans = answerer.answer(q.question)
    wall = time.perf_counter() - t0
    ok, total = number_consistency(ans.text, ans.citations)
    return {
        "model": answerer.model_name,
        "answer": ans.text,
        "abstained": ans.abstained,
        # An unanswerable question is answered correctly by refusing.
        "correct": answer_correct(ans.text, q.answers) if q.answerable else ans.abstained,
        "citations": [{"n": c.n, "doc": c.doc, "para": c.para, "section": c.section, "text": c.text, "quote": c.quote}
                      for c in ans.citations],
        "gold_cited": [has_gold(c.doc, c.text, q.evidence) for c in ans.citations],
        "numbers": [ok, total],
        "standalone": ans.standalone,
        "repairs": ans.repairs,
        "latency_s": {**ans.latency, "wall": round(wall, 3)},
    }
