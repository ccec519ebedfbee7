"""Stage 5: embed chunks into FAISS, tokenize them for BM25, persist both with a manifest.

On disk (under the index directory):
  CURRENT                 name of the live build, replaced atomically (os.replace)
  builds/<id>/            one complete build: manifest.json, documents.json, chunks.json,
                          tokens.json, vectors.faiss; written under a temporary name and renamed
  .lock                   serializes builders (flock), so two processes never interleave a build
An interrupted build leaves a stray temporary folder that the next build removes; CURRENT keeps
pointing at the last complete build. The manifest records every file's sha256, so a damaged
file is detected on load and the index is rebuilt.
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
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import faiss
import numpy as np

from .chunk import chunk_document
from .load import SUPPORTED_TEXT, LoadWarning, RawDocument, load_directory
from .normalize import simplify, tokenize
from .schema import Chunk, Document, KeptReport, Paragraph
from .sections import build_document
from .settings import Settings

if TYPE_CHECKING:
    from embeddings.encoder import Encoder

log = logging.getLogger(__name__)

# Bump when cleaning, sectioning, chunking or tokenization changes what an index contains.
PIPELINE_VERSION = 4  # 3: format loaders (md rendered from blocks, docx/pdf/html read); 4: 公文/law structure
FILES = ("documents.json", "chunks.json", "tokens.json", "vectors.faiss")


class IndexFailure(RuntimeError):
    pass


@dataclass
class Index:
    path: Path
    manifest: dict
    documents: dict[str, Document]
    chunks: list[Chunk]
    tokens: list[list[str]]
    vectors: faiss.Index
    warnings: list[LoadWarning]

    @property
    def paragraphs(self) -> dict[str, Paragraph]:
        return {p.id: p for d in self.documents.values() for p in d.paragraphs}

    def stats(self) -> dict:
        return {
            "documents": len(self.documents),
            "paragraphs": sum(len(d.paragraphs) for d in self.documents.values()),
            "chunks": len(self.chunks),
            "built_at": self.manifest.get("built_at"),
            "model": self.manifest.get("model_id"),
        }


def expected_key(settings: Settings, model_id: str, doc_hashes: dict[str, str]) -> dict:
    """Everything that, if changed, makes a stored index stale."""
    return {
        "pipeline_version": PIPELINE_VERSION,
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


def embed_views(chunk: Chunk) -> tuple[str, str]:
    return simplify(chunk.context_text), simplify(chunk.text)


def _doc_to_json(d: Document) -> dict:
    return dataclasses.asdict(d)


def _doc_from_json(o: dict) -> Document:
    paras = tuple(
        Paragraph(**{**p, "section": tuple(p["section"]), "lines": tuple(p["lines"])}) for p in o["paragraphs"]
    )
    rep = o.get("report")
    report = KeptReport(**{**rep, "warnings": tuple(rep["warnings"])}) if rep else None
    return Document(o["name"], o["title"], o["meta"], paras, o["sha256"], report)


def _chunk_from_json(o: dict) -> Chunk:
    return Chunk(**{**o, "para_ids": tuple(o["para_ids"]), "section": tuple(o["section"])})


def _current_build(index_dir: Path) -> Path | None:
    cur = index_dir / "CURRENT"
    if not cur.is_file():
        return None
    name = cur.read_text(encoding="utf-8").strip()
    path = index_dir / "builds" / name
    return path if name and path.is_dir() else None


def read_index(build: Path, verify: bool = True) -> Index:
    """Load one build; raises IndexFailure if any file is missing or does not match the manifest."""
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        if verify:
            for name in FILES:
                if _sha256(build / name) != manifest["files"][name]:
                    raise IndexFailure(f"索引文件已损坏：{name}")
        docs = [_doc_from_json(o) for o in json.loads((build / "documents.json").read_text(encoding="utf-8"))]
        chunks = [_chunk_from_json(o) for o in json.loads((build / "chunks.json").read_text(encoding="utf-8"))]
        tokens = json.loads((build / "tokens.json").read_text(encoding="utf-8"))
        vectors = faiss.read_index(str(build / "vectors.faiss"))
    except IndexFailure:
        raise
    except Exception as exc:  # truncated JSON, unreadable FAISS file, missing key…
        raise IndexFailure(f"索引无法读取：{exc}") from exc
    if not (len(chunks) == len(tokens) and vectors.ntotal == VIEWS * len(chunks)):
        raise IndexFailure("索引各文件的条目数不一致")
    warnings = [LoadWarning(**w) for w in manifest.get("warnings", [])]
    return Index(build, manifest, {d.name: d for d in docs}, chunks, tokens, vectors, warnings)


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


def build_index(
    settings: Settings,
    encoder: "Encoder",
    raws: list[RawDocument] | None = None,
    warnings: list[LoadWarning] | None = None,
    previous: Index | None = None,
    progress: Callable[[str], None] | None = None,
    show_progress: bool = False,
) -> Index:
    """Build from settings.docs_dir and switch CURRENT to it. Vectors of unchanged chunks are
    reused from `previous`, so adding one document only embeds that document."""
    index_dir = settings.resolved_index_dir
    if raws is None:
        raws, warnings, _ = _hash_docs(settings.docs_dir, Path(settings.cache_dir) / "ocr")
    warnings = list(warnings or [])
    if not raws:
        raise IndexFailure(f"目录 {settings.docs_dir} 中没有可用的文档（{SUPPORTED_TEXT}）")
    say = progress or (lambda msg: None)
    t0 = time.perf_counter()

    docs: list[Document] = []
    for r in raws:
        try:
            docs.append(build_document(r))
        except Exception as exc:  # a pathological file must not sink the whole corpus
            warnings.append(LoadWarning(r.name, f"解析失败：{exc}"))
    chunks = [c for d in docs for c in chunk_document(d, settings.chunk_chars)]
    # rows [0, n) hold the context views, rows [n, 2n) the bare views
    views = [embed_views(c) for c in chunks]
    texts = [v[0] for v in views] + [v[1] for v in views]
    say(f"{len(docs)} 篇文档，{sum(len(d.paragraphs) for d in docs)} 个段落，{len(chunks)} 个块")

    reuse: dict[str, np.ndarray] = {}
    if previous is not None and previous.manifest.get("model_id") == encoder.model_id:
        old = previous.vectors.reconstruct_n(0, previous.vectors.ntotal)
        n_old = len(previous.chunks)
        for i, c in enumerate(previous.chunks):
            for view, text in enumerate(embed_views(c)):
                reuse[text] = old[view * n_old + i]
    todo = [i for i, t in enumerate(texts) if t not in reuse]
    vecs = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    for i, t in enumerate(texts):
        if t in reuse:
            vecs[i] = reuse[t]
    if todo:
        say(f"正在向量化 {len(todo)} 段文本（复用 {len(texts) - len(todo)} 段）")
        vecs[todo] = encoder.encode_passages([texts[i] for i in todo], show_progress=show_progress)
    t_embed = time.perf_counter()
    tokens = [tokenize(c.context_text) for c in chunks]
    faiss_index = faiss.IndexFlatIP(encoder.dim)
    faiss_index.add(vecs)

    with _Lock(index_dir / ".lock"):
        builds = index_dir / "builds"
        builds.mkdir(parents=True, exist_ok=True)
        for stray in builds.glob(".tmp-*"):
            shutil.rmtree(stray, ignore_errors=True)
        build_id = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.perf_counter_ns() % 10**6}"
        tmp = builds / f".tmp-{build_id}"
        tmp.mkdir()
        (tmp / "documents.json").write_text(json.dumps([_doc_to_json(d) for d in docs], ensure_ascii=False), encoding="utf-8")
        (tmp / "chunks.json").write_text(json.dumps([dataclasses.asdict(c) for c in chunks], ensure_ascii=False), encoding="utf-8")
        (tmp / "tokens.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
        faiss.write_index(faiss_index, str(tmp / "vectors.faiss"))
        manifest = {
            **expected_key(settings, encoder.model_id, {r.name: r.sha256 for r in raws}),
            "built_at": time.strftime("%Y-%m-%d %H:%M:%S"),
            "docs_dir": str(Path(settings.docs_dir).resolve()),
            "counts": {"documents": len(docs), "chunks": len(chunks)},
            "embedded": len(todo),
            "seconds": {"embed": round(t_embed - t0, 2), "total": round(time.perf_counter() - t0, 2)},
            "versions": {p: version(p) for p in ("faiss-cpu", "sentence-transformers", "jieba", "opencc", "rank-bm25")},
            "warnings": [dataclasses.asdict(w) for w in warnings],
            "files": {name: _sha256(tmp / name) for name in FILES},
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        final = builds / build_id
        os.rename(tmp, final)
        cur_tmp = index_dir / "CURRENT.tmp"
        cur_tmp.write_text(build_id, encoding="utf-8")
        os.replace(cur_tmp, index_dir / "CURRENT")
        for old in builds.iterdir():
            if old.name != build_id:
                shutil.rmtree(old, ignore_errors=True)
    say(f"索引已写入 {final}")
    return read_index(final, verify=False)


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
            if manifest.get("pipeline_version") == PIPELINE_VERSION:
                previous = read_index(build)  # verified: fresh, or a source of reusable vectors
            if previous is not None and not changed and not rebuild:
                return previous
            say(f"索引需要更新（变化：{', '.join(changed) or '强制重建'}），正在重建")
        except (IndexFailure, OSError, ValueError) as exc:
            log.warning("%s；正在重建索引", exc)
            say(f"{exc}；正在重建索引")
    return build_index(settings, encoder, raws, warnings, previous, progress, show_progress)
