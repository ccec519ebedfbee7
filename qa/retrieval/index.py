"""Stage 5: embed chunks into FAISS, tokenize them for BM25, persist both with a manifest.

On disk (under the index directory):
  CURRENT                 name of the live build, replaced atomically (os.replace)
  builds/<id>/            one complete build, written under a temporary name and renamed:
    manifest.json         what the build was made from (documents' sha256, settings, versions,
                          FAISS type and its measured recall), each file's sha256
    documents.npz         documents, paragraphs and chunks as columns (qa/ingest/columns.py): one UTF-8
    paragraphs.npz        text column per string field, repeated values dictionary-encoded
    chunks.npz
    bm25.npz              the bm25s sparse score matrix (CSC), the vocabulary and every chunk's
                          token ids (reused for unchanged documents)
    vectors.faiss         exact inner product (IndexFlatIP) up to EXACT_MAX_ROWS vectors, HNSW above
  .lock                   serializes builders (flock), so two processes never interleave a build
An interrupted build leaves a stray temporary folder that the next build removes; CURRENT keeps
pointing at the last complete build. A damaged file is detected on load (sha256) and the index is
rebuilt. An update re-reads every file but re-parses, re-tokenizes and re-embeds only documents
whose sha256 changed.
"""
from __future__ import annotations

import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from functools import cached_property
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import faiss
import numpy as np

from qa.ingest.chunk import chunk_document
from qa.ingest.columns import load_records, save_records
from qa.retrieval.bm25 import Bm25
from qa.ingest.load import SUPPORTED_TEXT, LoadWarning, RawDocument, load_directory
from qa.text.normalize import simplify, tokenize
from qa.schema import Chunk, Document, KeptReport, Paragraph
from qa.ingest.sections import build_document
from qa.settings import Settings

if TYPE_CHECKING:
    from embeddings.encoder import Encoder

log = logging.getLogger(__name__)

# Bump when cleaning, sectioning, chunking or tokenization changes what an index contains.
PIPELINE_VERSION = 26  # 3: format loaders (md rendered from blocks, docx/pdf/html read); 4: 公文/law structure; 5: hanging indents, site Markdown, digit groups; 6: sentence list items are not headings; 7: 「您当前所在的位置」 breadcrumbs; 8: letter-spaced digits; 9: Markdown tables as 「列名：值」 rows, emphasis and images as markup; 10: dates with separators (2011-08-01) read as 年月日; 11: the typesetting space between a digit and a Chinese character ignored (「10 倍」), hard-wrapped Markdown joined into paragraphs, article lines cut at the margin joined; 12: a hidden <body> kept and ArticleTitle as a page's title (html), narrow-column wrapping and running headers of plain text; 13: a docx with a relationship to a missing part read, an attachment label is no title, a standard's cover read as fields, an occasion line broken over two lines joined, a standard's code apart from its number (GB/T32918 → GB/T 32918); 14: letter-spaced lines joined (「机 动 车 登 记 规 定」), a web page's title is the heading its <title> names; 15: a site info table's cells glued to the next label (「发文机关：国务院办公厅成文日期：…」) read as fields; 16: ruled PDF tables read as 「列名：值」 rows with their title and unit, a government page's info-box labels and related-news box above its header; 17: a PDF table row holding a bare value or repeating its column's value is no header, a grid with figures glued in one cell is left to the line reader; 18: a cover notice's issuers and date above the document it issues read as 发文机关署名 + 成文日期; 19: a Markdown file is hard-wrapped only by lines that stop at its wrap width (a heading over its paragraph is short); 20: a table's 单位 column gives the unit of its row's bare figures (docx, html, md and PDF tables alike); 21: articles in traditional characters (第一條, 第 1 條) and an article label on a line of its own read as articles; 22: an annex title (「附件」, 「一. 安全維護管理辦法」) ends the article before it; 23: 「一.」 numbers headings as 「一、」 does; 24: a Word body imported whole (w:altChunk: MHT, web page or text) read, headings set straight under a page's <body> kept; 25: a PDF page set in two columns (bilingual ordinances, annual reports) joins the lines of each column by its own margins; 26: a web page's wrapper named like furniture (「nav_background」) that holds most of the page is kept
# Bump when the files of a build change shape (independent of what they contain).
STORAGE_VERSION = 3
FILES = ("documents.npz", "paragraphs.npz", "chunks.npz", "bm25.npz", "vectors.faiss")

