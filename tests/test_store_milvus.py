"""The Milvus store (qa/retrieval/store_milvus.py) against real Milvus Lite in a temp .db: mirroring a build,
search in the three modes, answers through the chat service, updates after a document change,
and dev-set retrieval figures within 0.02 of the local FAISS + bm25s store."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("pymilvus")
pytest.importorskip("milvus_lite")

from qa.retrieval.engine import Engine, make_retriever  # noqa: E402
from qa.retrieval.index import open_index  # noqa: E402
from qa.retrieval.store_milvus import MilvusRetriever, MilvusStore  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SUBSIDY_Q = "定西市驻村帮扶干部的生活补助是多少？"
SUBSIDY_PARA = "000_2fea3bba8e0420ec.txt#6"


def _cached_queries(*retrievers) -> None:
    """One query encoding shared by the retrievers compared (the encoder is not what is tested)."""
    cache: dict[str, object] = {}
    encode = retrievers[0].query_vector

    def query_vector(q: str):
        if q not in cache:
            cache[q] = encode(q)
        return cache[q]

    for r in retrievers:
        r.query_vector = query_vector


@pytest.fixture(scope="module")
def milvus_seeds(seed_settings, seed_engine, tmp_path_factory):
    settings = seed_settings.with_(store=str(tmp_path_factory.mktemp("milvus") / "seeds.db"))
    retriever = make_retriever(settings, seed_engine.index, seed_engine.encoder)
    return settings, retriever


def test_build_mirrors_the_index_and_a_reopen_writes_nothing(milvus_seeds, seed_engine):
    settings, retriever = milvus_seeds
    assert isinstance(retriever, MilvusRetriever)
    n = len(seed_engine.index.chunks)
    assert (retriever.sync_report.rows, retriever.sync_report.inserted, retriever.sync_report.deleted) == (n, n, 0)
    again = make_retriever(settings, seed_engine.index, seed_engine.encoder)
    assert (again.sync_report.inserted, again.sync_report.deleted) == (0, 0)
    assert again.row_ids == retriever.row_ids and len(again.store.ids()) == n


def test_search_in_every_mode_matches_the_local_store(milvus_seeds, seed_engine):
    _, milvus = milvus_seeds
    local = seed_engine.retriever
    _cached_queries(local, milvus)
    for mode in ("hybrid", "bm25", "dense"):
        hits = milvus.search(SUBSIDY_Q, 5, mode)
        assert hits[0].chunk.para_ids == (SUBSIDY_PARA,), (mode, [h.chunk.id for h in hits])
        assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
        assert (hits[0].dense is None) == (mode == "bm25") and (hits[0].bm25 is None) == (mode == "dense")
    # dense: the same vectors, the same exact inner product → the same chunks and cosines
    ours, theirs = local.search(SUBSIDY_Q, 5, "dense"), milvus.search(SUBSIDY_Q, 5, "dense")
    assert [h.chunk.id for h in ours] == [h.chunk.id for h in theirs]
    assert all(abs(a.score - b.score) < 1e-4 for a, b in zip(ours, theirs))
    # hybrid: every hit carries its cosine (the relevance gate reads it), as the local store's do
    for h in milvus.search(SUBSIDY_Q, 5, "hybrid"):
        assert abs(h.dense - local.dense_of(local.query_vector(SUBSIDY_Q), [seed_engine.index.chunks.index(h.chunk)])
                   [seed_engine.index.chunks.index(h.chunk)]) < 1e-4
    assert milvus.search("", 5) == [] and milvus.idf is local.idf  # idf: the local build's


def test_answers_through_the_service_are_unchanged(milvus_seeds, seed_engine):
    from qa.answering.answer import Answerer
    from qa.serve.chat import ChatService

    settings, milvus = milvus_seeds
    engine = Engine(settings.with_(llm="extractive"), seed_engine.encoder, seed_engine.index, milvus)
    service = ChatService(engine.settings, engine, lambda eng, spec: Answerer(eng, None))
    ans = service.answer(SUBSIDY_Q, spec="extractive")
    assert "100元" in ans.text and ans.citations and ans.citations[0].para == SUBSIDY_PARA
    assert service.answer("今天天气怎么样？", spec="extractive").abstained  # the gate, on Milvus's hits


def test_dev_set_figures_within_0_02_of_the_local_store(milvus_seeds, seed_engine):
    from qa.eval.run import run_retrieval

    from qa.eval.questions import load_questions

    _, milvus = milvus_seeds
    local = seed_engine.retriever
    _cached_queries(local, milvus)
    questions = load_questions(ROOT / "questions" / "dev.jsonl")
    figures = {}
    for name, retriever in (("local", local), ("milvus", milvus)):
        engine = Engine(seed_engine.settings, seed_engine.encoder, seed_engine.index, retriever)
        _, summary = run_retrieval(engine, questions, 5, "hybrid", progress=False)  # each question in all modes
        for mode in ("hybrid", "bm25", "dense"):
            figures[name, mode] = summary["modes"][mode]
    print(figures)
    for mode in ("hybrid", "bm25", "dense"):
        for m in ("recall@1", "recall@5", "mrr"):
            assert abs(figures["milvus", mode][m] - figures["local", mode][m]) <= 0.02, (mode, m, figures)
    assert figures["milvus", "dense"] == figures["local", "dense"]  # same vectors, exact search


def test_update_after_a_document_change(tmp_path, seeds_dir, qa_cache_dir, encoder):
    from qa.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in ("002_2d655d4704b4aa68.txt", "004_467eccf48051f7c2.txt"):
        shutil.copy(seeds_dir / name, docs / name)
    settings = Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=tmp_path / "index",
                             store=str(tmp_path / "m.db"))
    index = open_index(settings, encoder)
    engine = Engine(settings, encoder, index, make_retriever(settings, index, encoder))
    assert engine.retriever.sync_report.inserted == len(index.chunks)

    # the same changes written as a difference (what a Milvus server gets; Lite rewrites, see
    # MilvusStore): the bookkeeping of rows, checked on a second collection of the same file
    diff = MilvusStore(settings.store, "policyqa_difference", encoder.dim, rewrite=False)
    assert diff.sync(index)[1].inserted == len(index.chunks)

    # an upload: found at once, by BM25 too (its words are rare: Lite's per-segment statistics
    # would hide them in a segment of their own, so Lite gets the collection rewritten)
    new = "一、补助标准\n青松县驻村干部生活补助为每人每天80元。\n".encode()
    accepted, _ = engine.add_files([("青松县.txt", new)])
    assert accepted == ["青松县.txt"] and isinstance(engine.retriever, MilvusRetriever)
    assert engine.retriever.sync_report.rewritten and engine.retriever.sync_report.inserted == len(engine.index.chunks)
    for mode in ("hybrid", "bm25", "dense"):
        assert engine.retriever.search("青松县驻村干部生活补助是多少", 1, mode)[0].chunk.doc == "青松县.txt", mode
    added = sum(c.doc == "青松县.txt" for c in engine.index.chunks)
    rep = diff.sync(engine.index)[1]
    assert (rep.inserted, rep.deleted, rep.rewritten) == (added, 0, False)

    # a changed document: its new text is found, its old rows are gone, the others untouched
    doc = docs / "004_467eccf48051f7c2.txt"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n新增段落：某县为每个贫困村安排集体经济扶持资金50万元。\n",
                   encoding="utf-8")
    (docs / "002_2d655d4704b4aa68.txt").unlink()
    index = open_index(settings, encoder)
    retriever = make_retriever(settings, index, encoder)
    assert retriever.sync_report.rewritten and len(retriever.store.ids()) == len(index.chunks)
    rep = diff.sync(index)[1]
    assert 0 < rep.inserted < len(index.chunks) and rep.deleted > 0  # only the changed document's rows
    assert diff.ids() == set(retriever.row_ids)
    hit = retriever.search("每个贫困村安排集体经济扶持资金多少", 1, "bm25")[0]
    assert "50万元" in hit.chunk.text
    gone = retriever.store.client.query(retriever.store.name, filter='doc == "002_2d655d4704b4aa68.txt"',
                                        output_fields=["id"])
    assert list(gone) == []


def test_store_setting_is_checked():
    from qa.settings import Settings
    from qa.retrieval.store_milvus import MilvusTarget, StoreError, milvus_target

    with pytest.raises(ValueError, match="不支持的存储设置"):
        Settings.load(store="redis://127.0.0.1:6379")
    assert milvus_target("milvus://127.0.0.1:19530") == MilvusTarget("http://127.0.0.1:19530")
    # credentials and database: pymilvus's token "user:password", the password percent-decoded, never shown
    t = milvus_target("milvus://qa_reader:p%40ss%3Aw0rd@milvus.internal:19530/policy")
    assert t == MilvusTarget("http://milvus.internal:19530", "qa_reader:p@ss:w0rd", "policy")
    assert t.shown == "http://qa_reader:***@milvus.internal:19530" and "w0rd" not in t.shown
    assert milvus_target("milvus://root:Milvus@[::1]:19530/") == MilvusTarget("http://[::1]:19530", "root:Milvus")
    with pytest.raises(StoreError, match="格式不正确") as err:
        milvus_target("milvus://bad host/")
    with pytest.raises(StoreError) as err:
        milvus_target("milvus://u:secret@bad host:1")
    assert "secret" not in str(err.value)
    from qa.retrieval.store_milvus import shown_store
    assert shown_store("milvus://u:secret@h:1/db") == "http://u:***@h:1" and "secret" not in repr(
        Settings.load(store="milvus://u:secret@h:1/db"))
