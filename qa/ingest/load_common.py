"""Helpers shared by the block loaders: joining wrapped lines, web page chrome, title clean-up."""
from __future__ import annotations

import re

# A line ending in one of these is complete; a line without one was wrapped (or is a heading).
LINE_END = "。！？!?；;：:…”\"」』"
# Paragraph openers of Chinese official documents: 一、 （一） 1. （1） 第一条 ① ——
OPENER = re.compile(
    r"^\s*(?:[(（][一二三四五六七八九十百]{1,3}[)）]|[一二三四五六七八九十百]{1,3}[、.．]"
    r"|[(（]\d{1,3}[)）]|\d{1,3}(?:[.．]\d{1,3})*[.．、]?\s|\d{1,3}[.．、](?!\d)"
    r"|第[一二三四五六七八九十百零〇]{1,5}[章节条部分编]|[①-⑳]|——|[•·●■◆▪]\s?)"
)
_ASCII_WORD_END = re.compile(r"[A-Za-z0-9,.;:%)\]]$")
_ASCII_WORD_START = re.compile(r"^[A-Za-z0-9(\[]")


def glue(a: str, b: str) -> str:
    """Join two pieces of one wrapped paragraph: no space between CJK, one between Latin words."""
    a, b = a.rstrip(), b.lstrip()
    if a and b and _ASCII_WORD_END.search(a) and _ASCII_WORD_START.match(b):
        return a + " " + b
    return a + b


def breaks_off(line: str, after: str) -> bool:
    """Whether a line stops mid-sentence and the line after it opens nothing new (an item 一、/（一）/
    第X条/… or a bracketed note): the two are one sentence broken across lines."""
    return line[-1] not in LINE_END and not OPENER.match(after) and after[0] not in "(（【["


def join_broken_lines(lines: list[str]) -> list[str]:
    """Lines of one HTML paragraph split by <br>: a line that does not end a sentence is continued
    by the next one unless that one opens a new item (一、/（一）/第X条/…) or a bracketed note, or
    a short line (a title line) is followed by a sentence (the 主送机关 line after a title)."""
    out: list[str] = []
    for ln in (s.strip() for s in lines):
        if not ln:
            continue
        if out and breaks_off(out[-1], ln) and (len(out[-1]) >= 25 or not any(c in ln for c in "，。；：！？,;:!?")):
            out[-1] = glue(out[-1], ln)
        else:
            out.append(ln)
    return out


_TITLE_SEPARATORS = re.compile(r"\s*(?:_{1,2}|\s[-–—|｜]\s|[-–|｜])\s*")


def title_from_page_title(title: str) -> str:
    """<title> of a web page minus its site name: the longest '_'/'-'/'|'-separated part."""
    title = re.sub(r"\s+", " ", title.replace("\u3000", " ")).strip()
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p.strip()]
    return max(parts, key=len) if parts else title


_BARE_NUMBER = re.compile(r"^[-+−]?\d[\d,，]*(?:\.\d+)?%?$")


def _once(cells) -> list[str]:
    """Cells of a row with a merged cell's repeats dropped; a figure is never a repeat (「0；0；0」)."""
    seen: set[str] = set()
    out = []
    for c in cells:
        if c in seen and not _BARE_NUMBER.match(c.rsplit("：", 1)[-1]):
            continue
        seen.add(c)
        out.append(c)
    return out


# A cell holding a bare figure; a column header that names its own measure (「比上年增长（%）」,
# 「金额(万元)」, 「占比」, 「增长率」) or makes its figures codes (「科目编码」, 「序号」, 「年份」).
TABLE_NUMBER = re.compile(r"^[-+−]?\d[\d,，]*(?:\.\d+)?$")
OWN_MEASURE = re.compile(r"[（(][^）)]{1,8}[）)]|[%％‰率比幅]")
_CODE_COLUMN = re.compile(r"码|序号|编号|代号|年份|年度$|^序$")
# A column giving each row's unit (statistical tables: 「指标｜单位｜绝对数｜比上年增长（%）」), not one
# naming organisations (「预算单位」, 「单位名称」): its cells end in a measure.
_UNIT_COLUMN = re.compile(r"(?:^|\s)(?:计量)?单位$")
_MEASURE_END = re.compile(r"[元吨人次个户家所座处项件台辆头只匹米里顷亩斤克升度时%％‰瓦方张套册本条名位床班批]$")


def takes_unit(name: str, value: str) -> bool:
    """Whether a cell under column `name` is a bare figure a unit can be written after: not a code or
    serial number (「科目编码：201」, 「05」)."""
    return (bool(TABLE_NUMBER.match(value)) and not _CODE_COLUMN.search(name)
            and not (value.startswith("0") and value[1:2].isdigit()))


def _row_unit(head: list[str], row: list[str]) -> list[str]:
    """A row's bare figures with the unit its 单位 cell gives (「绝对数：1894.73」 of a 万人次 row is
    1894.73万人次), except under a header that names its own measure or a code."""
    k = next((i for i, name in enumerate(head) if _UNIT_COLUMN.search(name)), None)
    unit = row[k] if k is not None else ""
    if not unit or len(unit) > 5 or any(c.isdigit() for c in unit) or not _MEASURE_END.search(unit):
        return row
    return [value + unit if i != k and takes_unit(head[i], value) and not OWN_MEASURE.search(head[i]) else value
            for i, value in enumerate(row)]


def table_rows(grid: list[list[str]], header: bool | None = None) -> list[str]:
    """「列名：值；列名：值」 rows of a table whose first row (or first two rows, when the first one
    groups columns with merged cells) names the columns; a table without such a header gives its
    cells joined by 「；」. Cells repeated by a merge appear once per row. header=True: the first row
    is the header, whatever it looks like (a reader that already joined a multi-row header)."""
    grid = [[c.strip() for c in row] for row in grid if any(c.strip() for c in row)]
    if not grid:
        return []
    width = max(len(r) for r in grid)
    grid = [r + [""] * (width - len(r)) for r in grid]

    def header_like(row: list[str]) -> bool:
        filled = [c for c in row if c]
        return bool(filled) and len(filled) * 2 >= len(row) and all(len(c) <= 30 for c in filled)

    head, body = grid[0], grid[1:]
    filled = [c for c in head if c]
    if header is None and len(grid) > 2 and len(set(filled)) < len(filled) and header_like(grid[1]):
        head = [" ".join(dict.fromkeys(x for x in (a, b) if x)) for a, b in zip(grid[0], grid[1])]
        body = grid[2:]
    if width < 2 or not body or header is False or header is None and not header_like(head):
        return ["；".join(_once(c for c in row if c)) for row in grid]
    rows = []
    for row in body:
        cells = [f"{name}：{value}" if name and name != value else value
                 for name, value in zip(head, _row_unit(head, row)) if value]
        if cells:
            rows.append("；".join(_once(cells)))
    return rows
