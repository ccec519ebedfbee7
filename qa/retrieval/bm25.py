"""BM25 over the chunks' tokens (bm25s sparse matrix, Okapi idf), saved with the index build.

Used by the retriever (qa/retrieval/retrieve.py) and the checks that weigh words by idf."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from qa.ingest.columns import pack_strings, unpack_strings

# BM25 as rank_bm25's BM25Okapi computed it (the figures on questions/dev.jsonl were measured
# with it): k1 1.5, b 0.75, idf log((N - df + .5) / (df + .5)), a negative idf replaced by
# 0.25 × the mean idf. bm25s builds the sparse matrix with its ATIRE term-frequency part (the
# same as Okapi's) and log(N / df) idf, which is then rescaled column by column to Okapi's idf.
BM25_K1, BM25_B, BM25_EPSILON = 1.5, 0.75, 0.25
EMPTY_TOKEN = "∅"  # a chunk without tokens still counts in N and the mean length, as before


class IdfMap(Mapping):
    """token → idf, read from the BM25 vocabulary without building a second dict."""

    def __init__(self, vocab: dict[str, int], idf: np.ndarray):
        self._vocab, self._idf = vocab, idf

    def __getitem__(self, token: str) -> float:
        return float(self._idf[self._vocab[token]])

    def __contains__(self, token: object) -> bool:
        return token in self._vocab

    def __iter__(self):
        return iter(self._vocab)

    def __len__(self) -> int:
        return len(self._vocab)


class Bm25:
    """BM25 over the chunks' tokens: a bm25s sparse matrix (CSC: one column of precomputed term
    scores per vocabulary token), so a query costs the postings of its own tokens only."""

    def __init__(self, vocab: list[str], token_ids: np.ndarray, offsets: np.ndarray,
                 data: np.ndarray | None = None, indices: np.ndarray | None = None, indptr: np.ndarray | None = None):
        import bm25s

        self.vocab = vocab
        self.vocab_dict = {t: i for i, t in enumerate(vocab)}
        self.token_ids, self.offsets = token_ids, offsets  # chunk i: token_ids[offsets[i]:offsets[i+1]]
        n = len(offsets) - 1
        self.model = bm25s.BM25(k1=BM25_K1, b=BM25_B, method="atire", dtype="float64", int_dtype="int32")
        if data is None:
            ids = token_ids.tolist()
            o = offsets.tolist()
            scores = self.model.build_index_from_ids(list(range(len(vocab))), [ids[o[i]:o[i + 1]] for i in range(n)],
                                                     show_progress=False)
            data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
            df = np.diff(indptr)
            atire = np.log(n / np.maximum(df, 1))
            okapi = self._okapi_idf(df, n)
            # a token in every chunk has ATIRE idf 0: its column stays 0 (Okapi would give it the floor)
            factor = np.where(atire > 0, okapi / np.where(atire > 0, atire, 1.0), 0.0)
            data = data * np.repeat(factor, df)
        self.model.scores = {"data": data, "indices": indices, "indptr": indptr, "num_docs": n}
        self.model.vocab_dict = self.vocab_dict
        self.model.nonoccurrence_array = None
        self.idf = IdfMap(self.vocab_dict, self._okapi_idf(np.diff(indptr), n))

    @staticmethod
    def _okapi_idf(df: np.ndarray, n: int) -> np.ndarray:
        idf = np.log(n - df + 0.5) - np.log(df + 0.5)
        floor = BM25_EPSILON * (idf.sum() / len(idf)) if len(idf) else 0.0
        return np.where(idf < 0, floor, idf)

    @classmethod
    def from_tokens(cls, tokens: list[list[str]]) -> "Bm25":
        vocab: dict[str, int] = {}
        flat: list[int] = []
        offsets = [0]
        for toks in tokens:
            for t in toks or [EMPTY_TOKEN]:
                flat.append(vocab.setdefault(t, len(vocab)))
            offsets.append(len(flat))
        return cls(list(vocab), np.asarray(flat, dtype=np.int32), np.asarray(offsets, dtype=np.int64))

    def chunk_tokens(self, i: int) -> list[str]:
        toks = [self.vocab[t] for t in self.token_ids[self.offsets[i]:self.offsets[i + 1]].tolist()]
        return [] if toks == [EMPTY_TOKEN] else toks

    def scores(self, query_tokens: list[str]) -> np.ndarray:
        ids = [self.vocab_dict[t] for t in query_tokens if t in self.vocab_dict]
        n = self.model.scores["num_docs"]
        if not ids:
            return np.zeros(n, dtype=np.float32)
        return self.model.get_scores_from_ids(ids).astype(np.float32)

    # rank_bm25's name, kept for callers that ask for all scores
    def get_scores(self, query_tokens: list[str]) -> np.ndarray:
        return self.scores(query_tokens)

    def save(self, path: Path) -> None:
        blob, voffsets = pack_strings(self.vocab)
        sc = self.model.scores
        with open(path, "wb") as fh:
            np.savez(fh, vocab_blob=blob, vocab_offsets=voffsets, token_ids=self.token_ids, offsets=self.offsets,
                     data=sc["data"], indices=sc["indices"], indptr=sc["indptr"])

    @classmethod
    def load(cls, path: Path) -> "Bm25":
        with np.load(path, allow_pickle=False) as z:
            return cls(unpack_strings(z["vocab_blob"], z["vocab_offsets"]), z["token_ids"], z["offsets"],
                       z["data"], z["indices"], z["indptr"])
