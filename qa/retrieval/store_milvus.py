"""Scale-out store: the same retrieval as qa/retrieval/retrieve.py (dense over both views of every chunk,
BM25 over the chunk text, reciprocal-rank fusion, at most two hits per paragraph) with the search
run by Milvus instead of FAISS and bm25s in this process.

Selected by the setting `store` (env QA_STORE):
  milvus://[USER:PASSWORD@]HOST:PORT[/DB]    a Milvus server (Standalone or Distributed)
  PATH.db               Milvus Lite, a local file (same pymilvus API; used by the tests)

What stays local: the build in the index directory (documents, paragraphs, chunks, the BM25
vocabulary whose idf weights sentence overlap in the prompt); it is the source of truth and
Milvus mirrors it. `sync()` makes the collection hold exactly the build's chunks: each row's key
is a hash of the chunk's content and vectors, so after a document change only its new chunks are
inserted and its old ones deleted; an unchanged corpus costs one id listing at start.

One row per chunk: `ctx_vec` and `bare_vec` (the two embedded views, see qa/retrieval/index.py VIEWS), `text`
(traditional→simplified chunk text with its title and section path, analyzed by Milvus's jieba
analyzer) and `sparse`, filled by Milvus's BM25 function from `text`. Dense score of a chunk =
the better of its two views, as in the local store. BM25 scores are Milvus's own (its idf is
log(1 + (N - df + .5)/(df + .5)), ours Okapi's; Milvus Lite keeps them per segment, so on Lite a
change rewrites the collection, see MilvusStore); only the BM25 ranking enters the fusion, so the fused order differs
from the local store's only where the two BM25 rankings differ.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote
from typing import TYPE_CHECKING, Callable

import numpy as np

from qa.retrieval.index import VIEWS, Index
from qa.text.normalize import STOPWORDS, normalize
from qa.retrieval.retrieve import Retriever

if TYPE_CHECKING:
    from embeddings.encoder import Encoder

log = logging.getLogger(__name__)

BATCH = 500            # rows per insert / delete call
MAX_TEXT = 60_000      # VARCHAR max_length is 65,535 bytes… of characters in Milvus; chunks are ~300
# Punctuation and stopwords are left out of BM25, as our own tokenizer leaves them out (qa/text/normalize.py).
PUNCT = list("，。、；：？！（）《》「」『』“”‘’【】〔〕…—·,.;:?!()[]<>\"'%/-")


class StoreError(RuntimeError):
    pass


def is_milvus(spec: str | None) -> bool:
    return bool(spec) and (spec.startswith("milvus://") or spec.endswith(".db"))


@dataclass(frozen=True)
class MilvusTarget:
    """Where pymilvus connects: a server URL or a Lite file, with the server's credentials and database."""
    uri: str
    token: str = ""       # "user:password" (Milvus's token form), empty without authentication
    db_name: str = ""     # empty: the server's default database

    @property
    def shown(self) -> str:
        """For messages and logs: the address without the password."""
        user = self.token.split(":", 1)[0]
        return self.uri.replace("://", f"://{user}:***@", 1) if self.token else self.uri


_SERVER = re.compile(r"(?:(?P<user>[^:@/\s]+)(?::(?P<password>[^@/\s]*))?@)?(?P<host>[\w.\-]+|\[[0-9a-fA-F:]+\])"
                     r"(?::(?P<port>\d+))?(?:/(?P<db>\w*))?/?")


def milvus_target(spec: str) -> MilvusTarget:
    """milvus://[user[:password]@]host[:port][/db] → a server target (user and password may be
    percent-encoded); a .db path → Milvus Lite at that absolute path."""
    if spec.startswith("milvus://"):
        m = _SERVER.fullmatch(spec[len("milvus://"):])
        if not m:
            shown = re.sub(r"(://[^:@/]*:)[^@]*@", r"\1***@", spec)
            raise StoreError(f"Milvus 地址格式不正确：{shown}（应为 milvus://主机:端口，"
                             f"或 milvus://用户名:密码@主机:端口/数据库）")
        host = m["host"] + (f":{m['port']}" if m["port"] else "")
        token = f"{unquote(m['user'])}:{unquote(m['password'] or '')}" if m["user"] else ""
        return MilvusTarget(f"http://{host}", token, m["db"] or "")
    if spec.endswith(".db"):
        path = Path(spec).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return MilvusTarget(str(path))
    raise StoreError(f"不支持的存储设置：{spec}（可用 milvus://主机:端口 或 本地 .db 文件路径）")


def shown_store(spec: str) -> str:
    """A store setting fit to show: a server's password masked."""
    try:
        return milvus_target(spec).shown if spec.startswith("milvus://") else spec
    except StoreError:
        return re.sub(r"(://[^:@/]*:)[^@]*@", r"\1***@", spec)


def collection_name(index_dir: Path, model_id: str) -> str:
    """One collection per corpus and embedding model (names: letters, digits, underscores)."""
    key = hashlib.sha1(f"{Path(index_dir).resolve()}|{model_id}".encode()).hexdigest()[:16]
    return f"policyqa_{key}"


