"""Text normalization shared by indexing, querying and evaluation.

Both sides of every comparison go through the same functions: NFKC (full-width → half-width),
traditional → simplified (OpenCC), lower case.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jieba
import opencc

jieba.setLogLevel(60)  # silence the dictionary-loading chatter on stderr

_WS = re.compile(r"\s+")
# A space that groups digits in threes ("526 205元", "2 114 847.21元": court judgments, typeset PDFs)
# is part of the number, as a comma would be.
# Not after a label that numbers (「表1 100例」 is table 1, 100 cases).
_DIGIT_GROUP = re.compile(r"(?<![\d.A-Za-z表图第])\d{1,3}(?:[ \u00a0\u2009\u202f]\d{3})+(?!\d)")
# A letter-spaced number of a PDF text layer ("人均预期寿命达到 7 0 岁", "2 0 0 1 年 2 月 1 6 日"):
# single digits a space apart, before a character or %, are one number. Before a space or the end of
# a line they stay apart (a table row of small counts).
_SPACED_DIGITS = re.compile(r"(?<![\d.A-Za-z])\d(?: \d)+(?= ?[\u4e00-\u9fff%])")
# A date written with separators (「2011-08-01实施」 on a standard's cover, 「2024.03.05」, 「2024/3/5」) is the
# date 「2011年8月1日」: one separator, a year of 19xx/20xx, a real month and day.
_ISO_DATE = re.compile(r"(?<![\d.])((?:19|20)\d{2})([-./])(0?[1-9]|1[0-2])\2(0?[1-9]|[12]\d|3[01])(?![\d.])")
# Typesetting space, not words apart: the space put between a Chinese character and a digit
# (「不得超过…的 10 倍」, 「第 39 号」, 「共计 109 项」, 「2002 年 6 月 1 日」). Spaces between Chinese words
# (「第一章 总则」, names in a list) stay.
_LAYOUT_SPACE = re.compile(r"(?<=\d)[ \u00a0\u2009\u202f]+(?=[\u4e00-\u9fff])"
                           r"|(?<=[\u4e00-\u9fff])[ \u00a0\u2009\u202f]+(?=\d)")
# A standard's code glued to its number (「GB/T32918.2」, 「GM/T0036」, 「GB2760」 of a PDF text layer) is the
# code a space apart from it, as questions and most texts write it (「GB/T 32918.2」).
_STANDARD_CODE = re.compile(r"(?<![A-Za-z])(GB|[A-Z]{1,4}/[TZ])(?=\d)")
_PUNCT_TOKEN = re.compile(r"^[\W_]+$")
# Lone surrogates (from undecodable command-line bytes or a broken client) are not text and crash
# OpenCC and every UTF-8 encoder; they go with the control characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\ud800-\udfff]")

# Function words and question words carry no topic; leaving them in lets BM25 reward
# passages for "的/是/多少" instead of content.
STOPWORDS = frozenset(
    "的 了 和 与 及 或 是 在 对 把 被 将 从 向 为 以 于 等 也 都 而 并 其 之 这 那 这些 那些 这个 那个 "
    "有 有的 一个 一些 我 我们 你 你们 他 他们 它 什么 多少 哪些 哪个 哪里 哪 哪天 如何 怎样 怎么 为什么 "
    "是否 是不是 吗 呢 吧 啊 请问 请 谁 几 几个 有没有 一下 关于 根据 文中 文章 文档 提到 说 这篇 那篇 本文 该文 "
    "the a an of to in on for and or is are was were what which who how many much does do did".split()
)


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def strip_controls(text: str) -> str:
    return _CONTROL.sub("", text)


def clean_input(text: object, max_chars: int | None = None) -> str:
    """Any text a user typed or sent, made safe for every stage: bytes decoded as UTF-8 (bad bytes
    replaced), command-line bytes that Python kept as surrogates decoded the same way, surrogate
    pairs joined, lone surrogates, U+FFFD and control characters dropped (newline and tab kept),
    NFC, and at most max_chars characters."""
    if text is None:
        return ""
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8", "replace")
    text = str(text)
    if any("\ud800" <= c <= "\udfff" for c in text):
        # undecodable argv bytes arrive as U+DC80..U+DCFF (surrogateescape): give them back to UTF-8
        text = "".join(
            part.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            if all("\udc80" <= c <= "\udcff" for c in part) else part
            for part in re.split(r"([\udc80-\udcff]+)", text)
        )
        # a surrogate pair sent as two code points is one character
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\ufffd", ""))
    text = _CONTROL.sub("", text)
    return text[:max_chars] if max_chars is not None else text


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def simplify(text: str) -> str:
    """NFKC (full-width → half-width) + traditional → simplified; case kept for the embedder."""
    return to_simplified(unicodedata.normalize("NFKC", strip_controls(text)))


def join_figures(text: str) -> str:
    """Figures as one reads them: letter-spaced and space-grouped digits joined, the typesetting space
    between a Chinese character and a digit removed (「2022 年 12 月 27 日」 → 「2022年12月27日」).
    The text the model reads goes through it too: split digits make a small model misread a date."""
    joined = _SPACED_DIGITS.sub(lambda m: m.group().replace(" ", ""), text)
    return _LAYOUT_SPACE.sub("", _DIGIT_GROUP.sub(lambda m: _WS.sub("", m.group()), joined))


# Full-width letters and digits (「ＲＮＡ」, 「２０２２」), which Word documents and PDFs of 公文 often set;
# the small model copied 「RNＡ聚合酶」 as 「RNNA聚合酶」. Punctuation keeps its Chinese width.
_FULL_WIDTH_ALNUM = {c: c - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A)) for c in range(r[0], r[1] + 1)}


def half_width(text: str) -> str:
    """Full-width letters and digits as ASCII: what the model reads, as normalize() does for comparisons."""
    return text.translate(_FULL_WIDTH_ALNUM)


def written_dates(text: str) -> str:
    """Dates written with separators (「2011-08-01」, 「2024.03.05」) in the 年月日 form (「2011年8月1日」)."""
    return _ISO_DATE.sub(lambda m: f"{m.group(1)}年{int(m.group(3))}月{int(m.group(4))}日", text)


def normalize(text: str) -> str:
    """simplify() + lower case, whitespace collapsed; figures joined (join_figures), dates written
    with separators in the 年月日 form, a standard's code apart from its number."""
    joined = _STANDARD_CODE.sub(r"\1 ", join_figures(simplify(text)))
    return _WS.sub(" ", written_dates(joined)).strip().lower()


def compact(text: str) -> str:
    """normalize() without any whitespace: for substring checks across line wraps."""
    return _WS.sub("", normalize(text))


def tokenize(text: str, search: bool = True) -> list[str]:
    """Tokens of the normalized text, minus punctuation and stopwords. Search mode (for BM25) adds
    the sub-words of long words; accurate mode (for sentence overlap) counts each word once."""
    return [t for t in map(str.strip, (jieba.lcut_for_search if search else jieba.lcut)(normalize(text))) if _kept(t)]


def _kept(tok: str) -> bool:
    """A token that is a word: not empty, not a stopword, not punctuation."""
    return bool(tok) and tok not in STOPWORDS and not _PUNCT_TOKEN.match(tok)


def tokens_outside(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """Accurate-mode tokens of normalized text (as tokenize) that overlap none of spans: the words of a
    sentence apart from its figures. Cut from the whole text, so that a word glued to a figure
    (「三个月内」 → 三个|月内) goes with it instead of leaving a fragment (「内要」)."""
    return [tok.strip() for tok, a, b in jieba.tokenize(text)
            if _kept(tok.strip()) and not any(s < b and a < e for s, e in spans)]
