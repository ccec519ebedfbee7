"""Dates in a record and the events they are recorded with: a law's 沿革 (「1994年7月5日…通过；2009年8月27日…
第一次修正」), a paragraph's periods. Used by the check `date` of verification (qa/verify/cite.py): a
stated date answers the event it is recorded with."""
from __future__ import annotations

import re

from qa.text.figures import date_spans

_FIELD_OR_CLAUSE = re.compile(r"[；;\n]|\s+(?=[\u4e00-\u9fff]{2,6}[:：])")


DateEvents = list[tuple[tuple[int, int, int], str]]   # (date, its event) in a record


# Two dates joined into a period (「2022年9月1日至2023年8月31日」, also with the hour the period opens:
# 「2025年10月10日9时至2025年11月10日17时」, 「3月1日上午9:00至…」) are one event.
_DATE_RANGE = re.compile(r"[日号]\s*(?:(?:上午|下午|晚上|凌晨)?\s*\d{1,2}\s*(?:[时点](?:\s*\d{1,2}\s*分)?|[:：]\s*\d{2}))?"
                         r"\s*(?:至|到|—|－|-|~|～)\s*$")


def date_events(text: str) -> DateEvents:
    """Each full date of text with its event: what its clause writes from the end of the date before
    it (「…次日至南京市儿童医院住院治疗，住院时间为2018年12月16日」) to the next date (「2009年8月27日…
    第一次修正」); the first takes its clause's lead (「施行日期：」). The two ends of a period share
    the period's event."""
    events = []
    for c in _FIELD_OR_CLAUSE.split(text):
        found = date_spans(c)
        segs = [c[0 if i == 0 else found[i - 1][2]:found[i + 1][1] if i + 1 < len(found) else len(c)] for i in range(len(found))]
        for i in range(len(found) - 1):
            if _DATE_RANGE.search(c[found[i][1]:found[i + 1][1]]):
                segs[i] = segs[i + 1] = segs[i] + segs[i + 1]
        events.extend((d, seg) for (d, _, _), seg in zip(found, segs))
    return events


def dated_elsewhere(claim_dates: list[tuple[int, int, int]], events: DateEvents, event: set[str]) -> bool:
    """Whether a record's dated events (date_events of a law's 沿革: 「1994年7月5日…通过；2009年8月27日…
    第一次修正；…」) are several and give a claimed date to an event that names less of the claimed one
    (the words the claim repeats from the question, by length) than another date's does: 「第一次修正」 is
    not the date of 「通过」."""
    if len(events) < 2 or not event:
        return False
    def weight(seg: str) -> int:
        return sum(len(t) for t in event if t in seg)
    best = max(weight(seg) for _, seg in events)
    return any((own := [weight(seg) for e, seg in events if e == d]) and max(own) < best for d in claim_dates)


# What a law's record says happened on a date: it was made (通过, 制定…) or amended (修订, 修正…).
# 公布/施行 say neither: a law is promulgated and takes effect when made and when amended.
_LAW_EVENTS = {"made": re.compile(r"制定|通过|颁布|出台"), "amended": re.compile(r"修订|修正|修改")}


def law_events(text: str) -> set[str]:
    return {kind for kind, words in _LAW_EVENTS.items() if words.search(text)}


def other_law_event(claim_dates: list[tuple[int, int, int]], events: DateEvents, asked: set[str]) -> bool:
    """Whether a claimed date is recorded among a record's dated events (date_events) for the other
    kind of event than the question asks (an amendment date, 「2006年9月15日…修订」, does not say when a
    regulation was made), while no record of that date says the asked kind."""
    if len(asked) != 1:
        return False
    kinds = [law_events(seg) for e, seg in events if e in claim_dates]
    return bool(kinds) and not any(asked & k for k in kinds) and any(k - asked for k in kinds)
