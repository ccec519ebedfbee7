"""Stage 1: read .txt/.md files into RawDocuments; a bad file becomes a warning, never an exception."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

SUFFIXES = (".txt", ".md")
MAX_BYTES = 20 * 1024 * 1024  # a policy document is kilobytes; 20 MB is surely not one


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


def decode(data: bytes, name: str = "") -> tuple[str, str]:
    """Return (text, encoding). Raises RejectedFile with a Chinese reason."""
    if not data.strip():
        raise RejectedFile("文件为空")
    if len(data) > MAX_BYTES:
        raise RejectedFile(f"文件过大（{len(data) // 1024 // 1024} MB，上限 {MAX_BYTES // 1024 // 1024} MB）")
    if b"\x00" in data[:8192]:
        raise RejectedFile("看起来是二进制文件，不是文本")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RejectedFile("无法按 UTF-8 或 GB18030 解码")
    sample = text[:8192]
    bad = sum(1 for c in sample if (ord(c) < 32 and c not in "\n\r\t\f") or c == "\ufffd")
    if bad > max(8, len(sample) // 50):
        raise RejectedFile("含有大量控制字符或乱码，不像文本文件")
    if not text.strip():
        raise RejectedFile("文件没有文字内容")
    return text, enc


def load_file(path: Path) -> RawDocument:
    data = path.read_bytes()
    text, enc = decode(data, path.name)
    return RawDocument(path.name, path, text, hashlib.sha256(data).hexdigest(), enc)


def list_files(docs_dir: Path) -> list[Path]:
    return sorted(p for p in Path(docs_dir).iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)


def load_directory(docs_dir: Path) -> tuple[list[RawDocument], list[LoadWarning]]:
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise FileNotFoundError(f"文档目录不存在：{docs_dir}")
    docs, warnings = [], []
    for path in list_files(docs_dir):
        try:
            docs.append(load_file(path))
        except (RejectedFile, OSError) as exc:
            warnings.append(LoadWarning(path.name, str(exc)))
    return docs, warnings
