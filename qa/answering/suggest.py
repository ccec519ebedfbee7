"""Example questions for the faces, made from the loaded corpus: a page over a user's own documents
never suggests questions about documents it does not have.

A figure question asks for a figure a paragraph states, in the paragraph's own words ("城镇新增
就业" + "是多少？" from 「城镇新增就业1269万人」); its follow-up asks for the next figure of the same
paragraph ("那城镇调查失业率呢？"), so the demo exercises the conversation rewrite.
"""
from __future__ import annotations

import re
from typing import Iterable

import jieba.posseg

from qa.text.figures import figures
from qa.text.normalize import normalize
from qa.schema import Document

_CLAUSE = re.compile(r"[，,。；;：:、！？!?（）()“”\"]")
_LEAD = re.compile(r"^(其中|全年|同时|并且|并|且|共|已|将|累计|截至目前|目前)")
MIN_SUBJECT, MAX_SUBJECT = 4, 16
# Amounts worth asking about (money, people, shares, things counted); not dates or anniversaries.
_AMOUNT_UNITS = set("元人名户家所项个%亩吨座处条批")
# What stands between a subject and its figure ("国内生产总值达到", "失业率控制在").
_VERB_END = re.compile(r"(达到了?|达|超过|突破|增长了?|下降了?|下降到|降至|降到|提高到|提高|控制在|减少了?|为|是|约|近|占|比上年)$")


def _subjects(text: str) -> list[str]:
    """What each figure of a sentence is the figure of: the words of its clause before it."""
    norm = normalize(text)
    out = []
    for f in figures(norm):
        if f.unit not in _AMOUNT_UNITS or norm[max(0, f.start - 1):f.start] == "第":
            continue
        clause = _CLAUSE.split(norm[:f.start])[-1].strip()
        # Only "subject + verb + figure" ("国内生产总值达到114万亿元"): the verb says what the figure is.
        if not _VERB_END.search(clause):
            continue
        while (trimmed := _VERB_END.sub("", clause)) != clause:
            clause = trimmed
        clause = _LEAD.sub("", clause)
        if clause[:1] in "把将对以从在与和及":
            continue
        words = jieba.posseg.lcut(clause)
        # A subject ends with a noun ("国内生产总值", "贫困发生率"), not a verb or a time word.
        if (MIN_SUBJECT <= len(clause) <= MAX_SUBJECT and not any(c.isdigit() for c in clause)
                and words and words[-1].flag.startswith("n") and not words[-1].flag.startswith(("nr", "ns"))):
            out.append(clause)
    return list(dict.fromkeys(out))


def example_questions(documents: Iterable[Document], n: int = 4) -> list[str]:
    """Up to n questions, one per document while documents last, each answerable from its corpus:
    figure questions first, then what a document is about, by its title."""
    documents = list(documents)
    out: list[str] = []
    for doc in documents:
        for p in doc.paragraphs:
            if p.kind != "body":
                continue
            subjects = _subjects(p.text)
            if subjects:
                if f"{subjects[0]}是多少？" not in out:
                    out.append(f"{subjects[0]}是多少？")
                break
        if len(out) >= n:
            break
    for doc in documents:
        if len(out) >= n:
            break
        if doc.title and len(doc.title) <= 40:
            out.append(f"《{doc.title}》主要讲了什么？")
    return out[:n]


def followup_demo(documents: Iterable[Document]) -> tuple[str, str] | None:
    """(question, follow-up) about two figures of one paragraph, or None when no paragraph has two."""
    for doc in documents:
        for p in doc.paragraphs:
            subjects = _subjects(p.text) if p.kind == "body" else []
            if len(subjects) >= 2:
                return f"{subjects[0]}是多少？", f"那{subjects[1]}呢？"
    return None
