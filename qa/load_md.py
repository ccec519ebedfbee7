"""Markdown (.md) → RawBlocks: ATX headings (# … ######) are headings of that level; every other
non-blank line is a paragraph (list items and table rows stay as written); HTML comments such as
<!-- INFO END --> are dropped. The first heading, when it is a level-1 heading at the top, is the title.
Lines of one paragraph that Markdown would join (no blank line between) stay separate blocks:
Chinese legal Markdown puts one clause per line."""
from __future__ import annotations

import re

from .load import RawBlock

_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_FENCE = re.compile(r"^\s*(```|~~~)")


def md_blocks(text: str) -> tuple[list[RawBlock], list[str]]:
    text = _COMMENT.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    blocks: list[RawBlock] = []
    for line in text.split("\n"):
        if _FENCE.match(line):
            continue
        m = _HEADING.match(line)
        if m:
            heading = re.sub(r"[ \t\u3000]+", " ", m.group(2)).strip()
            if heading:
                blocks.append(RawBlock(heading, len(m.group(1))))
            continue
        line = re.sub(r"[ \t\u3000\u00a0]+", " ", line).strip()
        if line and not re.fullmatch(r"[-*_=]{3,}", line):  # thematic breaks and setext underlines
            blocks.append(RawBlock(line))
    return blocks, []