# FAISS by size: exact search is a full scan (~0.1 ms per 1,000 vectors of 384 floats); above this
# many vectors an HNSW graph answers in about a millisecond. Its recall against exact search is
# measured at build time on sampled stored vectors and recorded in the manifest.
EXACT_MAX_ROWS = 100_000
HNSW_M = 32
# Questions are not passages: an e5 query vector lies farther from the stored vectors than any
# stored vector from its neighbours, and a graph built and searched for the latter (efConstruction
# 80, efSearch 128: recall@10 0.997 with stored vectors as queries) found only 0.95 of the exact top
# 10 for the dev questions over 100,000 synthetic chunks (qa/bench/scale.py). Measured there:
# efConstruction 200 with efSearch 512 gives 0.992, with 1024 0.998 (recall@100 0.992) at ~4 ms
# per search; at 300,000 chunks efSearch 1024 gave 0.990, so 2048 (the bench prints the sweep).
# Building takes ~4× longer than with efConstruction 80, still far below embedding the texts.
HNSW_EF_CONSTRUCTION = 200
HNSW_EF_SEARCH = 2048
RECALL_SAMPLE = 200
RECALL_AT = 10

# Bounded cost per document: a policy document, law or report is far below this (a long
# government work report is ~30,000 characters); a compilation of 5 MB of text (~1.8 million
# characters, one view per chunk: ONE_VIEW_CHARS) takes ~15 minutes to index on two cores, in the
# background while questions are answered (qa/serve/uploads.py; python -m qa.bench --only upload).
# Longer files are refused with the reason, not indexed for hours.
MAX_DOC_CHARS = 2_000_000
# Texts per embedding batch while someone watches a build (a server's upload): short batches keep
# the progress bar moving, a cancel prompt, and a question's wait behind one batch short (~0.3 s
# on 2 cores for 16 chunks of ~500 characters).
WATCHED_BATCH = 16


class IndexFailure(RuntimeError):
    pass


@dataclass(frozen=True)
class BuildStep:
    """Where a build stands, for a progress display (the upload job, the page, the API): counts,
    not only a message, so a face can draw a bar without parsing text."""
    stage: str            # check | read | parse | embed | write | done
    message: str
    files_done: int = 0   # uploaded files checked (parsed fully before anything is staged)
    files: int = 0
    documents: int = 0
    paragraphs: int = 0
    chunks: int = 0
    embedded: int = 0     # texts embedded so far in this build
    to_embed: int = 0     # texts this build must embed (the rest are reused)


@dataclass
class Index:
    path: Path
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    bm25: Bm25
    vectors: faiss.Index
    warnings: list[LoadWarning]

    @cached_property
    def paragraphs(self) -> dict[str, Paragraph]:
        """Every paragraph by id, built once per index (an index never changes after loading)."""
        return {p.id: p for d in self.documents.values() for p in d.paragraphs}

    @property
    def tokens(self) -> list[list[str]]:
        return [self.bm25.chunk_tokens(i) for i in range(len(self.chunks))]

    def stats(self) -> dict:
        return {
            "documents": len(self.documents),
            "paragraphs": sum(len(d.paragraphs) for d in self.documents.values()),
            "chunks": len(self.chunks),
            "built_at": self.manifest.get("built_at"),
            "model": self.manifest.get("model_id"),
        }


def make_vector_index(vecs: np.ndarray, dim: int) -> tuple[faiss.Index, dict]:
    """Exact search for a small corpus, HNSW above EXACT_MAX_ROWS with its recall@10 against exact
    search measured on RECALL_SAMPLE stored vectors (as queries)."""
    if len(vecs) <= EXACT_MAX_ROWS:
        index = faiss.IndexFlatIP(dim)
        index.add(vecs)
        return index, {"type": "flat", "rows": len(vecs)}
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    index.add(vecs)
    index.hnsw.efSearch = HNSW_EF_SEARCH
    rng = np.random.default_rng(0)
    queries = vecs[rng.choice(len(vecs), size=min(RECALL_SAMPLE, len(vecs)), replace=False)]
    return index, {"type": "hnsw", "rows": len(vecs), "M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION,
                   "efSearch": HNSW_EF_SEARCH, f"recall@{RECALL_AT}": ann_recall(index, vecs, queries, RECALL_AT)}


