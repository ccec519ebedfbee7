"""PDF → RawBlocks with pypdfium2; pages without a text layer are read by OCR (RapidOCR, PP-OCRv4).

Per page: the text layer's lines with their boxes (a superscript citation such as "[1-2]" is
merged into its line), or OCR'd lines when the page has no text. Then, over the whole document:
  running headers/footers  a line in the top or bottom three of a page whose text, digits
                           ignored, recurs on at least half of the pages (two pages at least):
                           browser print headers (date, time, title), URL footers with "1/3"
  page numbers             "12", "- 12 -", "40 / 143", "第 3 页 共 9 页" at a page edge
  web chrome               a printed web page's 「字号：大 中 小」, 「打印」 lines at a page edge
  title                    leading lines of page 1 set larger than the body, joined
  paragraphs               a wrapped line is joined with the next one, also across a page break,
                           unless the next one is indented (not a hanging indent: a full line
                           broken mid-sentence continues under the text of a numbered item), the line stops short of the right
                           margin by more than the next line's first word (or first character
                           with the punctuation that may not start a line), a wide vertical
                           gap lies between, or the next line
                           opens an item (一、/（一）/1./第X条) after a finished sentence
Every block carries the page it starts on; OCR'd blocks have ocr=True.
"""
from __future__ import annotations

import hashlib
import json
import re
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable

from qa.ingest.blocks import LoadCancelled, RawBlock, RejectedFile
from qa.ingest.chrome import is_chrome, strip_chrome_tail
from qa.ingest.load_common import LINE_END, OPENER, glue
from qa.ingest.pdf_tables import PdfTable, agrees, find_tables, render, title_of, unit_of

MIN_TEXT_CHARS = 20       # fewer visible characters than this: the page is an image, OCR it
OCR_DPI = 200             # PP-OCR reads body text of a scanned A4 page well from 200 dpi
MAX_OCR_PAGES = 60        # ~1 minute a page on a busy 2-core machine: more would stall indexing for hours
# Refused before a page is read: the longest official PDFs (yearbooks, plan compilations) run to a few
# hundred pages; past this the text would also exceed the index's per-document limit.
MAX_PDF_PAGES = 2000
EDGE_LINES = 3            # lines at the top and at the bottom of a page where headers/footers sit
_PAGE_NUMBER = re.compile(
    r"^\s*(?:[-—–－]\s*)?(?:\d{1,4}|[ivxlcdm]{1,6})(?:\s*[-—–－])?\s*$"
    r"|^\s*\d{1,4}\s*[/／]\s*\d{1,4}\s*$"
    r"|^\s*第\s*\d{1,4}\s*页(?:\s*[,，/]?\s*共\s*\d{1,4}\s*页)?\s*$"
    r"|^\s*(?:page\s*)?\d{1,4}\s*(?:of|/)\s*\d{1,4}\s*$",
    re.I,
)


@dataclass(frozen=True)
class Line:
    text: str
    x0: float
    top: float      # distance from the page top, in points
    x1: float
    bottom: float
    size: float     # tallest glyph (points): the font size up to a constant
    page: int
    ocr: bool = False
    table: bool = False   # a rendered row of a ruled table (pdf_tables), its own block


# ----------------------------------------------------------------------------- text layer

def _text_lines(textpage, page_no: int, page_height: float) -> list[Line]:
    import pypdfium2.raw as pdfium_c

    n = textpage.count_chars()
    lines: list[Line] = []
    chars: list[str] = []
    generated: set[int] = set()   # positions in chars of spaces pdfium made up
    box = [1e9, 1e9, -1e9, -1e9]  # x0, top, x1, bottom
    sizes: list[float] = []

    def flush():
        # pdfium inserts spaces where glyphs stand apart; next to a Chinese character such a space
        # is layout (autospacing, justification), not text: "2022 年" → "2022年"
        kept = [ch for k, ch in enumerate(chars)
                if not (k in generated and (_wide(chars[k - 1] if k else "") or _wide(chars[k + 1] if k + 1 < len(chars) else "")))]
        text = "".join(kept).strip()
        if text and box[0] < 1e9:
            lines.append(Line(re.sub(r"[ \u3000\u2002\u2003\u00a0]+", " ", text), box[0], box[1], box[2], box[3],
                              max(sizes) if sizes else box[3] - box[1], page_no))

    for i in range(n):
        code = pdfium_c.FPDFText_GetUnicode(textpage, i)
        if code in (10, 13):
            if chars:
                flush()
            chars, box, sizes, generated = [], [1e9, 1e9, -1e9, -1e9], [], set()
            continue
        if code == 0 or code == 0xFFFE:
            continue
        ch = chr(code)
        if ch.isspace() and pdfium_c.FPDFText_IsGenerated(textpage, i) == 1:
            generated.add(len(chars))
        chars.append(ch)
        if not ch.isspace():
            left, bottom, right, top = textpage.get_charbox(i)
            if right > left:
                box = [min(box[0], left), min(box[1], page_height - top),
                       max(box[2], right), max(box[3], page_height - bottom)]
                sizes.append(top - bottom)  # glyph box height: FPDFText_GetFontSize ignores the text matrix
    if chars:
        flush()
    return _merge_same_row(lines)


