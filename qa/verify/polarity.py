"""Polarity of yes-or-no answers: whether a text negates a word, a claim states what its sentence denies,
a paragraph's sentence closest to a question negates. Used by verification (qa/verify/cite.py): the
checks `polarity` (denied, negates_asked)."""
from __future__ import annotations

import re

import jieba.posseg

from qa.text.normalize import normalize
from qa.text.sentences import SUPPORT_OVERLAP, best_sentence, content_tokens, overlap, sentence_spans

# Words that begin with 不/无/非/未 without negating (「不断」「无论」「非常」「未来」) are not negators.
_NOT_NEGATION = re.compile(r"不断|不仅|不少|不同|不久|不管|不论|无论|非常|未来|无疑|不止")
# The negator stands right before the verb, or before one modal (「不得超过」「不予受理」「未能」), which may be
# a word of need (「不需要计入」「无需缴纳」「不必」「不用」: an answer's way of saying the text's 「不计入」).
_NEGATOR = re.compile(r"(?:不|未|无|非|没有|没|勿|禁止)(?:需要|必要|[得能可应再予会准许宜必需用])?$")


def _negated(text: str, word: str) -> bool | None:
    """Whether word stands negated everywhere in text (None when text does not have it)."""
    seen = [bool(_NEGATOR.search(_NOT_NEGATION.sub("", text[max(0, m.start() - 5):m.start()])[-4:]))
            for m in re.finditer(re.escape(word), text)]
    return all(seen) if seen else None


def asserts_what_is_negated(claim: str, sentence: str) -> bool:
    """The claim states plainly what the sentence denies: 「澳门实行外汇管制」 against 「澳门特别行政区不实行
    外汇管制政策」. Only that way round: an answer that says 「不能」 where the text says 「取消…资格」
    paraphrases a denial, which words cannot tell."""
    claim_toks = content_tokens(claim)
    if overlap(claim_toks, content_tokens(sentence)) < SUPPORT_OVERLAP:
        return False   # not the sentence the claim restates
    verbs = {w for w, flag in jieba.posseg.cut(sentence) if flag == "v" and len(w) >= 2}
    for word in claim_toks & verbs:   # a negator denies a verb, not the noun it precedes
        if any(c.isdigit() for c in word):
            continue
        if _negated(sentence, word) and _negated(claim, word) is False:
            return True
    return False


_NEGATION = re.compile(r"不|未|无|非|没有|禁止|严禁")


def negates_asked(question: str, paragraph: str) -> bool:
    """Whether a sentence of a paragraph (normalized) about a yes-or-no question negates: the closest
    one sharing one of its words (「本市行政区域内，禁止燃放孔明灯」 for 「放孔明灯是允许的吗」), or any
    sharing two (「复热后的餐食不应再次加热」 after the sentence on how to reheat, which shares more):
    what a bare 「不可以」 answers from. Over rounds 19–31 the model said a bare no 18 times, 17 of them
    right, and the closest sentence alone refused 3 of the right ones."""
    q = normalize(question)
    q_toks = {t for t in content_tokens(q) if len(t) >= 2}
    a, b = best_sentence(q, paragraph)
    for s, e in sentence_spans(paragraph, full=True) or [(0, len(paragraph))]:
        shared = len(q_toks & content_tokens(paragraph[s:e]))
        if (shared >= 2 or (shared and (s, e) == (a, b))) and _NEGATION.search(_NOT_NEGATION.sub("", paragraph[s:e])):
            return True
    return False


def denied(claim: str, texts: list[str]) -> bool:
    """A passage's sentence closest to the claim denies what the claim states (texts: the passages'
    paragraphs, normalized). Asked only of the answers to yes-or-no questions, where the negation is
    the answer; then no passage supports it: a claim that only restates a yes-or-no question would
    otherwise be supported by any paragraph using its words (「澳门实行外汇管制」 by 「澳门特别行政区实行
    自由贸易政策」)."""
    norm = normalize(claim)
    for text in texts:
        a, b = best_sentence(norm, text)
        if asserts_what_is_negated(norm, text[a:b]):
            return True
    return False
