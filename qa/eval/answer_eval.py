"""Answer one evaluation question and record what the metrics need (python -m qa.eval with a model)."""
from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Mapping

from qa.verify.cite import number_consistency, raw_number_consistency
from qa.verify.claims import MARKER, is_refusal
from qa.text.figures import figures, same_figure
from qa.eval.metrics import has_gold, with_source
from qa.text.normalize import compact

if TYPE_CHECKING:
    from qa.answering.answer import Answerer
    from qa.schema import Answer
    from qa.eval.questions import Question


# What may stand between the figures of a gold answer that is only figures: range marks and units
# ("2018－2022", "三年", "1269万").
_FIGURE_GLUE = re.compile(r"[\s\-－—~～至到年月日%‰个名人位户元万亿]+")


def _figures_only(gold: str) -> bool:
    rest = gold
    for f in reversed(figures(gold)):
        rest = rest[:f.start] + rest[f.end:]
    return bool(figures(gold)) and not _FIGURE_GLUE.sub("", rest)


def _contains(answer: str, gold: str) -> bool:
    """`gold` stands in `answer`, or, for a gold answer that is only figures, each of its figures is
    written in the answer in any writing of the same value ("2018年至2022年" for "2018－2022", "3年"
    for "三年", "1269万人" for "一千二百六十九万人")."""
    a, g = compact(answer), compact(gold)
    if g in a:
        return True
    if not _figures_only(g):
        return False
    got = figures(compact(MARKER.sub("", answer)))   # "[3]" is a citation, not the figure 3
    return all(any(same_figure(f, h) and not h.approx for h in got) for f in figures(g))


# The plain no and yes of a yes-or-no question: one such word in the gold answers (「否」, 「不能」) and an
# answer that opens with a word of the same side (「不可以」) say the same, however either is worded.
_NO = re.compile(r"(?:否|不|不是|不能|不可以|不可|不行|不会|不允许|不得|不需要|不用|不必|没有)(?=$|[，,。；;、！!\[])")
_YES = re.compile(r"(?:是|可以|能|能够|会|允许|需要|行|应当|必须)(?=$|[，,。；;、！!\[])")


def _polarity(text: str) -> str | None:
    t = compact(text)
    return "no" if _NO.match(t) else "yes" if _YES.match(t) else None


def _bare(gold: str) -> str | None:
    """The side of a gold answer that is only a plain yes or no (「否」, 「不能」, 「是」)."""
    t = compact(gold)
    return "no" if _NO.fullmatch(t) else "yes" if _YES.fullmatch(t) else None


def _matches(answer: str, gold: str) -> bool:
    side = _bare(gold)
    said = _polarity(answer)
    if side and said:
        return said == side
    return _contains(answer, gold)


def answer_correct(answer: str, acceptable: tuple[str, ...], every: tuple[tuple[str, ...], ...] = ()) -> bool:
    """Contains one of `acceptable` (when given) and, for each part of `every`, one of its writings:
    a multi-part question answered in part is wrong. A gold answer that is only a plain yes or no
    (「否」) is matched by an answer that opens with a plain yes or no of the same side (「不可以，…」),
    and not by one that opens with the other (「是」 in 「不是，…」)."""
    if acceptable and not any(_matches(answer, x) for x in acceptable):
        return False
    return all(any(_matches(answer, x) for x in part) for part in every) and bool(acceptable or every)


def raw_verdict(raw: str, q: "Question") -> bool | None:
    """Whether the generator's text, before any check, answers right (an unanswerable question: refuses);
    None when nothing was generated (refused before the model, or answered from a recorded field)."""
    if not raw:
        return None
    if not q.answerable:
        return is_refusal(raw)
    return not is_refusal(raw) and answer_correct(raw, q.answers, q.answers_all)


def final_verdict(ans: "Answer", q: "Question") -> bool:
    """Whether the presented answer is right (an unanswerable question: refused)."""
    return answer_correct(ans.text, q.answers, q.answers_all) if q.answerable else ans.abstained


def answer_fields(answerer: "Answerer", q: "Question", sources: Mapping[str, str] | None = None) -> dict:
    """The answer part of a result row (its latency_s is merged with the row's search latency).
    sources: eval.meta_sources(), what a cited metadata paragraph holds of the source.
    Earlier turns of a conversation (q.history) are answered first, as a user would have asked them."""
    history: list[tuple[str, str]] = []
    for earlier in q.history:
        history.append((earlier, answerer.answer(earlier, history=list(history)).text))
    t0 = time.perf_counter()
    ans = answerer.answer(q.question, history=history)
    wall = time.perf_counter() - t0
    ok, total = number_consistency(ans.text, ans.citations)
    raw_ok, raw_total = raw_number_consistency(ans.raw, ans.passages) if ans.raw else (0, 0)
    deleted_correct = q.answerable and any(answer_correct(s, q.answers, q.answers_all) for s in ans.deleted)
    correct = final_verdict(ans, q)
    return {
        "model": answerer.model_name,
        "answer": ans.text,
        "abstained": ans.abstained,
        # An unanswerable question is answered correctly by refusing.
        "correct": correct,
        "citations": [{"n": c.n, "doc": c.doc, "para": c.para, "section": c.section, "text": c.text, "quote": c.quote}
                      for c in ans.citations],
        "gold_cited": [has_gold(c.doc, with_source(c.text, c.para, sources or {}), q.evidence) for c in ans.citations],
        "numbers": [ok, total],
        # Before verification: what the model wrote, against the passages its markers point to.
        "raw_numbers": [raw_ok, raw_total],
        "raw": ans.raw,
        "deleted": list(ans.deleted),
        "marked": list(ans.marked),
        # Verification's own error: a sentence it removed held an acceptable answer.
        "deleted_correct": deleted_correct,
        # ...or, deleting or marking, it turned the model's acceptable answer into a wrong one or a refusal.
        "lost_correct": bool(q.answerable and ans.raw and not correct and answer_correct(ans.raw, q.answers, q.answers_all)),
        # The model's own text judged as the answer (None: nothing was generated): the raw-versus-final table.
        "raw_correct": raw_verdict(ans.raw, q),
        "standalone": ans.standalone,
        "repairs": ans.repairs,
        "latency_s": {**ans.latency, "wall": round(wall, 3)},
    }
