"""Verify stage: a figure of one clause of a paragraph does not answer what the question asks of another.

Rules, articles and checklists give one figure per clause: 「（一）查封登记…当场办结；（二）…抵押权…的注销登记在
一个工作日内办结；（三）…在三十个工作日内办结」, or two sentences of one article with two fines. Every figure
stands in the paragraph, so the figure check accepts any of them; a small model often copies the wrong
clause whole. Here the paragraph is cut into its clauses (sentences, and the items of an enumeration);
the claim's figures stand in some of them. When another clause gives a figure of the same unit and
holds every question word the claim's clause holds plus at least two more, the question points at that
other clause and the claim does not answer it. Unsure cases (no rival clause, or words split between
clauses) pass.
"""
from __future__ import annotations

import re

from qa.text.figures import Figure, figures, find, same_unit
from qa.text.normalize import normalize

# A clause ends at a semicolon or a sentence end, or where the next item of an enumeration starts
# (「（二）」, 「(2)」); a sentence only at a sentence end or an item. Both are tried: an item names its
# matter in its own clause, an article's sentence in the clause before its penalty (「…账目不符…；拒不
# 改正的，处…罚款」).
_CLAUSE_END = re.compile(r"(?<=[。；;！？!?])|(?=[（(][一二三四五六七八九十\d]{1,3}[）)])")
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|(?=[（(][一二三四五六七八九十\d]{1,3}[）)])")
# Question words that point at no clause: how the question asks.
_ASKING = frozenset("多少 多长 时间 多久 几个 什么 哪些 哪个 怎么 如何 是否 可以 能否 规定 要求".split())
MARGIN = 2   # question words the rival clause holds beyond the claim's clause


def clauses(text: str, end: re.Pattern[str] = _CLAUSE_END) -> list[str]:
    return [c for c in (part.strip() for part in end.split(normalize(text))) if c]


def _words_in(words: set[str], clause: str) -> set[str]:
    return {w for w in words if w in clause}


def outpointed(claim_figs: list[Figure], q_toks: set[str], paragraph: str) -> bool:
    """Whether the question (q_toks: its content tokens, as verification read them) points at another
    clause of the paragraph than the one(s) giving the claim's figures (claim_figs: the figures the
    claim adds to the question)."""
    if not claim_figs:
        return False
    q_words = {w for w in q_toks if w not in _ASKING and not any(ch.isdigit() for ch in w)}
    return any(_outpointed_in(claim_figs, q_words, clauses(paragraph, end)) for end in (_CLAUSE_END, _SENTENCE_END))


def _outpointed_in(claim_figs: list[Figure], q_words: set[str], parts: list[str]) -> bool:
    if len(parts) < 2:
        return False
    figs = [figures(c) for c in parts]
    own = [i for i, fs in enumerate(figs) if all(find(f, fs) for f in claim_figs)]
    if not own:
        return False
    rivals = [i for i, fs in enumerate(figs) if i not in own
              and any(same_unit(f.unit, g.unit) and not find(g, claim_figs) for f in claim_figs for g in fs)]
    if not rivals:
        return False
    held = [_words_in(q_words, parts[i]) for i in own]
    for r in rivals:
        theirs = _words_in(q_words, parts[r])
        if all(h < theirs and len(theirs - h) >= MARGIN for h in held):
            return True
    return False
