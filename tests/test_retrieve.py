"""Retrieval on the real seeds with the real embedding model."""
import pytest

from qa.eval import load_questions, run_retrieval
from qa.retrieve import clean_query, rrf
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