def ann_recall(index: faiss.Index, vecs: np.ndarray, queries: np.ndarray, k: int = RECALL_AT) -> float:
    """Share of the exact top k (brute force over vecs) that the index also returns."""
    exact = faiss.IndexFlatIP(vecs.shape[1])
    exact.add(vecs)
    _, truth = exact.search(queries, k)
    _, got = index.search(queries, k)
    found = sum(len(set(t) & set(g)) for t, g in zip(truth.tolist(), got.tolist()))
    return round(found / truth.size, 4)


def expected_key(settings: Settings, model_id: str, doc_hashes: dict[str, str]) -> dict:
    """Everything that, if changed, makes a stored index stale."""
    return {
        "pipeline_version": PIPELINE_VERSION,
        "storage_version": STORAGE_VERSION,
        "model_id": model_id,
        "chunk_chars": settings.chunk_chars,
        "docs": dict(sorted(doc_hashes.items())),
    }


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# Each chunk is embedded twice: with its title/section context and bare. The context helps
# questions that name the document or topic; the bare view keeps a long section heading from
# drowning a short paragraph. Dense score = the better of the two (measured on questions/dev.jsonl:
# dense R@1 0.68 context-only, 0.77 bare-only, 0.79 max of both).
VIEWS = 2
# A compilation (hundreds of thousands of characters in one file) costs two embeddings per chunk,
# most of an hour on two cores at 5 MB. Above this many characters a document is embedded once per
# chunk, bare (the better single view above), and its context row repeats the bare vector: the
# context adds the same title to thousands of chunks, and BM25 still reads title and section path.
# A report, law or notice (≤ ~100,000 characters) keeps both views.
ONE_VIEW_CHARS = 600_000


def embed_views(chunk: Chunk) -> tuple[str, str]:
    return simplify(chunk.context_text), simplify(chunk.text)


def _current_build(index_dir: Path) -> Path | None:
    cur = index_dir / "CURRENT"
    if not cur.is_file():
        return None
    name = cur.read_text(encoding="utf-8").strip()
    path = index_dir / "builds" / name
    return path if name and path.is_dir() else None


def write_files(tmp: Path, docs: list[Document], chunks: list[Chunk], bm25: Bm25, vectors: faiss.Index) -> None:
    # The kept-text report is stored as its JSON (a column of dicts) and rebuilt on read.
    plain = [dataclasses.replace(d, report=dataclasses.asdict(d.report) if d.report else None) for d in docs]
    save_records(tmp / "documents.npz", plain, Document, skip=("paragraphs",))
    save_records(tmp / "paragraphs.npz", [p for d in docs for p in d.paragraphs], Paragraph)
    save_records(tmp / "chunks.npz", chunks, Chunk)
    bm25.save(tmp / "bm25.npz")
    faiss.write_index(vectors, str(tmp / "vectors.faiss"))


def _report(o: dict | None) -> KeptReport | None:
    if not o:
        return None
    return KeptReport(**{**o, "examples": {k: list(v) for k, v in o["examples"].items()}, "warnings": tuple(o["warnings"])})


