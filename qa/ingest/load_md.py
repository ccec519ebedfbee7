"""Markdown (.md) → RawBlocks: ATX headings (# … ######) are headings of that level; a table (a row
of cells, its |---| delimiter row, then rows) becomes one 「列名：值；列名：值」 block per row, as the
tables of .docx and .html do (load_common.table_rows); emphasis and images are markup; every other
non-blank line is a paragraph (list items stay as written); HTML comments such as
<!-- INFO END --> are dropped; a site generator's front matter (its title kept), containers, inline
HTML and entities are read as the page shows them. The first heading, when it is a level-1 heading at the top, is the title.
Lines of one paragraph that Markdown would join (no blank line between) stay separate blocks:
Chinese legal Markdown puts one clause per line. A hard-wrapped file (text converted from a PDF,
cut every 20–60 characters mid-sentence) is told apart by how often a line stops mid-sentence with
the next line right under it (WRAPPED_SHARE); there a line that stops mid-sentence is joined with the
next one unless that one opens a new item (load_common.OPENER) or a bracketed note."""
from __future__ import annotations

import html
import re
import statistics

from qa.ingest.blocks import RawBlock
from qa.ingest.load_common import LINE_END, breaks_off, glue, table_rows

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FENCE = re.compile(r"^\s*(```|~~~)")


# Site generators' Markdown (VuePress, Hugo, Jekyll): YAML front matter, ::: containers, @tab and
# [[toc]] markers, {attribute} lists after a heading, inline HTML (<p id=…>, <b>, <br>) and entities
# (&emsp;) stand around the text; a link keeps its text.
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_MARKER_LINE = re.compile(r"^\s*(?::::.*|@tab\b.*|\[\[toc\]\])\s*$")
_ATTRIBUTES = re.compile(r"\s*\{[^{}\n]*=[^{}\n]*\}\s*$")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?/?>")
_SPACES = re.compile(r"[ \t\u3000\u2003\u00a0]+")
_LINK = re.compile(r"\[([^\[\]\n]*)\]\([^()\s]*\)|<((?:https?|ftp)://[^<>\s]+)>")


_IMAGE = re.compile(r"!\[[^\]\n]*\]\([^()\s]*\)")
_EMPHASIS = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
# A table: a row with a cell separator, then its delimiter row (|---|:--:|), then its rows.
_DELIMITER_ROW = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
# Share of a file's text lines (8+ characters) that stop mid-sentence at the file's wrap width (at least
# WRAP_WIDTH of its median text line: a heading over its text is short) with another text line right
# under them. Measured on the 71 Markdown files of corpora/ (tests/test_load.py prints them): files with
# one paragraph or clause a line are at 0–0.25 (a Taiwan law whose clause lines stop at a colon, 0.25;
# a court 纪要 whose headings stand over paragraph lines was at 0.48 before the width was asked), the
# three hard-wrapped ones (from different sources) at 0.60, 0.66 and 0.82; the line is drawn in the gap.
# Round 28 added two more hard-wrapped files: an OCR text at 0.71 and a PDF extraction that lost a
# character at many line ends, 0.42 (a near call, still above the line); round 29 one more PDF text, 0.75.
WRAPPED_SHARE = 0.4
WRAP_WIDTH = 0.6
MIN_JUDGED_LINES = 20   # fewer text lines than this tell nothing about wrapping: the file is left as it is
_LIST_MARK = re.compile(r"^(?:[-*+]\s|\d{1,3}[.)]\s)")   # Markdown list items stay items


def _inline(text: str) -> str:
    text = _EMPHASIS.sub(r"\2", _IMAGE.sub("", text))
    return html.unescape(_TAG.sub("", _LINK.sub(lambda m: m.group(1) or m.group(2), text)))


def _cells(line: str) -> list[str]:
    line = line.strip()
    line = line[1:] if line.startswith("|") else line
    line = line[:-1] if line.endswith("|") and not line.endswith("\\|") else line
    return [_SPACES.sub(" ", _inline(c.replace("\\|", "|"))).strip() for c in _CELL_SPLIT.split(line)]


def md_blocks(text: str) -> tuple[list[RawBlock], list[str]]:
    text = _COMMENT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks: list[RawBlock] = []
    front = _FRONT_MATTER.match(text)
    if front:
        text = text[front.end():]
        title = re.search(r"^title:\s*['\"]?(.+?)['\"]?\s*$", front.group(1), re.M)
        if title and not _HEADING.match(text.lstrip("\n").split("\n", 1)[0]):
            blocks.append(RawBlock(title.group(1).strip(), 1))
    lines = text.split("\n")
    plain: dict[int, int] = {}   # block index → its source line index, for text lines
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if _FENCE.match(line) or _MARKER_LINE.match(line):
            continue
        if "|" in line and i < len(lines) and _DELIMITER_ROW.match(lines[i]) and "|" in lines[i]:
            grid = [_cells(line)]
            i += 1
            while i < len(lines) and "|" in lines[i] and lines[i].strip():
                grid.append(_cells(lines[i]))
                i += 1
            blocks.extend(RawBlock(row, table=True) for row in table_rows(grid))
            continue
        m = _HEADING.match(line)
        if m:
            heading = _SPACES.sub(" ", _inline(_ATTRIBUTES.sub("", m.group(2)))).strip()
            if heading:
                blocks.append(RawBlock(heading, len(m.group(1))))
            continue
        line = _SPACES.sub(" ", _inline(line)).strip()
        # thematic breaks, setext underlines, and what is left of a row of anchor links ("1 2 3 …")
        if line and not re.fullmatch(r"[-*_=]{3,}", line) and not re.fullmatch(r"[-*]?[\d\s]*", line):
            blocks.append(RawBlock(line))
            plain[len(blocks) - 1] = i - 1
    return unwrap(blocks, plain), []


def _continues(block: RawBlock, after: RawBlock) -> bool:
    """A text line that stops mid-sentence, with a text line after it that opens nothing new (nor a list item)."""
    return breaks_off(block.text, after.text) and not _LIST_MARK.match(after.text)


def wrapped_share(blocks: list[RawBlock], plain: dict[int, int]) -> float:
    """The share of text lines (8+ characters) that stop mid-sentence at the file's wrap width with a text
    line right under them."""
    texts = [i for i in plain if len(blocks[i].text) >= 8]
    if len(texts) < MIN_JUDGED_LINES:
        return 0.0
    width = WRAP_WIDTH * statistics.median(len(blocks[i].text) for i in texts)
    stopped = [i for i in texts if i + 1 in plain and plain[i + 1] == plain[i] + 1 and blocks[i].text[-1] not in LINE_END
               and len(blocks[i].text) >= width]
    return len(stopped) / len(texts) if texts else 0.0


def unwrap(blocks: list[RawBlock], plain: dict[int, int]) -> list[RawBlock]:
    """A hard-wrapped file's lines joined back into paragraphs (other files: unchanged).
    plain: block index → source line index, for the text lines (not headings or table rows)."""
    if wrapped_share(blocks, plain) < WRAPPED_SHARE:
        return blocks
    out: list[RawBlock] = []
    joinable = False   # the last block of out is a text line that may go on
    for i, b in enumerate(blocks):
        if joinable and i in plain and plain[i] == plain[i - 1] + 1 and _continues(out[-1], b):
            out[-1] = RawBlock(glue(out[-1].text, b.text))
        else:
            out.append(b)
        joinable = i in plain
    return out
