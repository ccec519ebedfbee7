"""Stage 6: hybrid retrieval — FAISS (cosine over normalized e5 vectors) + BM25 (jieba tokens of
traditional→simplified text), fused by reciprocal rank."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from rank_bm25 import BM25Okapi

from .index import VIEWS, Index
from .normalize import simplify, strip_controls, tokenize
from .schema import Hit

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
    return " ".join(strip_controls(query).split())[:MAX_QUERY_CHARS]


@dataclass
class Retriever:
    index: Index
    encoder: "Encoder"
    rrf_k: int = 60
    candidates: int = 50

    def __post_init__(self) -> None:
        # BM25Okapi divides by zero on an all-empty corpus; a placeholder token keeps it defined.
        self.bm25 = BM25Okapi([t or ["∅"] for t in self.index.tokens])

    @property
    def idf(self) -> dict[str, float]:
        """Corpus idf of each BM25 token (weights for sentence overlap in prompt selection)."""
        return self.bm25.idf

    def dense_scores(self, query: str) -> np.ndarray:
        q = self.encoder.encode_queries([simplify(query)])[0:1].astype(np.float32)
        total = self.index.vectors.ntotal
        sims, ids = self.index.vectors.search(q, total)
        flat = np.empty(total, dtype=np.float32)
        flat[ids[0]] = sims[0]
        return flat.reshape(VIEWS, -1).max(axis=0)  # best of the context and bare views

    def bm25_scores(self, query: str) -> np.ndarray:
        toks = tokenize(query)
        return np.asarray(self.bm25.get_scores(toks), dtype=np.float32) if toks else np.zeros(len(self.index.chunks), np.float32)

    def search(self, query: str, k: int = 5, mode: str = "hybrid") -> list[Hit]:
        query = clean_query(query)
        if not query or not self.index.chunks:
            return []
        dense = self.dense_scores(query) if mode in ("hybrid", "dense") else None
        bm25 = self.bm25_scores(query) if mode in ("hybrid", "bm25") else None
        depth = min(self.candidates, len(self.index.chunks))
        if mode == "dense":
            order = [(int(i), float(dense[i])) for i in np.argsort(-dense, kind="stable")[:k]]
        elif mode == "bm25":
            order = [(int(i), float(bm25[i])) for i in np.argsort(-bm25, kind="stable")[:k] if bm25[i] > 0]
        else:
            rankings = [list(np.argsort(-dense, kind="stable")[:depth])]
            bm_rank = [i for i in np.argsort(-bm25, kind="stable")[:depth] if bm25[i] > 0]
            if bm_rank:
                rankings.append(bm_rank)
            order = rrf(rankings, self.rrf_k)[:k]
        return [
            Hit(
                chunk=self.index.chunks[i],
                score=s,
                rank=r,
                dense=None if dense is None else float(dense[i]),
                bm25=None if bm25 is None else float(bm25[i]),
            )
            for r, (i, s) in enumerate(order, 1)
        ]