def _wide(ch: str) -> bool:
    return bool(ch) and ("\u2e80" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")


def _merge_same_row(lines: list[Line]) -> list[Line]:
    """A superscript or a separately drawn run sits on the row of the line before it: one line."""
    out: list[Line] = []
    for ln in lines:
        prev = out[-1] if out else None
        if prev is not None:
            overlap = min(prev.bottom, ln.bottom) - max(prev.top, ln.top)
            small = min(prev.bottom - prev.top, ln.bottom - ln.top)
            if small > 0 and overlap > 0.3 * small and ln.x0 >= prev.x1 - 2:
                out[-1] = Line(glue(prev.text, ln.text) if ln.x0 - prev.x1 < prev.size else prev.text + " " + ln.text,
                               prev.x0, min(prev.top, ln.top), max(prev.x1, ln.x1), max(prev.bottom, ln.bottom),
                               max(prev.size, ln.size), prev.page, prev.ocr)
                continue
        out.append(ln)
    return out


# ----------------------------------------------------------------------------- OCR

@lru_cache(maxsize=1)
def ocr_engine():
    """The PP-OCRv4 Chinese models ship inside the rapidocr-onnxruntime wheel: nothing downloads."""
    from rapidocr_onnxruntime import RapidOCR

    return RapidOCR()


def _ocr_lines(page, page_no: int) -> list[Line]:
    import numpy as np

    scale = OCR_DPI / 72
    image = page.render(scale=scale).to_numpy()
    if image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    result, _ = ocr_engine()(np.ascontiguousarray(image))
    boxes = []
    for quad, text, score in result or []:
        xs = [p[0] / scale for p in quad]
        ys = [p[1] / scale for p in quad]
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            boxes.append(Line(text, min(xs), min(ys), max(xs), max(ys), (max(ys) - min(ys)) * 0.8, page_no, True))
    # boxes come top to bottom; gather the boxes of one row and read them left to right
    boxes.sort(key=lambda b: (b.top + b.bottom) / 2)
    rows: list[list[Line]] = []
    for b in boxes:
        if rows:
            last = rows[-1][-1]
            if min(last.bottom, b.bottom) - max(last.top, b.top) > 0.5 * min(last.bottom - last.top, b.bottom - b.top):
                rows[-1].append(b)
                continue
        rows.append([b])
    lines = []
    for row in rows:
        row.sort(key=lambda b: b.x0)
        text = row[0].text
        for a, b in zip(row, row[1:]):
            text = glue(text, b.text) if b.x0 - a.x1 < 1.5 * a.size else text + " " + b.text
        lines.append(Line(text, row[0].x0, min(b.top for b in row), max(b.x1 for b in row),
                          max(b.bottom for b in row), statistics.median(b.size for b in row), page_no, True))
    return lines


# ----------------------------------------------------------------------------- page furniture

def _edges(page: list[Line]) -> set[int]:
    order = sorted((i for i in range(len(page)) if not page[i].table), key=lambda i: page[i].top)
    return set(order[:EDGE_LINES]) | set(order[-EDGE_LINES:])


def _furniture_key(text: str) -> str:
    return re.sub(r"\d+", "#", re.sub(r"\s+", "", text))


def remove_furniture(pages: list[list[Line]]) -> list[list[Line]]:
    """Drop running headers/footers, page numbers and web print chrome at the page edges."""
    counts: Counter[str] = Counter()
    for page in pages:
        counts.update({_furniture_key(page[i].text) for i in _edges(page)})
    repeated = max(2, (len(pages) + 1) // 2)
    out = []
    for page in pages:
        edges = _edges(page)
        kept = []
        for i, ln in enumerate(page):
            if ln.table:
                kept.append(ln)
                continue
            if i in edges and (counts[_furniture_key(ln.text)] >= repeated and len(pages) >= 2
                               or _PAGE_NUMBER.match(ln.text) or is_chrome(ln.text)):
                continue
            if i in edges:
                cut = strip_chrome_tail(ln.text)
                if cut != ln.text:
                    ln = replace(ln, text=cut)
            kept.append(ln)
        out.append(kept)
    return out


# ----------------------------------------------------------------------------- paragraphs

def _layout(lines: list[Line]) -> tuple[float, float, float, float]:
    """(left margin, right margin, body font size, usual line pitch) over the document's lines."""
    body = [ln for ln in lines if len(ln.text) >= 8] or lines
    size = statistics.median(ln.size for ln in body)
    left = Counter(round(ln.x0) for ln in body).most_common(1)[0][0]
    rights = sorted(ln.x1 for ln in body)
    right = rights[int(len(rights) * 0.9)] if rights else 0
    pitches = [b.top - a.top for a, b in zip(lines, lines[1:]) if a.page == b.page and 0 < b.top - a.top < 3 * size]
    pitch = statistics.median(pitches) if pitches else 1.5 * size
    return left, right, size, pitch


_LATIN_RUN = re.compile(r"^[A-Za-z0-9.,%+\-/:()\[\]]+")
_NO_LINE_START = "，。、；：？！）」』”’》〉】…%,.;:?!)"


def _first_unit_width(text: str, size: float) -> float:
    """Width of what the line breaker had to move as one piece: a Latin word or number, or a
    Chinese character with the punctuation that may not start a line."""
    m = _LATIN_RUN.match(text)
    if m:
        return 0.55 * size * len(m.group(0))
    n = 0
    while n < len(text) and text[n] in "“‘「『（《〈【(":   # may not end a line: moves with its character
        n += 1
    n += 1
    while n < len(text) and text[n] in _NO_LINE_START:
        n += 1
    return n * size


def _starts_paragraph(prev: Line, ln: Line, left: float, right: float, size: float, pitch: float) -> bool:
    full = prev.x1 + _first_unit_width(ln.text, size) >= right - 0.3 * size
    if ln.x0 > left + 0.9 * size:                   # first-line indent, centred line...
        # ...unless it is a hanging indent: a numbered item's wrapped lines stand under its text,
        # right of the number (Word lists: 「1.员工…直属」 at the margin, 「上级、…」 indented), after a
        # full line that breaks mid-sentence.
        hanging = full and prev.text[-1] not in LINE_END and ln.x0 >= prev.x0 - 0.5 * size
        if not hanging:
            return True
    if not full:
        return True                                 # the next line's first word would have fitted

    if ln.page == prev.page and ln.top - prev.top > 1.7 * pitch:   # paragraph spacing
        return True
    if prev.text[-1] in LINE_END and OPENER.match(ln.text):
        return True
    return False


def gutter(page: list[Line]) -> float | None:
    """The x of the gap between two columns of text set side by side on a page (a Hong Kong ordinance:
    Chinese left, English right; a bulletin set in two columns), or None for a page read across: a
    quarter of its lines at least stand wholly left of it, a quarter wholly right, and at most a
    tenth cross it (headings and running heads set across both columns)."""
    body = [ln for ln in page if not ln.table and len(ln.text) >= 4]
    if len(body) < 8:
        return None
    lo, hi = min(ln.x0 for ln in body), max(ln.x1 for ln in body)
    best: tuple[int, float] | None = None
    for step in range(30, 71):   # the gap stands in the middle of the text's width
        g = lo + (hi - lo) * step / 100
        left, right = sum(ln.x1 <= g for ln in body), sum(ln.x0 >= g for ln in body)
        crossing = len(body) - left - right
        if min(left, right) >= len(body) / 4 and crossing <= len(body) / 10 and (best is None or crossing < best[0]):
            best = (crossing, g)
    return best[1] if best else None


def _title(first: list[Line], size: float) -> int:
    """How many leading lines of page 1 form the title: set clearly larger than the body."""
    n = 0
    for ln in first[:4]:
        if ln.size >= 1.15 * size and len(ln.text) <= 60:
            n += 1
        else:
            break
    return n


def paragraphs(pages: list[list[Line]]) -> list[RawBlock]:
    lines = [ln for page in pages for ln in page]
    if not lines:
        return []
    left, right, size, pitch = _layout([ln for ln in lines if not ln.table] or lines)
    # On a page set in two columns each column has its own margins: a line of the left column ends
    # at the gap, not at the page's right margin, and is full there.
    column: dict[int, int] = {}
    for page in pages:
        g = gutter(page)
        if g is not None:
            column.update({id(ln): int(ln.x0 >= g) for ln in page if not ln.table and (ln.x1 <= g or ln.x0 >= g)})
    margins = {c: _layout([ln for ln in lines if column.get(id(ln)) == c])[:2] for c in set(column.values())}
    blocks: list[RawBlock] = []
    n_title = _title(pages[0], size) if pages and pages[0] else 0
    if n_title:
        title = ""
        for ln in lines[:n_title]:
            title = glue(title, ln.text)
        blocks.append(RawBlock(title, 1, lines[0].page, ocr=lines[0].ocr))
        lines = lines[n_title:]
    current: list[Line] = []

    def flush():
        if current:
            text = ""
            for ln in current:
                text = glue(text, ln.text)
            blocks.append(RawBlock(text, 0, current[0].page, ocr=any(ln.ocr for ln in current)))

    for ln in lines:
        if ln.table:
            flush()
            current = []
            blocks.append(RawBlock(ln.text, 0, ln.page, table=True))
            continue
        c = column.get(id(ln))
        if current and (column.get(id(current[-1])) != c
                        or _starts_paragraph(current[-1], ln, *margins.get(c, (left, right)), size, pitch)):
            flush()
            current = []
        current.append(ln)
    flush()
    return blocks


# ----------------------------------------------------------------------------- document

def _cached_ocr(page, page_no: int, cache: Path | None, sha: str) -> list[Line]:
    """OCR of one page, kept in the cache directory by the file's hash: opening the index again,
    or indexing a file that was just validated on upload, does not OCR the page twice."""
    if cache is None:
        return _ocr_lines(page, page_no)
    path = Path(cache) / f"{sha[:40]}-p{page_no}-{OCR_DPI}dpi.json"
    try:
        return [Line(**d) for d in json.loads(path.read_text(encoding="utf-8"))]
    except (OSError, ValueError, TypeError):
        pass
    lines = _ocr_lines(page, page_no)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps([asdict(ln) for ln in lines], ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache only costs time
    return lines


def pdf_blocks(data: bytes, ocr: bool = True, ocr_cache: Path | None = None,
               cancel: Callable[[], bool] | None = None) -> tuple[list[RawBlock], list[str]]:
    """The blocks of a PDF and notes for the reader. cancel() is asked before every page that needs
    OCR (the slow step): True stops with LoadCancelled."""
    import pypdfium2 as pdfium

    if not data.lstrip()[:1024].find(b"%PDF") >= 0:
        raise RejectedFile("不是有效的 PDF 文件（文件头不是 %PDF，可能是改了扩展名的其他文件）")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise RejectedFile("PDF 已加密（需要密码），无法读取；请提供未加密的版本") from exc
        raise RejectedFile("PDF 文件已损坏，无法打开") from exc
    if len(pdf) > MAX_PDF_PAGES:
        n = len(pdf)
        pdf.close()
        raise RejectedFile(f"PDF 页数过多（{n} 页，上限 {MAX_PDF_PAGES} 页），请拆分后再添加")
    notes: list[str] = []
    pages: list[list[Line]] = []
    sha = hashlib.sha256(data).hexdigest()
    ocr_pages: list[int] = []
    skipped: list[int] = []
    drawn: dict[int, int] = {}   # text-layer page → drawn paths on it (ruled tables are drawn)
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            height = page.get_height()
            textpage = page.get_textpage()
            lines = _text_lines(textpage, i + 1, height)
            textpage.close()
            if sum(len(re.sub(r"\s", "", ln.text)) for ln in lines) < MIN_TEXT_CHARS:
                if ocr and len(ocr_pages) < MAX_OCR_PAGES:
                    if cancel is not None and cancel():
                        raise LoadCancelled()
                    lines = _cached_ocr(page, i + 1, ocr_cache, sha)
                    ocr_pages.append(i + 1)
                else:
                    lines = []
                    skipped.append(i + 1)
            else:
                drawn[i + 1] = _paths(page)
            page.close()
            pages.append(lines)
    finally:
        pdf.close()
    if ocr_pages:
        notes.append(f"第 {_ranges(ocr_pages)} 页没有文字层，已用 OCR 识别，文字可能有误，请核对原件")
    if skipped and ocr:
        notes.append(f"第 {_ranges(skipped)} 页没有文字层，超过 OCR 上限（{MAX_OCR_PAGES} 页）未识别")
    # tables first: the title and 「单位：万元」 above a table recur on every page of a table report and
    # would go as running headers
    blocks = paragraphs(remove_furniture(place_tables(pages, find_tables(data, drawn))))
    return blocks, notes


def _paths(page) -> int:
    import pypdfium2.raw as pdfium_c

    return sum(1 for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_PATH], max_depth=2))


# ----------------------------------------------------------------------------- tables

_NEAR = 60   # points: a title or unit line stands this close above its table


def _inside(ln: Line, t: PdfTable) -> bool:
    cx, cy = (ln.x0 + ln.x1) / 2, (ln.top + ln.bottom) / 2
    return t.x0 - 2 <= cx <= t.x1 + 2 and t.top - 2 <= cy <= t.bottom + 2


def _centred(ln: Line, t: PdfTable) -> bool:
    width = t.x1 - t.x0
    return abs((ln.x0 + ln.x1) / 2 - (t.x0 + t.x1) / 2) <= 0.1 * width and ln.x1 - ln.x0 < 0.9 * width


def place_tables(pages: list[list[Line]], tables: list[PdfTable]) -> list[list[Line]]:
    """Each ruled table's lines replaced by its rendered rows, where pdfium's text of the table's box
    agrees with the grid. A table as wide as one that ended the page before, with no title of its
    own, goes on under that one's header, title and unit."""
    by_page: dict[int, list[PdfTable]] = {}
    for t in tables:
        by_page.setdefault(t.page, []).append(t)
    out: list[list[Line]] = []
    carry: tuple[list[str] | None, int, str, str] | None = None   # header, width, title, unit
    for lines in pages:
        if not lines:
            out.append(lines)
            continue
        page_tables = sorted(by_page.get(lines[0].page, []), key=lambda t: t.top)
        if not page_tables:
            carry = None
        lines = list(lines)
        for t in page_tables:
            inside = [ln for ln in lines if _inside(ln, t) and not ln.table]
            if not inside or not agrees(t, "".join(ln.text for ln in inside)):
                carry = None
                continue
            above = sorted((ln for ln in lines if ln.bottom <= t.top + 2 and not _inside(ln, t)),
                           key=lambda ln: ln.bottom)
            near = [ln for ln in above if t.top - ln.bottom <= _NEAR]
            unit, slots = unit_of([ln.text for ln in near], t.slots)
            title = title_of([(ln.text, _centred(ln, t)) for ln in near])
            head = None
            width = len(slots[0]) if slots else 0
            if carry is not None and not title and width == carry[1]:
                head, title, unit = carry[0], carry[2], unit or carry[3]
            rows, head = render(slots, title, unit, head)
            at = lines.index(inside[0])   # no line of the table stands before its first one
            kept = [ln for ln in lines if ln not in inside]
            rendered = [Line(row, t.x0, t.top, t.x1, t.bottom, 0.0, t.page, table=True) for row in rows]
            lines = kept[:at] + rendered + kept[at:]
            # a table ends its page when at most a footer (a few short lines) stands below it
            below = [ln for ln in lines if ln.top >= t.bottom - 2 and not ln.table]
            ends_page = len(below) <= EDGE_LINES and all(len(ln.text) <= 40 for ln in below)
            carry = (head, width, title, unit) if ends_page else None
        out.append(lines)
    return out


def _ranges(pages: list[int]) -> str:
    out, start = [], pages[0]
    for a, b in zip(pages, pages[1:] + [None]):
        if b != a + 1:
            out.append(str(start) if start == a else f"{start}–{a}")
            start = b
    return "、".join(out)
