"""The named checks of answering, each of which can be switched off (`--ablate NAME,…`, `QA_ABLATE`).

A check earns its place by what it does on question sets written blind over documents it was not
built on: right answers it saves, right answers it costs, wrong answers it stops
(docs/checks.md holds the measured table, `python -m qa.eval --ablate …` and
`tools/ablate.py` measure it). Switching a check off never changes what is generated for checks
that run after generation, so their effect is measured by replaying recorded answers.
"""
from __future__ import annotations

# name → what it does (where it lives). Before generation first, then verification (qa/verify/cite.py).
CHECKS: dict[str, str] = {
    "gate": "relevance gate: a question no retrieved passage is near is refused before the model (qa/answering/gate.py)",
    "frame": "passages outside the question's frame (a place, law or year it names) are not shown; none left → refused (qa/verify/frame.py in_frame)",
    "fields": "a field the document records (its number, dates, issuer) is answered from the metadata without the model (qa/answering/fields.py)",
    "conflicts": "another document's different figure for the same measure is shown beside the answer (qa/text/guard.py)",
    "place": "a place or person the question names must be what the cited paragraph or its document is about",
    "law": "a law the question names must be the cited paragraph's law",
    "year": "a question about this or last year is answered from the document's year, not another year's section",
    "calendar": "a calendar year the question names (2026年) is written somewhere in the cited paragraph's document (qa/verify/frame.py of_named_year)",
    "article": "an article the question asks about (第四十七条) stands in the cited paragraph, its section path or title: a text that ends before it is not answered by its last article",
    "scope": "a deadline, year or figure the question sets scopes the cited paragraph (articles: see article)",
    "figure": "each new figure of a claim stands in one sentence of the cited paragraph",
    "respective": "figures a sentence gives 「分别」 belong to its items in order: the item the question names gets its own (qa/verify/respective.py)",
    "rival": "a figure of one clause (sentence or enumerated item) of the paragraph does not answer a question whose words point at another clause with a figure of the same unit (qa/verify/rival.py)",
    "counts": "a claim's figure counts the same thing as the paragraph's figure (noun after it)",
    "unit": "a question asking a unit is answered by a figure in that unit",
    "counted": "a question counting something is answered by a figure counting it",
    "measure": "a question for a quantity is answered by a sentence naming what is measured",
    "change": "a question for a change is answered by a change, not a level",
    "contrast": "a figure for a contrasted kind of the asked thing does not answer",
    "date": "a stated date answers the event it is recorded with, in the question's year",
    "names": "each new name of a claim stands in the cited sentence or its context",
    "polarity": "the answer to a yes-or-no question does not state plainly a verb its closest sentence negates",
    "words": "at least half of a claim's new content words stand in the cited sentence",
    "delete": "a sentence whose figure stands in no passage is deleted (off: marked for the reader)",
    "filler": "sentences about the sources or repeating the question are dropped",
    "asked": "a question for one quantity answered without any number is refused",
    "unsupported": "an answer none of whose sentences a passage supports is refused (off: shown with the model's markers, marked for the reader)",
}


# Off unless switched on: on the blind rounds of 2026-12-06 each cost more right answers than it
# saved (place: costs 5 over five rounds, off-topic questions included; it saves 2 on dev, a tune set;
# contrast: over thirteen rounds saves 1, costs 3 — a paraphrase such as 大学毕业生 for 普通高等学校毕业生
# read as another kind of thing; it saves 1 on dev). What they reject is judged by the checks that
# remain (docs/checks.md).
DEFAULT_OFF = frozenset({"scope", "unit", "place", "contrast"})


def parse_off(spec: str | None) -> frozenset[str]:
    """The checks switched off: DEFAULT_OFF, plus each name of a comma-separated list, minus each
    name written "+name" (switched on). An unknown name is an error listing the known."""
    items = [n.strip() for n in (spec or "").split(",") if n.strip()]
    on = {n[1:] for n in items if n.startswith("+")}
    off = {n for n in items if not n.startswith("+")}
    unknown = sorted((on | off) - CHECKS.keys())
    if unknown:
        raise ValueError(f"未知的检查项：{', '.join(unknown)}；可关闭的检查项：{', '.join(CHECKS)}"
                         f"（默认关闭的 {', '.join(sorted(DEFAULT_OFF))} 可写 +名称 打开）")
    return frozenset((DEFAULT_OFF | off) - on)


def spec_of(off: frozenset[str]) -> str:
    """The shortest list parse_off reads back as `off` ("" for the defaults): a run's configuration key."""
    return ",".join([*sorted(off - DEFAULT_OFF), *(f"+{n}" for n in sorted(DEFAULT_OFF - off))])
