"""Stage 3: turn cleaned lines into a section tree of paragraphs.

Heading systems recognised (levels are assigned by order of first appearance in each document,
so "一、 > (一) > 1." and "一、 > 第一," both nest naturally):
  cn       一、二、…
  paren    (一)（二）…
  arabic   1. 2、 (not 1.5)
  parnum   (1)（2）
  ordinal  第一, 首先, 其次, 再次 — the heading is the opening clause; the paragraph keeps its full text
  title    a standalone short line without sentence punctuation, followed by body text;
           consecutive title lines merge ("创新…机制——" + "有为有位 无为让位")
A marked line that carries body text after its heading ("(四)坚持…经济基础一是围绕…") is split at
the first sentence end or inline enumerator; inline enumerations ("一是…二是…") stay in their paragraph.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from .clean import SENTENCE_END, Cleaned, Line, clean
from .load import RawDocument
from .schema import Document, Paragraph

_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("cn", re.compile(r"^[一二三四五六七八九十]{1,3}、")),
    ("paren", re.compile(r"^[(（][一二三四五六七八九十]{1,3}[)）]")),
    ("parnum", re.compile(r"^[(（]\d{1,2}[)）]")),
    ("arabic", re.compile(r"^\d{1,2}[.．、](?!\d)")),
]
_ORDINAL = re.compile(r"^(第[一二三四五六七八九十]{1,3}|首先|其次|再次)[,，、:：]")
_ORDINAL_CLAUSE = re.compile(r"[。；;，,：:！？!?]")
_CLOSING = re.compile(r"^(总之|综上所述|总而言之|总的来看|总的来说)[,，]")
_INLINE_ENUM = re.compile(r"(一是|其一|首先|第一是)")
MAX_HEADING = 50   # characters; a longer "heading" is a numbered paragraph
MAX_TITLE_LINE = 30
META_SECTION = "文档信息"
META_ORDER = ("标题", "作者", "日期", "来源", "栏目", "编辑", "关键词")


@dataclass(frozen=True)
class Block:
    kind: str          # "heading" | "para"
    style: str         # heading style, "" for paragraphs
    text: str
    lines: tuple[int, int]


def _marker_style(text: str) -> str | None:
    for style, pat in _MARKERS:
        if pat.match(text):
            return style
    return None


def _split_marked(text: str) -> tuple[str, str]:
    """Split "(四)heading text一是body…" into (heading, body); body may be empty."""
    m_end = re.search(r"[。！？!?]", text)
    cut = m_end.start() if m_end else len(text)
    m_enum = _INLINE_ENUM.search(text, 4)
    if m_enum and m_enum.start() < cut:
        return text[: m_enum.start()].rstrip("，,；; "), text[m_enum.start():]
    if m_end is None:
        return text, ""
    return text[:cut], text[cut + 1:].strip()


def _is_title_line(text: str) -> bool:
    return len(text) <= MAX_TITLE_LINE and text[-1] not in SENTENCE_END and not _ORDINAL.match(text)


def to_blocks(lines: list[Line]) -> list[Block]:
    blocks: list[Block] = []
    for i, ln in enumerate(lines):
        text, rng = ln.text, (ln.start, ln.end)
        style = _marker_style(text)
        if style:
            head, body = _split_marked(text)
            if len(head) <= MAX_HEADING:
                blocks.append(Block("heading", style, head, rng))
                if body:
                    blocks.append(Block("para", "", body, rng))
                continue
        elif m := _ORDINAL.match(text):
            clause = _ORDINAL_CLAUSE.search(text, m.end())
            head = text[: clause.start()] if clause else text
            if len(head) <= MAX_HEADING:
                blocks.append(Block("heading", "ordinal", head, rng))
        elif _is_title_line(text) and i + 1 < len(lines):
            prev = blocks[-1] if blocks else None
            if prev and prev.kind == "heading" and prev.style == "title" and prev.lines[1] + 1 == ln.start:
                sep = "" if prev.text.endswith(("——", "—", "：", ":")) else " "
                blocks[-1] = Block("heading", "title", prev.text + sep + text, (prev.lines[0], ln.end))
            else:
                blocks.append(Block("heading", "title", text, rng))
            continue
        blocks.append(Block("para", "", text, rng))
    return blocks


def _fallback_title(blocks: list[Block], name: str) -> str:
    for b in blocks:
        if b.kind == "para":
            first = re.split(r"[，,。；;！？!?]", b.text, maxsplit=1)[0]
            return first if len(first) <= 30 else first[:30] + "…"
    return name


def meta_text(meta: dict[str, str]) -> str:
    keys = [k for k in META_ORDER if k in meta] + sorted(k for k in meta if k not in META_ORDER)
    return "\n".join(f"{k}：{meta[k]}" for k in keys)


def build_document(raw: RawDocument, cleaned: Cleaned | None = None) -> Document:
    cleaned = cleaned or clean(raw.text)
    blocks = to_blocks(cleaned.lines)
    meta = dict(cleaned.meta)
    title = meta.get("标题") or _fallback_title(blocks, raw.name)

    paragraphs: list[Paragraph] = []
    if meta:
        rng = cleaned.meta_lines or (1, 1)
        paragraphs.append(Paragraph(f"{raw.name}#0", raw.name, 0, meta_text(meta), (META_SECTION,), title, rng, "meta"))

    levels: dict[str, int] = {}      # heading style -> level, by first appearance
    stack: list[tuple[int, str]] = []  # (level, heading text)
    for b in blocks:
        if b.kind == "heading":
            level = levels.setdefault(b.style, len(levels))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, b.text))
            continue
        if _CLOSING.match(b.text) and stack and levels.get("ordinal") == stack[-1][0]:
            stack.pop()  # "总之，…" closes a 首先/其次 run and belongs to the parent section
        n = len(paragraphs) + (0 if meta else 1)
        paragraphs.append(
            Paragraph(f"{raw.name}#{n}", raw.name, n, b.text, tuple(t for _, t in stack), title, b.lines)
        )
    return Document(raw.name, title, meta, tuple(paragraphs), raw.sha256)


def reading_order(doc: Document) -> list[tuple[str, str, Paragraph | None]]:
    """The cleaned document as read: ("heading", text, None) and ("para", text, paragraph) items,
    each heading emitted where its section starts."""
    out: list[tuple[str, str, Paragraph | None]] = []
    prev: tuple[str, ...] = ()
    for p in doc.paragraphs:
        if p.kind == "body":
            for depth, heading in enumerate(p.section):
                if depth >= len(prev) or prev[depth] != heading:
                    out.append(("heading", heading, None))
                    prev = ()  # everything below a new heading is new too
            prev = p.section
        out.append(("para", p.text, p))
    return out
