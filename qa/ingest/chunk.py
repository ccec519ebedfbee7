"""Stage 4: paragraphs → chunks for embedding and BM25.

A chunk never crosses a section. A paragraph longer than the chunk size is cut at sentence ends
(。！？； first, then ，) by langchain-text-splitters; a tiny paragraph (a salutation, a one-line
question) is merged forward into the next paragraph of the same section so it has context.
"""
from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from qa.schema import Chunk, Document, Paragraph

SENTENCE_SEPARATORS = ["。", "！", "？", "!", "?", "；", ";", "，", ",", ""]
MIN_CHARS = 40
# A piece repeats the previous piece's last sentence when it fits: a sentence that opens with
# "定西市…" and the next one that states the figure often land in different pieces otherwise.
OVERLAP_CHARS = 100


def split_text(text: str, max_chars: int) -> list[str]:
    if len(text) <= max_chars:
        return [text]
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=max_chars, chunk_overlap=min(OVERLAP_CHARS, max_chars // 3),
        separators=SENTENCE_SEPARATORS, keep_separator="end",
    )
    return [p.strip() for p in splitter.split_text(text) if p.strip()]


def chunk_document(doc: Document, max_chars: int = 300) -> list[Chunk]:
    chunks: list[Chunk] = []
    pending: list[Paragraph] = []  # tiny paragraphs waiting for the next one in their section

    def emit(paras: list[Paragraph]) -> None:
        first = paras[0]
        text = "\n".join(p.text for p in paras)
        ids = tuple(p.id for p in paras)
        for k, piece in enumerate(split_text(text, max_chars)):
            chunks.append(Chunk(f"{first.id}.{k}", doc.name, ids, piece, first.section, doc.title))

    for p in doc.paragraphs:
        if pending and (pending[0].section != p.section or p.kind == "meta"):
            emit(pending)
            pending = []
        if p.kind == "meta":
            emit([p])
            continue
        pending.append(p)
        if len(p.text) >= MIN_CHARS:
            emit(pending)
            pending = []
    if pending:
        emit(pending)
    return chunks
