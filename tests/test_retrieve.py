"""Retrieval on the real seeds with the real embedding model."""
import pytest

from qa.eval.run import run_retrieval

from qa.eval.questions import load_questions
from qa.retrieval.retrieve import clean_query, rrf
from tests.conftest import SEEDS

QUESTIONS = SEEDS.parent / "questions" / "dev.jsonl"


def test_rrf_is_exact():
    fused = rrf([[1, 2, 3], [3, 1]], k=10)
    assert [i for i, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 / 11 + 1 / 12)
    assert fused[2][1] == pytest.approx(1 / 12)


def test_query_cleaning():
    assert clean_query("  定西\x00市\n\t补助  ") == "定西市 补助"
    assert len(clean_query("问" * 10_000)) == 500


def test_subsidy_question_top_hit(seed_engine):
    top = seed_engine.search("定西市驻村帮扶干部的生活补助是多少？", k=3)[0]
    assert top.chunk.para_ids == ("000_2fea3bba8e0420ec.txt#6",)
    assert "每人每天100元" in top.chunk.text and top.dense > 0.8 and top.bm25 > 0


def test_simplified_question_finds_traditional_document(seed_engine):
    for q in ("扎赉特旗选派了多少名第一书记？", "紮賚特旗選派了多少名第一書記？", "扎赉特旗选派了多少名第一书记?"):
        top = seed_engine.search(q, k=1)[0]
        assert top.chunk.doc == "002_2d655d4704b4aa68.txt" and "196名" in top.chunk.text, q


def test_fullwidth_query_same_as_halfwidth(seed_engine):
    a = [h.chunk.id for h in seed_engine.search("２０１９年５月起补助标准是多少", k=5)]
    b = [h.chunk.id for h in seed_engine.search("2019年5月起补助标准是多少", k=5)]
    assert a == b


def test_metadata_is_retrievable(seed_engine):
    top = seed_engine.search("这篇讲话是哪天发表的？王正谱", k=3)
    assert any(h.chunk.para_ids == ("001_123d84c7bbc14b5a.txt#0",) for h in top)


def test_modes_and_empty_query(seed_engine):
    assert seed_engine.search("", k=5) == [] and seed_engine.search(" \n\t", k=5) == []
    for mode in ("hybrid", "bm25", "dense"):
        hits = seed_engine.search("第一书记", k=4, mode=mode)
        assert [h.rank for h in hits] == [1, 2, 3, 4]
        assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


def test_recall_on_dev_questions(seed_engine):
    questions = load_questions(QUESTIONS)
    summary = run_retrieval(seed_engine, questions, 5, "hybrid", progress=False)[1]
    summaries = summary["modes"]  # every row carries the rank of each mode
    h = summaries["hybrid"]
    assert (h["recall@1"], h["recall@5"], h["mrr"]) == (summary["recall@1"], summary["recall@5"], summary["mrr"])
    assert h["recall@5"] >= 0.95 and h["recall@1"] >= 0.80, h
    for other in ("bm25", "dense"):
        assert h["recall@5"] >= summaries[other]["recall@5"] and h["recall@1"] > summaries[other]["recall@1"]


