"""Stage 1: read documents into RawDocuments; a bad file becomes a warning, never an exception.

One loader per format (qa/ingest/load_docx.py, qa/ingest/load_pdf.py, qa/ingest/load_html.py, qa/ingest/load_md.py; plain text
here, decoded by qa/ingest/decode.py), all yielding the same structure: RawBlocks, one paragraph, heading or table row each, with
the document title as a level-1 heading block first when the format names one.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

from qa.ingest.blocks import LoadCancelled, LoadWarning, RawBlock, RawDocument, RejectedFile  # noqa: F401 (the loaders' types, named here too)
from qa.ingest.decode import MAX_BYTES, check_size, decode, encoding_warning  # noqa: F401 (MAX_BYTES named here too)

SUFFIXES = (".txt", ".md", ".markdown", ".docx", ".pdf", ".html", ".htm")
FORMATS = {".txt": "txt", ".md": "md", ".markdown": "md", ".docx": "docx", ".pdf": "pdf", ".html": "html", ".htm": "html"}
# A PDF or Word file carries fonts and images: its size says little about its text.
MAX_BINARY_BYTES = 100 * 1024 * 1024
SUPPORTED_TEXT = "支持 .txt、.md、.docx、.pdf、.html/.htm 文件"


def render(blocks: list[RawBlock] | tuple[RawBlock, ...]) -> str:
    """RawDocument.text of a block-structured document: line i is blocks[i - 1]."""
    return "\n".join(("#" * b.level + " " + b.text) if b.level else b.text for b in blocks)


def load_bytes(name: str, data: bytes, path: Path | None = None, ocr_cache: Path | None = None,
               cancel: Callable[[], bool] | None = None) -> RawDocument:
    """Load one file's bytes by its suffix. Raises RejectedFile with a Chinese reason.

    ocr_cache: a directory where OCR results of scanned PDF pages are kept by file hash.
    cancel: asked between OCR pages of a scan; True stops with LoadCancelled."""
    path = Path(path or name)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise RejectedFile(f"不支持的文件类型（{SUPPORTED_TEXT}）")
    sha = hashlib.sha256(data).hexdigest()
    if fmt == "txt":
        text, enc = decode(data, name)
        return RawDocument(path.name, path, text, sha, enc, format="txt", warnings=encoding_warning(enc))
    if fmt in ("md", "html"):
        text, enc = decode(data, name)
        if fmt == "md":
            from qa.ingest.load_md import md_blocks
            blocks, notes = md_blocks(text)
        else:
            from qa.ingest.load_html import html_blocks
            blocks, notes = html_blocks(text)
        notes = encoding_warning(enc) + tuple(notes)
    else:
        check_size(data, MAX_BINARY_BYTES)
        enc = "binary"
        if fmt == "docx":
            from qa.ingest.load_docx import docx_blocks
            blocks, notes = docx_blocks(data)
        else:
            from qa.ingest.load_pdf import pdf_blocks
            blocks, notes = pdf_blocks(data, ocr_cache=ocr_cache, cancel=cancel)
    if not any(b.text.strip() for b in blocks):
        raise RejectedFile("文件没有可读的文字内容")
    blocks = tuple(blocks)
    return RawDocument(path.name, path, render(blocks), sha, enc, blocks, fmt, tuple(notes))


def load_file(path: Path, ocr_cache: Path | None = None) -> RawDocument:
    path = Path(path)
    return load_bytes(path.name, path.read_bytes(), path, ocr_cache)


def list_files(docs_dir: Path) -> list[Path]:
    return sorted(p for p in Path(docs_dir).iterdir()
                  if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."))


def load_directory(docs_dir: Path, ocr_cache: Path | None = None) -> tuple[list[RawDocument], list[LoadWarning]]:
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise FileNotFoundError(f"文档目录不存在：{docs_dir}")
    docs, warnings = [], []
    for path in list_files(docs_dir):
        try:
            docs.append(load_file(path, ocr_cache))
        except (RejectedFile, OSError) as exc:
            warnings.append(LoadWarning(path.name, str(exc)))
        except Exception as exc:  # a parser bug on one hostile file must not sink the corpus
            warnings.append(LoadWarning(path.name, f"无法读取（{type(exc).__name__}）"))
    return docs, warnings