def read_index(build: Path, verify: bool = True) -> Index:
    """Load one build; raises IndexFailure if any file is missing or does not match the manifest."""
    from concurrent.futures import ThreadPoolExecutor

    def damaged() -> str | None:
        for name in FILES:
            if _sha256(build / name) != manifest["files"][name]:
                return name
        return None

    pool = ThreadPoolExecutor(1, thread_name_prefix="verify")
    check = None
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if manifest.get("storage_version") != STORAGE_VERSION:
            raise IndexFailure("索引格式已更新，需要重建")
        # The files are hashed in a second thread while this one reads them (hashing and file
        # reads release the GIL): at 300,000 chunks hashing 1.9 GB alone took seconds of the start.
        check = pool.submit(damaged) if verify else None
        paras = load_records(build / "paragraphs.npz", Paragraph)
        by_doc: dict[str, list[Paragraph]] = {}
        for p in paras:
            by_doc.setdefault(p.doc, []).append(p)
        docs = load_records(build / "documents.npz", Document, paragraphs=None)
        docs = [dataclasses.replace(d, paragraphs=tuple(by_doc.get(d.name, ())), report=_report(d.report)) for d in docs]
        chunks = load_records(build / "chunks.npz", Chunk)
        bm25 = Bm25.load(build / "bm25.npz")
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        if isinstance(vectors, faiss.IndexHNSW):
            vectors.hnsw.efSearch = manifest.get("faiss", {}).get("efSearch", HNSW_EF_SEARCH)
        bad = check.result() if check is not None else None
        if bad:
            raise IndexFailure(f"索引文件已损坏：{bad}")
    except IndexFailure:
        raise
    except Exception as exc:  # truncated file, unreadable FAISS file, missing key…
        bad = _quiet(check.result) if check is not None else None  # a damaged file says so
        if bad:
            raise IndexFailure(f"索引文件已损坏：{bad}") from exc
        raise IndexFailure(f"索引无法读取：{exc}") from exc
    finally:
        pool.shutdown(wait=True)
    if not (len(chunks) == len(bm25.offsets) - 1 and vectors.ntotal == VIEWS * len(chunks)):
        raise IndexFailure("索引各文件的条目数不一致")
    warnings = [LoadWarning(**w) for w in manifest.get("warnings", [])]
    return Index(build, manifest, {d.name: d for d in docs}, chunks, bm25, vectors, warnings)


def _quiet(fn):
    try:
        return fn()
    except Exception:
        return None


def _hash_docs(docs_dir: Path, ocr_cache: Path | None = None) -> tuple[list[RawDocument], list[LoadWarning], dict[str, str]]:
    raws, warnings = load_directory(docs_dir, ocr_cache)
    return raws, warnings, {r.name: r.sha256 for r in raws}


class _Lock:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open(path, "a+")

    def __enter__(self):
        fcntl.flock(self.f, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc):
        fcntl.flock(self.f, fcntl.LOCK_UN)
        self.f.close()


def _vectors_of(index: faiss.Index, rows: list[int]) -> np.ndarray:
    if not rows:
        return np.zeros((0, index.d), dtype=np.float32)
    return np.stack([index.reconstruct(int(r)) for r in rows])


