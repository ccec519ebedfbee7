"""Ruled tables of a text-layer PDF, read with pdfplumber.

pdfium gives a table's cells as loose lines: a row's figures lose their column names, the title and
「单位：万元」 above the table are far from the figure asked about, and a row read across columns
glues numbers together. Here a ruled table (cell borders drawn as lines or rectangles) is read as a
grid and rendered like the tables of .docx, .html and .md (load_common.table_rows): one
「列名：值；列名：值」 row a block, each prefixed with the table's title 【…】 when one stands right
above it, and with the table's unit written after every bare number of a column that names no unit
of its own. A table that goes on over the next page keeps the header, title and unit of its first
part.

Only text-layer pages with enough drawn paths are read (pdfplumber parses a page in ~0.1 s); a grid
whose characters the pdfium text of the same area does not hold (a font without a Unicode map, a
stray box around a paragraph) is left to the line reader.
"""
from __future__ import annotations

import io
import logging
import re
from collections import Counter
from dataclasses import dataclass

from qa.ingest.load_common import OWN_MEASURE, TABLE_NUMBER, glue, table_rows, takes_unit

MIN_PATHS = 4          # drawn paths on a page below which it holds no ruled table
MIN_AGREEMENT = 0.9    # share of a grid's characters that pdfium's text of the same area must hold
MAX_TITLE = 40         # a title above a table is a short line, not a sentence
_UNIT = re.compile(r"(?:计量)?单位\s*[：:]\s*([^\s\d：:，。；,;（）()]{1,6})\s*$")
_BRACKET_UNIT = re.compile(r"[（(]\s*(%|％|‰|[万亿千百]?元)\s*[）)]\s*$")
_FIGURES_GLUED = re.compile(r"^[-+−]?[\d,，.%]*\d[\d,，.%]*(?:\s+[-+−]?[\d,，.%]*\d[\d,，.%]*)+$")
# A cell with a digit and no Chinese (「★(1218)」, 「261-159-50」, 「1223」) is a value: a row holding one
# is no header.
_VALUE_CELL = re.compile(r"^[^\u4e00-\u9fff]*\d[^\u4e00-\u9fff]*$")
_TABLE_NAME = re.compile(r"^(?:附)?表\s*[\d一二三四五六七八九十]|表$|一览$|清单$|明细$")


Slot = tuple[str, bool]   # a grid position's text, and whether it repeats a merged cell that covers it


@dataclass(frozen=True)
class PdfTable:
    page: int                     # 1-based
    x0: float
    top: float
    x1: float
    bottom: float
    slots: tuple[tuple[Slot, ...], ...]

    @property
    def text(self) -> str:
        return "".join(tx for row in self.slots for tx, copy in row if not copy)


def _cell(text: str | None) -> str:
    out = ""
    for part in (text or "").split("\n"):
        out = glue(out, part.strip())
    out = re.sub(r"[ \u3000]+", " ", out).strip()
    return re.sub(r"(?<=[\u4e00-\u9fff]) (?=[\u4e00-\u9fff])", "", out)   # letter-spaced 「合 计」


def _starts(groups, axis: int) -> list[float]:
    """Where each row (axis 1) or column (axis 0) begins: its cells' least top or left edge. A row's
    own bbox is no guide: a cell merged down from it makes it as tall as the merge."""
    return [min(c[axis] for c in g.cells if c is not None) for g in groups]


def _slots(table) -> tuple[tuple[Slot, ...], ...]:
    """Every grid position with its text: pdfplumber leaves a position that a merged cell covers
    empty (None); it gets the covering cell's text, marked as a copy."""
    texts = table.extract()
    cells: dict[tuple, str] = {}
    for row, values in zip(table.rows, texts):
        for box, value in zip(row.cells, values):
            if box is not None:
                cells[box] = _cell(value)
    _, _, x1, bottom = table.bbox
    ys = _starts(table.rows, 1) + [bottom]
    xs = _starts(table.columns, 0) + [x1]
    out = []
    for i, row in enumerate(table.rows):
        y = (ys[i] + ys[i + 1]) / 2
        slots: list[Slot] = []
        for k, box in enumerate(row.cells):
            if box is not None:
                slots.append((cells[box], False))
                continue
            x = (xs[k] + xs[k + 1]) / 2 if k + 1 < len(xs) else -1
            cover = next((v for b, v in cells.items() if b[0] <= x <= b[2] and b[1] <= y <= b[3]), "")
            slots.append((cover, True))
        out.append(tuple(slots))
    return tuple(out)


