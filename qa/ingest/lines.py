"""A cleaned line, the shapes lines are recognised by, and the repairs of scraping damage.

Cleaning (clean.py, header.py) and sectioning (sections.py) read lines by these shapes: a heading
marker, a law's divisions and articles, a list item, a date, a 发文字号.
Repairs:
  pinyin         drop romanization glued after a character: 鄉(xiāng) → 鄉
  letter-spacing join a letter-spaced line: 「机 动 车 登 记 规 定」 → 「机动车登记规定」
  glued-heading  a heading marker after a sentence end and 2+ spaces starts a new line
  wrapped-line   a long line cut off mid-sentence is joined with the next line (plain text only:
                 the blocks of other formats are paragraphs already); long is 40 characters, or 90%
                 of the width of a file wrapped at a narrower column (wrap_length)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

SENTENCE_END = "。！？!?；;：:"
# A line ending in any of these is complete; without one, a long line was cut mid-sentence.
LINE_END = SENTENCE_END + "…”\"」』）)】》"

CN_NUM = "一二三四五六七八九十百千零〇两"
HEADING_MARKER = (
    r"(?:[(（][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}、"
    r"|[(（]\d{1,2}[)）]|\d{1,2}[.．、](?!\d)|第[一二三四五六七八九十]{1,3}[,，、])"
)
HEADING_START = re.compile(HEADING_MARKER)
# Law divisions (第一编/第二章/第三节) and articles (第十八条): laws and regulations of every kind, also in
# traditional characters and with the spaced Arabic numbers of Taiwan's law database (「第 1 條」 on a
# line of its own, its text on the lines below).
LAW_DIVISION = re.compile(rf"^第\s?[{CN_NUM}\d]{{1,5}}\s?(编|分编|章|节|編|分編|節)(?:[\s\u3000]+|$)")
# A spaced label stands alone or before a space: 「第 78 条以及…」 is a sentence a PDF wrapped there.
LAW_ARTICLE = re.compile(rf"^第(\s)?(?P<n>[{CN_NUM}\d]{{1,6}})(?(1)\s)[条條]"
                         rf"(?:[\s\u3000]+|$|(?(1)(?!)|(?=[【\u4e00-\u9fff（(])))")
# A list item: bullets, numbered items, circled numbers. Never page furniture.
LIST_ITEM = re.compile(r"^(?:[-*+•·▪●○■□]\s|\d{1,2}[.、)）]|[(（][一二三四五六七八九十\d]{1,3}[)）]|[①-⑳])")

# A line that is only a URL, optionally labelled (原文链接：https://…), or a URL and a page counter.
_URL = r"(?:https?://|www\.)[^\s\u4e00-\u9fff]+"
URL_LINE = re.compile(rf"^(?:[【\[]?[\u4e00-\u9fff]{{1,8}}[】\]]?\s*[:：]?\s*)?{_URL}(?:\s+\d+\s*/\s*\d+)?$")

_PINYIN = re.compile(
    r"(?<=[\u3400-\u9fff])[(（]([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*)[)）]"
)
_GLUED_HEADING = re.compile(r"(?<=[。！？!?；;])[ \t\u3000]{2,}(?=" + HEADING_MARKER + ")")

# A date as 公文 print it, in figures or in Chinese numerals; a 发文字号: issuer code, year in brackets of
# any of the forms people type, serial number.
DATE = rf"(?:\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|[{CN_NUM}○Ｏ]{{4}}年[{CN_NUM}]{{1,3}}月[{CN_NUM}]{{1,3}}日)"
DATE_LINE = re.compile(rf"^[(（]?\s*({DATE})\s*[)）]?$")
YEAR_OPEN, YEAR_CLOSE = "〔\\[［﹝【(（", "〕\\]］﹞】)）"   # the brackets around its year
DOC_NUMBER = rf"[\u4e00-\u9fff]{{1,12}}\s*[{YEAR_OPEN}]\s*\d{{4}}\s*[{YEAR_CLOSE}]\s*第?\s*\d{{1,5}}\s*号"

# Rules whose lines move into metadata (kept), the rest drop text (listed in the kept-text report).
META_RULES = frozenset({"title", "doc-number", "addressee", "date", "occasion", "byline", "author",
                        "promulgation", "column", "field", "signature"})


@dataclass(frozen=True)
class Line:
    start: int  # 1-based source line numbers, inclusive
    end: int
    text: str
    level: int = 0       # heading level given by the format (Markdown #, docx/html heading), else 0
    table: bool = False  # a table row


@dataclass
class Cleaned:
    lines: list[Line]                                  # content lines, stripped, non-empty
    meta: dict[str, str] = field(default_factory=dict)
    meta_lines: tuple[int, int] | None = None         # source range the metadata came from
    removed: list[tuple[Line, str]] = field(default_factory=list)  # (line, rule name)
    total_chars: int = 0                               # non-space characters of the source text

    def dropped(self) -> dict[str, list[str]]:
        """Lines whose text left the document (not moved into metadata), by rule."""
        out: dict[str, list[str]] = {}
        for ln, rule in self.removed:
            if rule not in META_RULES and ln.text.strip():
                out.setdefault(rule, []).append(ln.text.strip())
        return out


def chars(text: str) -> int:
    return sum(1 for c in text if not c.isspace())



def drop_pinyin(text: str) -> str:
    return _PINYIN.sub("", text)


# Characters of Chinese text (ideographs and full-width punctuation), and the gap letter-spacing puts
# between two of them.
_HAN = "\u4e00-\u9fff\u3001-\u303f\uff01-\uff0f\uff1a-\uff20"
_HAN_GAP = re.compile(rf"(?<=[{_HAN}])[ \u3000]{{1,3}}(?=[{_HAN}])")
LETTER_SPACED_GAPS = 3   # a line needs this many letter-spacing gaps: two (「现行 建议」) are words apart


def join_letter_spaced(text: str) -> str:
    """A letter-spaced line as written (「机 动 车 登 记 规 定」, 「行 政 院施 政 報 告」, 「2023 年 末 ， 全 国
    民 营 企 业」: PDF covers and text converted from PDF): a gap is letter-spacing when a single character
    stands on one side of it; with LETTER_SPACED_GAPS or more such gaps the line's gaps between Chinese
    characters go. Words set apart (「第一章 总则」, 「现行 建议/新增」) have no single character."""
    def single(i: int) -> bool:   # text[i] stands alone: a gap or the line's end on both sides
        return (i == 0 or text[i - 1] in " \u3000") and (i + 1 == len(text) or text[i + 1] in " \u3000")

    gaps = [m for m in _HAN_GAP.finditer(text) if single(m.start() - 1) or single(m.end())]
    if len(gaps) < LETTER_SPACED_GAPS:
        return text
    return _HAN_GAP.sub("", text)


def split_glued_headings(line: Line) -> list[Line]:
    parts = _GLUED_HEADING.split(line.text)
    return [Line(line.start, line.end, p, line.level, line.table) for p in parts]


# A plain-text line this long that stops mid-sentence was wrapped; a file cut at a narrower width (a
# PDF's column dumped to text) is judged by its own width: 90% of the length most of its lines reach.
WRAP_MIN_CHARS = 40
NARROW_COLUMN_MIN = 20   # shorter "widths" are lists of names or numbers, not a column of text


def wrap_length(lines: list[Line]) -> int:
    """How long a line must be to count as wrapped when it stops mid-sentence: WRAP_MIN_CHARS, or
    less in a file hard-wrapped at a narrower column (its 90th-percentile line length)."""
    lengths = sorted(len(ln.text.strip()) for ln in lines if ln.text.strip())
    if not lengths:
        return WRAP_MIN_CHARS
    width = lengths[int(len(lengths) * 0.9)]
    if NARROW_COLUMN_MIN <= width and width * 0.9 < WRAP_MIN_CHARS:
        return max(NARROW_COLUMN_MIN, int(width * 0.9))
    return WRAP_MIN_CHARS


# A PDF saved as text repeats its running header or footer on every page (the report's title, 「立法會


def join_wrapped(lines: list[Line]) -> list[Line]:
    """Join a long line that stops mid-sentence with the line right after it (no blank between)."""
    out: list[Line] = []
    min_len = wrap_length(lines)
    for ln in lines:
        prev = out[-1] if out else None
        if (
            prev is not None
            and ln.text.strip()
            and prev.text.strip()
            and prev.end + 1 == ln.start
            and not prev.level and not ln.level and not prev.table and not ln.table
            and len(prev.text.strip()) >= min_len
            and prev.text.rstrip()[-1] not in LINE_END
            and not HEADING_START.match(ln.text.strip())
            and not LAW_ARTICLE.match(ln.text.strip()) and not LAW_DIVISION.match(ln.text.strip())
        ):
            out[-1] = Line(prev.start, ln.end, prev.text.rstrip() + ln.text.strip())
        else:
            out.append(ln)
    return out
