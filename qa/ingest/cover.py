"""A standard's or technical document's cover (GB/T 1.1) read as fields: classification codes, the
banner naming the kind of standard, the designation, 代替, the stage (报批稿), the English title, the
dates it is issued and put in force, and the bodies that issue it. qa/ingest/header.py reads the lines
at the top of a document through cover_fields() when a designation stands among them; the Chinese lines
after the designation are the title. docs/formats.md (cover) lists the documents it is tested on.
"""
from __future__ import annotations

import re

from qa.text.normalize import written_dates

DESIGNATION = re.compile(r"^(?:GB(?:/[TZ])?|[A-Z]{1,4}/[TZ]|DB\d{2,6}(?:/T)?|T/[A-Z]{2,10}|TC\d+)\s*[-—]?\s*\d[\d.]*"
                          r"(?:\s*[-—－]\s*\d{2,4})?$")
_CLASS_CODE = re.compile(r"^(?:ICS|CCS)\s*[\d.;；,，A-Z ]+$|^[A-Z]\s?\d{2}$|^[A-Z]{1,4}$")
_FILING = re.compile(r"^备\s*案\s*号\s*[:：]?\s*(.*)$")
_REPLACES = re.compile(r"^代\s*替\s*(.+)$")
_STAGE = re.compile(r"^[(（]\s*(.{1,10}稿)\s*[)）]$")   # 「（报批稿）」, 「(征求意见稿)」
_BANNER = re.compile(r"^(?:TC\d+\s*)?[\u4e00-\u9fff]{2,30}(?:标准|技术文件)$")
_ISO_DAY = r"\d{4}\s*[-.]\s*\d{1,2}\s*[-.]\s*\d{1,2}"
_COVER_DATES = re.compile(rf"^({_ISO_DAY})\s*发\s*布\s*(?:({_ISO_DAY})\s*实\s*施)?$")
_LATIN_LINE = re.compile(r"^[A-Za-z][A-Za-z0-9\s\-—,:;()'’/.&]+$")
PUBLISHER = re.compile(r"^(.{2,60}?)\s*发\s*布\s*(?:(?:GB|[A-Z]{1,4}/[TZ])\s*[\d.]+\s*[-—－]\s*\d{2,4})?$")


def is_designation(line: str) -> bool:
    return bool(DESIGNATION.match(line.strip()))


def is_publisher(line: str) -> bool:
    return bool(PUBLISHER.match(line.strip()))


def _cover_day(text: str) -> str:
    return written_dates(re.sub(r"\s+", "", text))


def cover_fields(text: str, designated: bool = True) -> list[tuple[str, str]] | None:
    """A line of a standard's cover as its (field, value) pairs: none for a classification code,
    which says nothing a reader asks; two for 「…发布 …实施」. None: not a cover line (the title, or
    the body). The banner (「中华人民共和国国家标准」) stands above the designation; below it, a line
    ending in 标准 is the title."""
    s = text.strip()
    if _CLASS_CODE.match(s):
        return []
    if DESIGNATION.match(s):
        return [("标准编号", s)]
    if not designated and _BANNER.match(s):
        return [("标准类别", s)]
    if m := _FILING.match(s):
        return [("备案号", m.group(1))]
    if m := _REPLACES.match(s):
        return [("代替", m.group(1))]
    if m := _STAGE.match(s):
        return [("稿本", m.group(1))]
    if m := _COVER_DATES.match(s):
        return [("发布日期", _cover_day(m.group(1)))] + ([("施行日期", _cover_day(m.group(2)))] if m.group(2) else [])
    if _LATIN_LINE.match(s) and len(s) >= 12:
        return [("英文名称", s)]
    if m := PUBLISHER.match(s):
        return [("发文机关署名", m.group(1))]
    return None