def find_tables(data: bytes, pages: dict[int, int]) -> list[PdfTable]:
    """The ruled tables of the given pages ({1-based page: drawn paths on it}); [] when pdfminer
    cannot read the file (pdfium could, so the lines stay)."""
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    wanted = sorted(p for p, n in pages.items() if n >= MIN_PATHS)
    if not wanted:
        return []
    out: list[PdfTable] = []
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for no in wanted:
                page = pdf.pages[no - 1]
                for t in page.find_tables():
                    slots = _slots(t)
                    if not _grid_like(slots):
                        continue
                    x0, top, x1, bottom = t.bbox
                    out.append(PdfTable(no, x0, top, x1, bottom, slots))
                page.close()
    except Exception:   # noqa: BLE001  pdfminer's parser raises many kinds on files pdfium reads
        return []
    return out


def _grid_like(slots: tuple[tuple[Slot, ...], ...]) -> bool:
    """Half of the rows (two at least) with text in two cells or more: a frame drawn around a page's
    text (each line a row, one cell across or one beside an empty margin cell) is no table. Nor is a
    grid with a cell holding several figures side by side (「15,953.01 68,885.35」): its columns were
    not ruled, and the grid glued them."""
    rows = [r for r in slots if any(tx for tx, _ in r)]
    split = sum(1 for r in rows if sum(1 for tx, copy in r if tx and not copy) >= 2)
    glued = any(_FIGURES_GLUED.match(tx) for r in rows for tx, copy in r if not copy)
    return split >= 2 and split * 2 >= len(rows) and not glued


def _chars(text: str) -> Counter[str]:
    return Counter(re.sub(r"\s", "", text))


def agrees(table: PdfTable, area_text: str) -> bool:
    """Whether pdfium's text inside the table's box holds the grid's characters, and the grid holds
    the box's: a font pdfminer decodes differently (no Unicode map), or a grid that missed part of
    the box (a frame drawn around text and a table), is not used."""
    grid = _chars(table.text)
    area = _chars(area_text)
    if not grid or not area:
        return False
    held = sum((grid & area).values())
    return held >= MIN_AGREEMENT * sum(grid.values()) and held >= MIN_AGREEMENT * sum(area.values())


def unit_of(lines_above: list[str], slots: tuple[tuple[Slot, ...], ...]) -> tuple[str, tuple[tuple[Slot, ...], ...]]:
    """The table's unit, from a 「单位：万元」 line right above it (alone or at the end of the title
    line) or from a first row that holds only that; the slots without such a row."""
    if slots and len({tx for tx, _ in slots[0] if tx}) == 1 and (m := _UNIT.match(next(tx for tx, _ in slots[0] if tx))):
        return m.group(1), slots[1:]
    for text in lines_above[-2:]:
        if m := _UNIT.search(text):
            return m.group(1), slots
    return "", slots


def title_of(lines_above: list[tuple[str, bool]]) -> str:
    """The line right above the table (under a unit line) when it reads as a title: short, not a
    sentence or a lead-in 「如下：」, and centred over the table or naming itself a table (表)."""
    for text, centred in reversed(lines_above[-2:]):
        bare = _UNIT.sub("", text).strip()
        if not bare:
            continue
        if len(bare) <= MAX_TITLE and bare[-1] not in "。；;，,：:" and (centred or _TABLE_NAME.search(bare)):
            return bare
        return ""
    return ""