def build_index(
    settings: Settings,
    encoder: "Encoder",
    raws: list[RawDocument] | None = None,
    warnings: list[LoadWarning] | None = None,
    previous: Index | None = None,
    progress: Callable[[str], None] | None = None,
    show_progress: bool = False,
    cancel: Callable[[], bool] | None = None,
    before_switch: Callable[[], None] | None = None,
    on_step: Callable[[BuildStep], None] | None = None,
    pause: Callable[[], None] | None = None,
) -> Index:
    """Build from settings.docs_dir (or the given raws) and switch CURRENT to it.

    With `previous` (same pipeline), a document whose sha256 is unchanged keeps its paragraphs,
    chunks, tokens and vectors; a changed document is parsed and tokenized again, and only its
    chunk texts that are new are embedded. `cancel()` is polled between stages and embedding
    batches: when it returns True the build stops with IndexFailure, nothing written.
    `before_switch()` runs once the build is complete on disk, right before CURRENT points to it.
    `on_step(BuildStep)` gets the counts as the build goes (parsed, embedded of total, written).
    `pause()` runs before each embedding batch: a server lets its questions go first there."""
    index_dir = settings.resolved_index_dir
    if raws is None:
        raws, warnings, _ = _hash_docs(settings.docs_dir, Path(settings.cache_dir) / "ocr")
    warnings = list(warnings or [])
    if not raws:
        raise IndexFailure(f"目录 {settings.docs_dir} 中没有可用的文档（{SUPPORTED_TEXT}）")
    say = progress or (lambda msg: None)
    counts: dict[str, int] = {}

    def step(stage: str, message: str, **more: int) -> None:
        counts.update(more)
        if on_step is not None:
            on_step(BuildStep(stage, message, **counts))

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise IndexFailure("索引更新已取消")

    t0 = time.perf_counter()
    same_pipeline = (previous is not None and previous.manifest.get("chunk_chars") == settings.chunk_chars
                     and previous.manifest.get("pipeline_version") == PIPELINE_VERSION)
    same_model = previous is not None and previous.manifest.get("model_id") == encoder.model_id
    old_rows: dict[str, list[int]] = {}  # previous chunk positions per document
    if previous is not None:
        for i, c in enumerate(previous.chunks):
            old_rows.setdefault(c.doc, []).append(i)

    docs: list[Document] = []
    chunks: list[Chunk] = []
    tokens: list[list[str]] = []
    reused_rows: list[int | None] = []  # per new chunk: its row in the previous index, if reused whole
    reparsed = 0
    for r in raws:
        old = previous.documents.get(r.name) if same_pipeline else None
        if old is not None and old.sha256 == r.sha256:
            docs.append(old)
            for i in old_rows.get(r.name, []):
                chunks.append(previous.chunks[i])
                tokens.append(previous.bm25.chunk_tokens(i))
                reused_rows.append(i if same_model else None)
            continue
        check_cancel()
        if len(r.text) > MAX_DOC_CHARS:
            warnings.append(LoadWarning(r.name, f"文档过长（{len(r.text)} 字，上限 {MAX_DOC_CHARS} 字），请拆分后再添加"))
            continue
        try:
            d = build_document(r)
        except Exception as exc:  # a pathological file must not sink the whole corpus
            warnings.append(LoadWarning(r.name, f"解析失败：{exc}"))
            continue
        reparsed += 1
        docs.append(d)
        for c in chunk_document(d, settings.chunk_chars):
            chunks.append(c)
            tokens.append(tokenize(c.context_text))
            reused_rows.append(None)
    n_paras = sum(len(d.paragraphs) for d in docs)
    say(f"{len(docs)} 篇文档（{reparsed} 篇重新解析），{n_paras} 个段落，{len(chunks)} 个块")
    step("parse", f"已解析 {len(docs)} 篇文档，{n_paras} 个段落，{len(chunks)} 个块",
         documents=len(docs), paragraphs=n_paras, chunks=len(chunks))

    # rows [0, n) hold the context views, rows [n, 2n) the bare views
    n = len(chunks)
    vecs = np.zeros((VIEWS * n, encoder.dim), dtype=np.float32)
    keep = [j for j, i in enumerate(reused_rows) if i is not None]
    if keep:
        n_old = len(previous.chunks)
        for v in range(VIEWS):
            vecs[[v * n + j for j in keep]] = _vectors_of(previous.vectors, [v * n_old + reused_rows[j] for j in keep])
    # chunks of changed documents: reuse the vector of any identical text of the previous version
    fresh = [j for j, i in enumerate(reused_rows) if i is None]
    reuse: dict[str, np.ndarray] = {}
    if fresh and same_model:
        changed = {chunks[j].doc for j in fresh}
        n_old = len(previous.chunks)
        rows = [i for name in changed for i in old_rows.get(name, [])]
        for v in range(VIEWS):
            old_vecs = _vectors_of(previous.vectors, [v * n_old + i for i in rows])
            for i, vec in zip(rows, old_vecs):
                reuse[embed_views(previous.chunks[i])[v]] = vec
    one_view = {d.name for d in docs if sum(len(p.text) for p in d.paragraphs) > ONE_VIEW_CHARS}
    todo: list[tuple[int, str]] = []
    copies: list[int] = []   # chunks whose context row repeats their bare row
    for j in fresh:
        views = list(enumerate(embed_views(chunks[j])))
        if chunks[j].doc in one_view:
            views = views[1:]
            copies.append(j)
        for v, text in views:
            if text in reuse:
                vecs[v * n + j] = reuse[text]
            else:
                todo.append((v * n + j, text))
    if todo:
        say(f"正在向量化 {len(todo)} 段文本（复用 {VIEWS * n - len(todo)} 段）")
        step("embed", f"正在向量化 0/{len(todo)}", embedded=0, to_embed=len(todo))
        # small batches while someone watches (a progress bar moves, cancel is prompt); large otherwise
        batch = WATCHED_BATCH if on_step is not None else 256
        for b in range(0, len(todo), batch):
            if pause is not None:
                pause()
            check_cancel()
            part = todo[b:b + batch]
            vecs[[r for r, _ in part]] = encoder.encode_passages([t for _, t in part], show_progress=show_progress)
            done = min(b + batch, len(todo))
            if progress is not None and len(todo) > batch:
                say(f"向量化进度 {done}/{len(todo)}")
            step("embed", f"正在向量化 {done}/{len(todo)}", embedded=done)
    if copies:
        vecs[copies] = vecs[[n + j for j in copies]]
    t_embed = time.perf_counter()
    check_cancel()
    step("write", "正在写入索引")
    bm25 = Bm25.from_tokens(tokens)
    faiss_index, faiss_info = make_vector_index(vecs, encoder.dim)
    check_cancel()

    with _Lock(index_dir / ".lock"):
        builds = index_dir / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        for stray in builds.glob(".tmp-*"):
            shutil.rmtree(stray, ignore_errors=True)
        build_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.perf_counter_ns() % 10**6}"
        tmp = builds / f".tmp-{build_id}"
        tmp.mkdir()
        write_files(tmp, docs, chunks, bm25, faiss_index)
        manifest = {
            **expected_key(settings, encoder.model_id, {r.name: r.sha256 for r in raws}),
            "built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "docs_dir": str(Path(settings.docs_dir).resolve()),
            "counts": {"documents": len(docs), "chunks": len(chunks)},
            "reparsed": reparsed,
            "embedded": len(todo),
            "faiss": faiss_info,
            "seconds": {"embed": round(t_embed - t0, 2), "total": round(time.perf_counter() - t0, 2)},
            "versions": {p: version(p) for p in ("faiss-cpu", "sentence-transformers", "jieba", "opencc", "bm25s")},
            "warnings": [dataclasses.asdict(w) for w in warnings],
            "files": {name: _sha256(tmp / name) for name in FILES},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        final = builds / build_id
        os.rename(tmp, final)
        if before_switch is not None:  # e.g. move staged uploads in: the build is complete on disk
            before_switch()
        cur_tmp = index_dir / "CURRENT.tmp"
        cur_tmp.write_text(build_id, encoding="utf-8")
        os.replace(cur_tmp, index_dir / "CURRENT")
        for old in builds.iterdir():
            if old.name != build_id:
                shutil.rmtree(old, ignore_errors=True)
    say(f"索引已写入 {final}")
    step("done", "索引已更新")
    return Index(final, manifest, {d.name: d for d in docs}, chunks, bm25, faiss_index, warnings)


def open_index(
    settings: Settings,
    encoder: "Encoder",
    progress: Callable[[str], None] | None = None,
    show_progress: bool = False,
    rebuild: bool = False,
) -> Index:
    """The index for settings.docs_dir: loaded when fresh, rebuilt when anything changed or broke."""
    say = progress or (lambda msg: None)
    raws, warnings, hashes = _hash_docs(settings.docs_dir, Path(settings.cache_dir) / "ocr")
    key = expected_key(settings, encoder.model_id, hashes)
    build = _current_build(settings.resolved_index_dir)
    previous = None
    if build is not None:
        try:
            manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
            changed = [k for k, v in key.items() if manifest.get(k) != v]
            # Verified: fresh, or a source of reusable parts. Built by another pipeline version, it
            # still lends the vectors of chunk texts that did not change (a vector is a function of
            # its text and the model alone); its documents are parsed again (same_pipeline below).
            previous = read_index(build)
            if previous is not None and not changed and not rebuild:
                return previous
            say(f"索引需要更新（变化：{', '.join(changed) or '强制重建'}），正在重建")
        except (IndexFailure, OSError, ValueError) as exc:
            log.warning("%s；正在重建索引", exc)
            say(f"{exc}；正在重建索引")
    if rebuild:
        previous = None  # a forced rebuild re-parses and re-tokenizes everything (vectors too)
    return build_index(settings, encoder, raws, warnings, previous, progress, show_progress)
