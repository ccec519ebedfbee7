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
    page: int | None = None      # 1-based page of a paged source (PDF), else None
    ocr: bool = False            # read by OCR from a page image: a reader should know

    @property
    def section_path(self) -> str:
        return " > ".join(self.section)


@dataclass(frozen=True)
class KeptReport:
    """What cleaning and sectioning kept of a document's text: nothing is lost silently."""
    format: str                  # txt | md | docx | pdf | html
    total_chars: int             # non-space characters of the source text (markup syntax excluded)
    kept_chars: int              # in paragraphs, section headings or metadata
    dropped: dict[str, int]      # rule name -> characters removed by it
    examples: dict[str, list[str]]  # rule name -> the first lines it removed
    paragraphs: int              # body paragraphs
    sections: int                # distinct section paths
    warnings: tuple[str, ...] = ()

    @property
    def share(self) -> float:
        return self.kept_chars / self.total_chars if self.total_chars else 0.0


@dataclass(frozen=True)
class Document:
    name: str                    # file name, the stable document id
    title: str
    meta: dict[str, str]
    paragraphs: tuple[Paragraph, ...]
    sha256: str
    report: KeptReport | None = None


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


@dataclass(frozen=True)
class Passage:
    """A numbered excerpt shown to the generator: a window of sentences of one paragraph."""
    n: int                       # 1-based, the [n] the model cites
    para: Paragraph
    start: int                   # character span of the excerpt in para.text
    end: int

    @property
    def text(self) -> str:
        return self.para.text[self.start:self.end]


@dataclass(frozen=True)
class Citation:
    n: int
    doc: str
    para: str                    # paragraph id
    section: str                 # section path
    title: str
    text: str                    # the whole paragraph, as a reader will check it
    span: tuple[int, int]        # the supporting sentence within text
    lines: tuple[int, int]       # source line range
    page: int | None = None      # 1-based page of a paged source (PDF)
    ocr: bool = False            # the paragraph was read by OCR

    @property
    def quote(self) -> str:
        return self.text[self.span[0]:self.span[1]]


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer and what supports it."""
    text: str
    citations: tuple[int, ...]   # citation numbers after verification and repair
    supported: bool


@dataclass
class Answer:
    question: str
    text: str                                     # final answer, markers renumbered to citations
    abstained: bool
    citations: list[Citation] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)
    standalone: str | None = None                 # the rewritten question, when it was rewritten
    repairs: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    model: str = ""
    latency: dict[str, float] = field(default_factory=dict)
    raw: str = ""                                 # what the generator wrote, before verification
    deleted: list[str] = field(default_factory=list)  # sentences verification removed
    marked: list[str] = field(default_factory=list)   # sentences kept but found in no passage