def _with_units(head: list[str], row: list[str], unit: str) -> list[str]:
    """A bare number gets the unit of its column header 「增长（%）」, or else the table's unit when the
    header names no measure of its own."""
    out = []
    for k, value in enumerate(row):
        name = head[k] if k < len(head) else ""
        if takes_unit(name, value):
            if m := _BRACKET_UNIT.search(name):
                value += m.group(1)
            elif unit and not OWN_MEASURE.search(name):
                value += unit
        out.append(value)
    return out


def _joined(head: list[str], row: list[str]) -> tuple[list[str], list[str]]:
    """Columns under one merged header cell read as one: 「项目：三、本年度办理结果 （一）予以公开」."""
    names: list[str] = []
    values: list[str] = []
    for name, value in zip(head, row):
        if names and name == names[-1]:
            if value and value not in values[-1].split(" "):
                values[-1] = f"{values[-1]} {value}".strip()
            continue
        names.append(name)
        values.append(value)
    return names, values


def _data(row: tuple[Slot, ...]) -> bool:
    return any(not copy and TABLE_NUMBER.match(tx) for tx, copy in row)


def _header_like(row: tuple[Slot, ...]) -> bool:
    return sum(1 for tx, _ in row if tx) * 2 >= len(row) and not any(_VALUE_CELL.match(tx) for tx, _ in row)


MAX_HEADER_ROWS = 3
MAX_NAME = 30          # a longer header cell is a note on the column (「本列数据的勾稽关系为…」), not its name


def render(slots: tuple[tuple[Slot, ...], ...], title: str, unit: str,
           head: list[str] | None = None) -> tuple[list[str], list[str] | None]:
    """「列名：值」 rows, and the header the last row was read under (a continuation on the next page
    goes on under it). A table of figures: the rows without figures above the first row with
    figures (up to three, as wide as the table: merged cells repeat) name the columns, and a new such
    block further down (a sub-table) names them anew; a merged label repeats along its rows, a merged
    figure does not. A table of text: its first row names the columns when it reads as a header."""
    prefix = f"【{title}】" if title else ""
    rows = [r for r in slots if any(tx for tx, _ in r)]
    if not rows:
        return [], head
    if not any(_data(r) for r in rows):
        grid = [[tx for tx, _ in r] for r in rows]
        if head is not None and len(head) == len(grid[0]) and grid[0] != head:
            grid = [head] + grid
        # a column header is not one of the column's values (a glossary's 「指」 column repeats one)
        repeats = any(tx and not copy and any(k < len(r) and r[k] == (tx, False) for r in rows[1:])
                      for k, (tx, copy) in enumerate(rows[0]))
        header = True if head is not None else None if _header_like(rows[0]) and not repeats else False
        return [prefix + r for r in table_rows(grid, header)], grid[0] if header is not False else None
    out: list[str] = []
    pending: list[tuple[Slot, ...]] = []

    def emit(row: tuple[Slot, ...]) -> None:
        if len({tx for tx, _ in row}) == 1:      # one cell across the table: a line of its own
            out.append(prefix + row[0][0])
            return
        cells = [tx if not (copy and TABLE_NUMBER.match(tx)) else "" for tx, copy in row]
        if head is not None and len(head) == len(cells):
            names, values = _joined(head, _with_units(head, cells, unit))
            rendered = table_rows([names, values], header=True)
        else:
            rendered = table_rows([_with_units([""] * len(cells), cells, unit)], header=False)
        out.extend(prefix + r for r in rendered)

    for row in rows:
        if not _data(row):
            pending.append(row)
            continue
        if pending and len(pending) <= MAX_HEADER_ROWS and all(_header_like(p) for p in pending):
            head = [" ".join(dict.fromkeys(p[k][0] for p in pending if k < len(p) and p[k][0]))
                    for k in range(len(row))]
            head = [name if len(name) <= MAX_NAME else "" for name in head]
        else:
            for p in pending:
                emit(p)
        pending = []
        emit(row)
    for p in pending:
        emit(p)
    return out, head