def _row_id(chunk, vec_ctx: np.ndarray, vec_bare: np.ndarray) -> int:
    """A positive int64 that changes when anything stored in the row changes."""
    h = hashlib.blake2b(digest_size=8)
    for part in (chunk.id, chunk.doc, "\x1f".join(chunk.para_ids), chunk.context_text):
        h.update(part.encode("utf-8"))
        h.update(b"\x00")
    h.update(np.round(vec_ctx, 5).tobytes())
    h.update(np.round(vec_bare, 5).tobytes())
    return int.from_bytes(h.digest(), "big") & 0x7FFF_FFFF_FFFF_FFFF


def bm25_text(chunk) -> str:
    """What Milvus analyzes for BM25: the text our own tokenizer reads (context view; NFKC,
    traditional → simplified, lower case)."""
    return normalize(chunk.context_text)[:MAX_TEXT]


@dataclass
class SyncReport:
    rows: int
    inserted: int
    deleted: int
    seconds: float
    rewritten: bool = False  # the whole collection was written anew (Milvus Lite, see MilvusStore)


class MilvusStore:
    """One collection mirroring one build's chunks."""

    def __init__(self, spec: str, name: str, dim: int, rewrite: bool | None = None):
        """rewrite: on any change write the whole collection anew instead of the difference.
        Default: yes for Milvus Lite, whose BM25 statistics (N, df, mean length) are kept per
        segment and which cannot be told to merge segments: a document added later would sit in a
        small segment of its own where its words get a tiny idf, and BM25 would not find it (seen
        in tests). A Milvus server computes BM25 statistics over the collection: only the
        difference is written. Either way no text is embedded again (the vectors are the build's)."""
        from pymilvus import MilvusClient

        self.spec, self.name, self.dim = spec, name, dim
        self.rewrite = spec.endswith(".db") if rewrite is None else rewrite
        if spec.endswith(".db"):
            # Milvus Lite answers the query iterator's timestamp call with "not implemented" (the
            # iterator then uses the client's clock) and its gRPC server logs a traceback each time.
            logging.getLogger("grpc._server").setLevel(logging.CRITICAL)
        target = milvus_target(spec)
        try:
            self.client = MilvusClient(target.uri, token=target.token, db_name=target.db_name)
        except Exception as exc:  # server down, bad path, refused credentials…
            raise StoreError(f"无法连接 Milvus（{target.shown}）：{exc}".replace(target.token or "\0", "***")) from exc
        if not self.client.has_collection(name):
            self._create()
        self.client.load_collection(name)

    def _create(self) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        s = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        s.add_field("id", DataType.INT64, is_primary=True)
        s.add_field("doc", DataType.VARCHAR, max_length=1024)
        s.add_field("ctx_vec", DataType.FLOAT_VECTOR, dim=self.dim)
        s.add_field("bare_vec", DataType.FLOAT_VECTOR, dim=self.dim)
        # Milvus's jieba analyzer (Milvus 2.5+ and Milvus Lite alike), our stopwords and punctuation out
        s.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                    analyzer_params={"tokenizer": "jieba",
                                     "filter": [{"type": "stop", "stop_words": sorted(set(STOPWORDS) | set(PUNCT))}]})
        s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        s.add_function(Function(name="text_bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                output_field_names=["sparse"]))
        ip = self.client.prepare_index_params()
        # exact inner product on the normalized e5 vectors (= cosine): the same scores as IndexFlatIP;
        # a server deployment may switch to HNSW here for size
        ip.add_index(field_name="ctx_vec", index_type="FLAT", metric_type="IP")
        ip.add_index(field_name="bare_vec", index_type="FLAT", metric_type="IP")
        ip.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                     params={"bm25_k1": 1.5, "bm25_b": 0.75})  # as the local store's BM25
        self.client.create_collection(self.name, schema=s, index_params=ip)

    # writing -------------------------------------------------------------------------------------
    def ids(self) -> set[int]:
        out: set[int] = set()
        it = self.client.query_iterator(self.name, batch_size=5000, filter="id >= 0", output_fields=["id"])
        try:
            while True:
                rows = it.next()
                if not rows:
                    break
                out.update(int(r["id"]) for r in rows)
        finally:
            it.close()
        return out

    def sync(self, index: Index) -> tuple[list[int], SyncReport]:
        """Make the collection hold exactly index's chunks; returns the row id of every chunk
        (in index.chunks order) and what was written."""
        import time

        t0 = time.perf_counter()
        n = len(index.chunks)
        vecs = index.vectors.reconstruct_n(0, VIEWS * n) if n else np.zeros((0, self.dim), np.float32)
        row_ids = [_row_id(c, vecs[i], vecs[n + i]) for i, c in enumerate(index.chunks)]
        if len(set(row_ids)) != n:
            raise StoreError("索引中有重复的块，无法写入 Milvus")
        have = self.ids()
        want = set(row_ids)
        stale = list(have - want)
        todo = [i for i, r in enumerate(row_ids) if r not in have]
        rewritten = bool(self.rewrite and (stale or todo) and have)
        if rewritten:
            self.client.drop_collection(self.name)
            self._create()
            stale, todo = list(have), list(range(n))
        else:
            for b in range(0, len(stale), BATCH):
                self.client.delete(self.name, ids=stale[b:b + BATCH])
        for b in range(0, len(todo), BATCH):
            rows = [{"id": row_ids[i], "doc": index.chunks[i].doc[:1000], "ctx_vec": vecs[i].tolist(),
                     "bare_vec": vecs[n + i].tolist(), "text": bm25_text(index.chunks[i])} for i in todo[b:b + BATCH]]
            self.client.insert(self.name, rows)
        if stale or todo:
            self.client.flush(self.name)
        if rewritten:
            self.client.load_collection(self.name)
        return row_ids, SyncReport(n, len(todo), len(stale), round(time.perf_counter() - t0, 2), rewritten)

    # searching -----------------------------------------------------------------------------------
    def dense(self, q: np.ndarray, n: int) -> dict[int, float]:
        """Row id → best cosine over both views, for the n best rows of each view."""
        best: dict[int, float] = {}
        for field in ("ctx_vec", "bare_vec"):
            res = self.client.search(self.name, data=[q.tolist()], anns_field=field, limit=n, output_fields=["id"],
                                     search_params={"metric_type": "IP"})
            for hit in res[0]:
                rid, s = int(hit["id"]), float(hit["distance"])
                if s > best.get(rid, -np.inf):
                    best[rid] = s
        return best

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        if not ids:
            return {}
        rows = self.client.get(self.name, ids=ids, output_fields=["ctx_vec", "bare_vec"])
        return {int(r["id"]): np.asarray([r["ctx_vec"], r["bare_vec"]], dtype=np.float32) for r in rows}

    def bm25(self, text: str, n: int) -> list[tuple[int, float]]:
        """The n best rows by Milvus's BM25, best first (Milvus Lite reports BM25 as a negative
        distance, a server as a positive score: the order is what counts, the size is the score)."""
        res = self.client.search(self.name, data=[text], anns_field="sparse", limit=n, output_fields=["id"],
                                 search_params={"metric_type": "BM25"})
        return [(int(h["id"]), abs(float(h["distance"]))) for h in res[0]]

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:
            pass


class MilvusRetriever(Retriever):
    """Retriever whose searches go to Milvus. Same interface and same steps as Retriever.search:
    depth, fusion (rrf with settings.rrf_k), the per-paragraph cap, Hit.dense as cosine (the
    gate reads it), idf from the local build."""

    def __init__(self, index: Index, encoder: "Encoder", rrf_k: int, candidates: int, store: MilvusStore,
                 row_ids: list[int]):
        super().__init__(index, encoder, rrf_k, candidates)
        self.store = store
        self.row_ids = row_ids
        self.position = {r: i for i, r in enumerate(row_ids)}

    def dense_top(self, q: np.ndarray, n: int) -> tuple[list[int], dict[int, float]]:
        best = {self.position[r]: s for r, s in self.store.dense(q[0], n).items() if r in self.position}
        order = sorted(best, key=lambda c: (-best[c], c))[:n]
        return order, best

    def dense_of(self, q: np.ndarray, ids: list[int]) -> dict[int, float]:
        vecs = self.store.vectors([self.row_ids[c] for c in ids])
        return {c: float((vecs[self.row_ids[c]] @ q[0]).max()) for c in ids if self.row_ids[c] in vecs}

    def bm25_top(self, query: str, n: int) -> list[tuple[int, float]]:
        return [(self.position[r], s) for r, s in self.store.bm25(normalize(query), n) if r in self.position]

    def bm25_ranking(self, query: str, n: int) -> tuple[list[tuple[int, float]], Callable[[int], float]]:
        """Milvus's BM25 top list; a chunk outside it scores 0."""
        top = self.bm25_top(query, n)
        scores = dict(top)
        return top, lambda i: scores.get(i, 0.0)

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk (evaluation only): Milvus's top list, zero elsewhere."""
        out = np.zeros(len(self.index.chunks), dtype=np.float32)
        for i, s in self.bm25_top(query, len(self.index.chunks)):
            out[i] = s
        return out


def open_milvus_retriever(spec: str, index_dir: Path, index: Index, encoder: "Encoder", rrf_k: int,
                          candidates: int) -> MilvusRetriever:
    """Connect, mirror the build into its collection (only the difference is written), and
    return the retriever."""
    store = MilvusStore(spec, collection_name(index_dir, encoder.model_id), encoder.dim)
    row_ids, report = store.sync(index)
    log.info("Milvus %s: %d rows (%d inserted, %d deleted) in %.1f s", store.name, report.rows, report.inserted,
             report.deleted, report.seconds)
    retriever = MilvusRetriever(index, encoder, rrf_k, candidates, store, row_ids)
    retriever.sync_report = report
    return retriever
