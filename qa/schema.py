"""The small records that flow through the pipeline, one stage to the next."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    id: str                      # "<file name>#<n>", n = 0 for the metadata paragraph
    doc: str                     # file name
    index: int
    text: str                    # cleaned paragraph text: what a citation shows
    section: tuple[str, ...]     # heading path from the top level down
    title: str                   # document title
    lines: tuple[int, int]       # 1-based source line range, inclusive
    kind: str = "body"           # "body" | "meta"

    @property
    def section_path(self) -> str:
        return " > ".join(self.section)


@dataclass(frozen=True)
class Document:
    name: str                    # file name, the stable document id
    title: str
    meta: dict[str, str]
    paragraphs: tuple[Paragraph, ...]
    sha256: str


@dataclass(frozen=True)
class Chunk:
    id: str                      # "<file name>#<first para>.<piece>"
    doc: str
    para_ids: tuple[str, ...]
    text: str                    # the paragraph text (or a piece of it)
    section: tuple[str, ...]
    title: str

    @property
    def section_path(self) -> str:
        return " > ".join(self.section)

    @property
    def context_text(self) -> str:
        """What is embedded and BM25-indexed: title and section path give the passage its topic."""
        head = " > ".join(s for s in (self.title, *self.section) if s)
        return f"{head}\n{self.text}" if head else self.text


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float                 # fused (or single-retriever) score, higher is better
    rank: int                    # 1-based
    dense: float | None = None   # cosine similarity, when the dense retriever saw it
    bm25: float | None = None    # BM25 score, when BM25 saw it
    extras: dict = field(default_factory=dict)
