"""Verify stage: figures given 「分别」 (respectively) belong to their items in order.

Official texts pack several measures into one sentence: 「城市、农村自来水普及率分别达到99.5%、98.5%」,
「获全国竞赛特等奖、一等奖、二等奖、三等奖，每件作品分别奖励10000元、8000元、5000元、3000元」. Every
figure stands in the sentence, so the figure check accepts any of them for any item; a small model
often takes the first. Here the n-th figure after 「分别」 is the n-th item of the list before it, and a
claim about the one item a question names must carry that item's figure.
"""
from __future__ import annotations

import re

from qa.text.figures import Figure, figures, find
from qa.text.normalize import normalize

# A list of items: two or more phrases joined by 、 (a 和 inside a phrase is part of it: 「普及率」).
_ITEM = r"[^、，,。；;：:！？!?\s]{1,30}"
_LIST = re.compile(rf"{_ITEM}(?:、{_ITEM})+")
_RESPECTIVELY = "分别"


def _items(run: str) -> list[str]:
    return [i for i in run.split("、") if i]


def respective_pairs(sentence: str) -> list[tuple[list[str], list[Figure]]]:
    """(items, their figures) of each 「…分别…」 in a sentence: the last list before 「分别」 that has as
    many items as there are figures right after it (up to the clause's end)."""
    sentence = normalize(sentence)
    out = []
    for m in re.finditer(_RESPECTIVELY, sentence):
        after = re.split(r"[。；;！？!?]", sentence[m.end():], maxsplit=1)[0]
        figs = figures(after)
        if len(figs) < 2:
            continue
        before = re.split(r"[。；;！？!?]", sentence[:m.start()])[-1]
        for run in reversed(_LIST.findall(before)):
            items = _items(run)
            if len(items) == len(figs):
                out.append((items, figs))
                break
    return out


def misassigned(claim: str, question: str, sentence: str) -> bool:
    """Whether the claim gives the question's one item a figure that, in the sentence, is another
    item's (by the order of 「分别」). Unsure cases (no such list, the question names no item or
    several, the claim none of the list's figures) pass."""
    if _RESPECTIVELY not in sentence and "分別" not in sentence:
        return False   # most sentences: nothing to normalize (called for each sentence a claim is checked against)
    q = normalize(question)
    claim_figs = figures(normalize(claim))
    for items, figs in respective_pairs(sentence):
        named = [i for i, item in enumerate(items) if _names(q, item, items)]
        if len(named) != 1:
            continue
        own = figs[named[0]]
        others = [f for j, f in enumerate(figs) if j != named[0] and not find(f, [own])]
        claimed = [f for f in others if find(f, claim_figs)]
        if claimed and not find(own, claim_figs):
            return True
    return False


def _names(question: str, item: str, items: list[str]) -> bool:
    """The question names this item: its text, or what is left of it once the part every item shares
    is taken away (「二等奖」 of 「特等奖、一等奖、二等奖」 is named by 「全国赛二等奖」)."""
    if item in question:
        return True
    prefix = _common(items, lambda s: s)
    suffix = _common(items, lambda s: s[::-1])[::-1]
    core = item[len(prefix):len(item) - len(suffix) if suffix else None]
    return len(core) >= 2 and core in question and not any(core in o for o in items if o != item)


def _common(items: list[str], key) -> str:
    keys = [key(i) for i in items]
    n = 0
    while all(len(k) > n for k in keys) and len({k[n] for k in keys}) == 1:
        n += 1
    return keys[0][:n]
