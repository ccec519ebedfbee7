"""What every loader yields: RawBlocks of a RawDocument, or a RejectedFile / LoadWarning.

Its own module so that the loaders (load_docx, load_pdf, load_html, load_md) and the dispatcher
(load.py) share the types without importing each other."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RawBlock:
    """One block of a document as its format gives it: a paragraph, a heading or a table row.

    Every loader (txt, md, docx, pdf, html) yields these; cleaning and sectioning see the same
    structure whatever the format. Line i (1-based) of RawDocument.text is blocks[i - 1]."""
    text: str                    # one line, no newline
    level: int = 0               # heading level 1..6 when the format marks a heading, else 0
    page: int | None = None      # 1-based page of a paged format (PDF)
    table: bool = False          # a table row, rendered 「列名：值；列名：值」
    ocr: bool = False            # read by OCR from a page image


@dataclass(frozen=True)
class RawDocument:
    name: str
    path: Path
    text: str
    sha256: str
    encoding: str
    # Empty for plain text, whose lines are its blocks; otherwise text is rendered from them,
    # one block per line (a heading of level n as "#"*n + " " + text).
    blocks: tuple[RawBlock, ...] = ()
    format: str = "txt"          # txt | md | docx | pdf | html
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadWarning:
    name: str
    reason: str

    def __str__(self) -> str:
        return f"已跳过 {self.name}：{self.reason}"


class RejectedFile(ValueError):
    pass


class LoadCancelled(Exception):
    """Reading a file stopped because its upload was cancelled (polled per OCR page)."""