def test_one_long_paragraph_does_not_fill_the_top_k(tmp_path, seeds_dir, qa_cache_dir, encoder):
    """A one-line file (no line breaks, no sentence ends) is cut into many chunks of one paragraph;
    the top k holds at most MAX_HITS_PER_PARAGRAPH of them and other documents fill the rest."""
    import shutil
    from collections import Counter

    from qa.retrieval.index import open_index
    from qa.retrieval.retrieve import MAX_HITS_PER_PARAGRAPH, Retriever
    from qa.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(seeds_dir / "000_2fea3bba8e0420ec.txt", docs)
    line = "驻村帮扶干部生活补助标准每人每天发放补助资金用于驻村工作队员生活保障" * 60  # ~2,000 chars, one line
    (docs / "one-line.txt").write_text(line, encoding="utf-8")
    s = Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=tmp_path / "idx")
    idx = open_index(s, encoder)
    pieces = [c for c in idx.chunks if c.doc == "one-line.txt"]
    assert len(pieces) >= 6 and all(len(c.text) <= s.chunk_chars for c in pieces)
    assert len({c.para_ids for c in pieces}) == 1
    ret = Retriever(idx, encoder, s.rrf_k, s.candidates)
    for mode in ("hybrid", "bm25", "dense"):
        hits = ret.search("驻村帮扶干部的生活补助是多少？", k=5, mode=mode)
        assert sum(h.chunk.doc == "one-line.txt" for h in hits) == MAX_HITS_PER_PARAGRAPH, mode
        per_para = Counter(h.chunk.para_ids for h in hits)
        assert len(hits) == 5 and max(per_para.values()) == MAX_HITS_PER_PARAGRAPH, (mode, per_para)


def test_top_indices_matches_a_stable_sort():
    import numpy as np

    from qa.retrieval.retrieve import top_indices

    rng = np.random.default_rng(1)
    for n in (1, 7, 100):
        scores = rng.integers(0, 5, size=n).astype(np.float32)  # many ties
        for k in (1, 3, n, n + 5):
            assert top_indices(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


def test_dense_top_orders_equal_scores_by_chunk_index():
    """FAISS returns rows best first but in no promised order among equal scores; the ranking of
    chunks with equal scores (duplicated text) goes by chunk index, as a stable sort would."""
    from types import SimpleNamespace

    import faiss
    import numpy as np

    from qa.retrieval.index import VIEWS
    from qa.retrieval.retrieve import Retriever

    rng = np.random.default_rng(3)
    n_chunks, dim = 40, 8
    base = rng.normal(size=(n_chunks, dim)).astype(np.float32)
    other = rng.normal(size=(n_chunks, dim)).astype(np.float32)
    base[[30, 17, 5]] = base[2]                 # four chunks with one text (both views)
    other[[30, 17, 5]] = other[2]
    views = np.concatenate([base, other])
    views /= np.linalg.norm(views, axis=1, keepdims=True)
    vectors = faiss.IndexFlatIP(dim)
    vectors.add(views)
    assert views.shape[0] == VIEWS * n_chunks
    ret = Retriever(SimpleNamespace(chunks=list(range(n_chunks)), vectors=vectors), encoder=None)
    q = views[2:3]
    order, best = ret.dense_top(q, 10)
    assert order[:4] == [2, 5, 17, 30]
    exact = (views @ q[0]).reshape(VIEWS, -1).max(axis=0)
    assert order == np.argsort(-exact, kind="stable")[:10].tolist()
    assert all(abs(best[c] - exact[c]) < 1e-5 for c in order)


def test_a_translated_question_also_searches_in_its_own_words(seed_engine):
    """A small model's translation of an English question can name the wrong place or thing; the
    multilingual encoder reads the user's own words, so their dense ranking joins the fusion."""
    english = "How much is the daily living allowance for cadres stationed in villages in Dingxi?"
    wrong = "陇南市驻村干部的交通补贴是多少？"   # the kind of translation a 1.5B model writes

    def rank(hits):
        return next((h.rank for h in hits if "每人每天100元" in h.chunk.text), None)

    plain, both = seed_engine.search(wrong, k=5), seed_engine.search(wrong, k=5, also=english)
    assert rank(both) == 1 and rank(plain) > 1
    # nothing else changes: no second wording, the same hits; bm25 and dense modes ignore it
    assert [h.chunk.id for h in seed_engine.search(wrong, k=5, also=None)] == [h.chunk.id for h in plain]
    assert [h.chunk.id for h in seed_engine.search(wrong, k=5, mode="bm25", also=english)] == \
        [h.chunk.id for h in seed_engine.search(wrong, k=5, mode="bm25")]
