"""Stage 6: hybrid retrieval — FAISS (cosine over normalized e5 vectors; exact or HNSW by corpus
size, see qa/retrieval/index.py) + BM25 (bm25s sparse matrix over jieba tokens of traditional→simplified
text), fused by reciprocal rank. Per question the work is one FAISS search for the top candidates
and one sparse BM25 pass over the postings of the question's tokens; nothing else scans the corpus."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

import numpy as np

from qa.retrieval.index import VIEWS, Index
from qa.text.normalize import clean_input, simplify, tokenize
from qa.schema import Hit

if TYPE_CHECKING:
    from embeddings.encoder import Encoder

MAX_QUERY_CHARS = 500  # a question, not a document; longer input is cut before it reaches a model


def rrf(rankings: list[list[int]], k: int = 60) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: score(d) = Σ 1 / (k + rank_r(d)), ranks 1-based."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))


def clean_query(query: str) -> str:
    return " ".join(clean_input(query).split())[:MAX_QUERY_CHARS]


def top_indices(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores, best first, ties by index (as a stable full sort would
    order them), in time linear in len(scores)."""
    n = min(n, len(scores))
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if n < len(scores):
        cut = np.partition(scores, len(scores) - n)[len(scores) - n]
        idx = np.flatnonzero(scores >= cut)  # everything tied with the n-th best is kept for the sort
    else:
        idx = np.arange(len(scores))
    return idx[np.lexsort((idx, -scores[idx]))][:n]


def cap_per_paragraph(order: list[tuple[int, float]], chunks, k: int, cap: int) -> list[tuple[int, float]]:
    """The first k of `order` with at most `cap` chunks of the same paragraph(s): a long paragraph
    cut into many pieces (a 3 MB one-line file) must not fill the whole top k."""
    seen: dict[tuple[str, ...], int] = {}
    out = []
    for i, s in order:
        key = chunks[i].para_ids
        if seen.get(key, 0) >= cap:
            continue
        seen[key] = seen.get(key, 0) + 1
        out.append((i, s))
        if len(out) == k:
            break
    return out


# At most this many pieces of one paragraph in the top k. Two, not one: the answer opens the whole
# paragraph either way, but a second piece can hold the sentence the first one lacks (measured on
# questions/dev.jsonl: a cap of 1 costs one hybrid hit at R@5, 0.953 → 0.941; 2 keeps 0.953).
MAX_HITS_PER_PARAGRAPH = 2


@dataclass
class Retriever:
    index: Index
    encoder: "Encoder"
    rrf_k: int = 60
    candidates: int = 50

    @property
    def bm25(self):
        """The BM25 index (bm25s; .idf maps a token to its idf)."""
        return self.index.bm25

    @property
    def idf(self) -> dict[str, float]:
        """Corpus idf of each BM25 token (weights for sentence overlap in prompt selection)."""
        return self.bm25.idf

    def query_vector(self, query: str) -> np.ndarray:
        return self.encoder.encode_queries([simplify(query)])[0:1].astype(np.float32)

    def dense_top(self, q: np.ndarray, n: int) -> tuple[list[int], dict[int, float]]:
        """The n chunks of highest dense score (the better of the context and bare views), best
        first: FAISS is asked for 2n rows, which always hold n distinct chunks."""
        n_chunks = len(self.index.chunks)
        sims, ids = self.index.vectors.search(q, min(VIEWS * n, VIEWS * n_chunks))
        best: dict[int, float] = {}
        for s, i in zip(sims[0].tolist(), ids[0].tolist()):   # plain floats and ints: a third faster
            if i >= 0 and i % n_chunks not in best:
                best[i % n_chunks] = s
        order = list(best)   # FAISS gives rows best first; equal scores go by chunk index
        if len(set(best.values())) < len(best):
            order.sort(key=lambda c: (-best[c], c))
        return order[:n], best

    def dense_of(self, q: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Exact dense scores of some chunks (both views reconstructed from the index)."""
        n_chunks = len(self.index.chunks)
        out = {}
        for c in ids:
            rows = np.stack([self.index.vectors.reconstruct(int(v * n_chunks + c)) for v in range(VIEWS)])
            out[c] = float((rows @ q[0]).max())
        return out

    def bm25_scores(self, query: str) -> np.ndarray:
        return self.index.bm25.scores(tokenize(query))

    def dense_scores(self, query: str) -> np.ndarray:
        """Dense score of every chunk (evaluation and tests; search itself never needs all)."""
        q = self.query_vector(query)
        n = len(self.index.chunks)
        return np.asarray([v for _, v in sorted(self.dense_of(q, list(range(n))).items())], dtype=np.float32)

    def also_ranking(self, also: str | None, n: int) -> list[list[int]]:
        """The dense ranking of a second wording of the question (the user's own words when the query
        is our translation of them: the encoder is multilingual, a wrong translation is not): one
        more list for the fusion, none without it."""
        also = clean_query(also or "")
        return [self.dense_top(self.query_vector(also), n)[0]] if also else []

    def bm25_ranking(self, query: str, n: int) -> tuple[list[tuple[int, float]], Callable[[int], float]]:
        """The n best BM25 chunks with a positive score, (chunk, score) best first, and the BM25 score of
        any chunk (a hit the fusion brought from the dense side keeps its own BM25 score)."""
        scores = self.bm25_scores(query)
        return [(int(i), float(scores[i])) for i in top_indices(scores, n) if scores[i] > 0], lambda i: float(scores[i])

    def search(self, query: str, k: int = 5, mode: str = "hybrid", also: str | None = None) -> list[Hit]:
        """The k best chunks, at most MAX_HITS_PER_PARAGRAPH of one paragraph: dense, BM25, or both fused
        by reciprocal rank (with the dense ranking of `also`, a second wording of the question)."""
        query = clean_query(query)
        chunks = self.index.chunks
        if not query or not chunks:
            return []
        # enough candidates for the paragraph cap to still fill k
        depth = min(max(self.candidates, 3 * k), len(chunks))
        q = self.query_vector(query) if mode in ("hybrid", "dense") else None
        bm25_of = None
        dense: dict[int, float] = {}
        if mode == "dense":
            ranked, dense = self.dense_top(q, depth)
            order = [(i, dense[i]) for i in ranked]
        elif mode == "bm25":
            order, bm25_of = self.bm25_ranking(query, depth)
        else:
            n = min(self.candidates, len(chunks))
            ranked, dense = self.dense_top(q, n)
            top, bm25_of = self.bm25_ranking(query, n)
            rankings = [ranked] + ([[i for i, _ in top]] if top else [])
            order = rrf(rankings + self.also_ranking(also, n), self.rrf_k)
        order = cap_per_paragraph(order, chunks, k, MAX_HITS_PER_PARAGRAPH)
        if q is not None:
            missing = [i for i, _ in order if i not in dense]
            dense.update(self.dense_of(q, missing))
        return [Hit(chunk=chunks[i], score=s, rank=r, dense=None if q is None else dense.get(i),
                    bm25=None if bm25_of is None else bm25_of(i))
                for r, (i, s) in enumerate(order, 1)]
