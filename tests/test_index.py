"""Persistence: freshness, staleness, incremental rebuild, atomic switch, corruption recovery."""
import dataclasses
import json
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from qa.retrieval import index as index_mod
from qa.retrieval.index import open_index, read_index
from qa.settings import Settings

SMALL = ("002_2d655d4704b4aa68.txt", "004_467eccf48051f7c2.txt")


@pytest.fixture
def corpus(tmp_path: Path, seeds_dir: Path, qa_cache_dir: Path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in SMALL:
        shutil.copy(seeds_dir / name, docs / name)
    return Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=tmp_path / "index")


def _current(settings) -> Path:
    d = settings.resolved_index_dir
    return d / "builds" / (d / "CURRENT").read_text().strip()


def test_fresh_index_is_loaded_not_rebuilt(corpus, encoder):
    first = open_index(corpus, encoder)
    assert first.manifest["embedded"] == 2 * len(first.chunks)
    again = open_index(corpus, encoder)
    assert again.path == first.path and again.manifest["built_at"] == first.manifest["built_at"]
    assert again.stats() == first.stats()
    assert again.stats()["documents"] == 2


def test_changed_document_rebuilds_and_reuses_vectors(corpus, encoder):
    first = open_index(corpus, encoder)
    doc = corpus.docs_dir / SMALL[1]
    doc.write_text(doc.read_text(encoding="utf-8") + "\n新增段落：某县为每个贫困村安排集体经济扶持资金50万元。\n", encoding="utf-8")
    second = open_index(corpus, encoder)
    assert second.path != first.path and not first.path.exists()  # the old build is cleaned up
    assert 0 < second.manifest["embedded"] < 2 * len(second.chunks)  # only changed chunks embedded
    assert any("50万元" in c.text for c in second.chunks)


def test_a_new_pipeline_version_parses_again_and_embeds_no_unchanged_text(corpus, encoder, monkeypatch):
    # an upgrade re-reads every document, but a chunk whose text did not change keeps its vector
    first = open_index(corpus, encoder)
    monkeypatch.setattr(index_mod, "PIPELINE_VERSION", index_mod.PIPELINE_VERSION + 1)
    second = open_index(corpus, encoder)
    assert second.path != first.path and second.manifest["pipeline_version"] == index_mod.PIPELINE_VERSION
    assert second.manifest["embedded"] == 0 and [c.text for c in second.chunks] == [c.text for c in first.chunks]


def test_added_and_removed_documents(corpus, encoder, seeds_dir):
    open_index(corpus, encoder)
    shutil.copy(seeds_dir / "003_523b3058465032b4.txt", corpus.docs_dir)
    assert open_index(corpus, encoder).stats()["documents"] == 3
    (corpus.docs_dir / SMALL[0]).unlink()
    idx = open_index(corpus, encoder)
    assert sorted(idx.documents) == ["003_523b3058465032b4.txt", SMALL[1]]
    assert all(c.doc != SMALL[0] for c in idx.chunks)


def test_setting_change_rebuilds(corpus, encoder):
    first = open_index(corpus, encoder)
    smaller = corpus.with_(chunk_chars=150)
    second = open_index(smaller, encoder)
    assert second.manifest["chunk_chars"] == 150 and len(second.chunks) > len(first.chunks)


@pytest.mark.parametrize("victim", ["vectors.faiss", "chunks.npz", "bm25.npz", "manifest.json"])
def test_corrupted_file_detected_and_rebuilt(corpus, encoder, victim):
    first = open_index(corpus, encoder)
    path = first.path / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data[: len(data) - 7]))
    with pytest.raises(index_mod.IndexFailure) if victim != "manifest.json" else pytest.raises(Exception):
        read_index(first.path)
    rebuilt = open_index(corpus, encoder)
    assert rebuilt.path != first.path
    assert read_index(rebuilt.path).stats()["chunks"] == first.stats()["chunks"]


def test_interrupted_build_leaves_previous_index(corpus, encoder, monkeypatch):
    first = open_index(corpus, encoder)
    (corpus.docs_dir / SMALL[0]).write_text("一、新内容\n这是修改后的文档。", encoding="utf-8")

    def boom(*a, **k):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(index_mod.faiss, "write_index", boom)
    with pytest.raises(KeyboardInterrupt):
        open_index(corpus, encoder)
    monkeypatch.undo()
    assert _current(corpus) == first.path
    assert read_index(first.path).stats() == first.stats()  # still whole and verifiable
    fixed = open_index(corpus, encoder)  # the next run finishes the job and sweeps the debris
    assert fixed.path != first.path
    assert not list((corpus.resolved_index_dir / "builds").glob(".tmp-*"))


def test_bad_files_warn_and_the_rest_is_indexed(corpus, encoder):
    (corpus.docs_dir / "empty.txt").write_bytes(b"")
    (corpus.docs_dir / "image.txt").write_bytes(b"\x89PNG\x00\x00binary")
    idx = open_index(corpus, encoder)
    assert sorted(idx.documents) == sorted(SMALL)
    assert sorted(w.name for w in idx.warnings) == ["empty.txt", "image.txt"]


def test_empty_corpus_is_a_clear_error(tmp_path, encoder, qa_cache_dir):
    (tmp_path / "docs").mkdir()
    s = Settings.load(docs_dir=tmp_path / "docs", cache_dir=qa_cache_dir, index_dir=tmp_path / "index")
    with pytest.raises(index_mod.IndexFailure, match="没有可用"):
        open_index(s, encoder)


def test_manifest_records_what_makes_an_index_stale(corpus, encoder):
    m = open_index(corpus, encoder).manifest
    assert m["model_id"] == encoder.model_id and m["chunk_chars"] == 300
    assert set(m["docs"]) == set(SMALL) and all(len(h) == 64 for h in m["docs"].values())
    assert {"faiss-cpu", "sentence-transformers", "jieba"} <= set(m["versions"])


def test_upload_validation_keeps_index_intact(corpus):
    from qa.retrieval.engine import Engine

    eng = Engine.open(corpus)
    before = eng.index.stats()
    accepted, rejected = eng.add_files([
        (SMALL[0], b"\xe4\xb8\x80"),                      # same name as an indexed document
        ("blob.txt", b"\x00\x01binary"), ("a.pdf", b"%PDF"), ("empty.md", b""),
    ])
    assert accepted == [] and [w.name for w in rejected] == [SMALL[0], "blob.txt", "a.pdf", "empty.md"]
    assert "同名" in rejected[0].reason and eng.index.stats() == before
    accepted, _ = eng.add_files([("new.txt", "一、补助标准\n某县驻村干部生活补助为每人每天80元。".encode())])
    assert accepted == ["new.txt"] and eng.index.stats()["documents"] == before["documents"] + 1
    assert eng.search("某县驻村干部生活补助", k=1)[0].chunk.doc == "new.txt"


def test_upload_names_a_file_system_or_the_next_start_would_refuse_are_rejected():
    from qa.retrieval.engine import MAX_NAME_BYTES, name_problem

    assert name_problem("关于做好2025年工作的通知.docx") is None
    longest = "字" * ((MAX_NAME_BYTES - len(".txt")) // 3) + ".txt"          # 3 bytes a character
    assert name_problem(longest) is None and "过长" in name_problem("字" + longest)
    assert "“.”开头" in name_problem(".hidden.txt")
    assert "控制字符" in name_problem("a\x07b.txt")
    assert "同名" in name_problem("a.txt", {"a.txt"})
    assert name_problem("") == "文件名为空"


def test_upload_with_bad_names_changes_nothing_and_says_why(corpus):
    from qa.retrieval.engine import Engine

    eng = Engine.open(corpus)
    before = eng.index.stats()
    body = "一、补助标准\n某县驻村干部生活补助为每人每天80元。".encode()
    accepted, rejected = eng.add_files([("字" * 100 + ".txt", body), (".hidden.txt", body),
                                        ("../../etc/x.txt", body), ("x.txt", body)])
    # the path is cut to its last part; the second "x.txt" of one request is refused, not overwritten
    assert accepted == ["x.txt"] and len(rejected) == 3
    assert "过长" in rejected[0].reason and len(rejected[0].name) <= 61 and "“.”开头" in rejected[1].reason
    assert "同名" in rejected[2].reason and rejected[2].name == "x.txt"
    assert sorted(p.name for p in corpus.docs_dir.iterdir()) == sorted([*SMALL, "x.txt"])
    assert eng.index.stats()["documents"] == before["documents"] + 1


def test_unchanged_documents_are_not_parsed_or_embedded_again(corpus, encoder, seeds_dir):
    first = open_index(corpus, encoder)
    shutil.copy(seeds_dir / "003_523b3058465032b4.txt", corpus.docs_dir)
    second = open_index(corpus, encoder)
    new_chunks = [c for c in second.chunks if c.doc == "003_523b3058465032b4.txt"]
    assert second.manifest["reparsed"] == 1 and second.manifest["embedded"] == 2 * len(new_chunks)
    for name in SMALL:  # taken over from the previous build, not re-parsed
        assert second.documents[name] == first.documents[name]
    # and what a reused document holds is what a full build gives
    full = open_index(corpus, encoder, rebuild=True)
    assert full.manifest["reparsed"] == 3
    assert [c.id for c in full.chunks] == [c.id for c in second.chunks]
    assert full.tokens == second.tokens
    assert np.allclose(full.vectors.reconstruct_n(0, full.vectors.ntotal),
                       second.vectors.reconstruct_n(0, second.vectors.ntotal), atol=1e-5)


def test_records_round_trip_through_columns(tmp_path, seed_docs):
    from qa.ingest.columns import load_records, save_records
    from qa.schema import Paragraph

    paras = [p for d in seed_docs.values() for p in d.paragraphs]
    save_records(tmp_path / "p.npz", paras, Paragraph)
    assert load_records(tmp_path / "p.npz", Paragraph) == paras
    odd = [dataclasses.replace(paras[0], text="\ud7ff\U0001F600 <x> \"q\" \n", page=None, section=()),
           dataclasses.replace(paras[1], page=3, section=("一", "（二）"))]
    save_records(tmp_path / "o.npz", odd, Paragraph)
    assert load_records(tmp_path / "o.npz", Paragraph) == odd


def test_bm25_scores_equal_okapi_as_measured_before(seed_engine):
    """bm25s with Okapi's idf gives rank_bm25's BM25Okapi scores (the dev-set figures were measured with it)."""
    rank_bm25 = pytest.importorskip("rank_bm25")
    from qa.text.normalize import tokenize

    idx = seed_engine.index
    okapi = rank_bm25.BM25Okapi([t or ["∅"] for t in idx.tokens])
    for q in ("定西市驻村帮扶干部的生活补助是多少？", "第一书记 第一书记 选派", "扎赉特旗", "不存在的词语xyz"):
        toks = tokenize(q)
        assert np.allclose(idx.bm25.scores(toks), okapi.get_scores(toks), rtol=1e-5, atol=1e-5), q
    assert idx.bm25.idf["补助"] == pytest.approx(okapi.idf["补助"])
    assert "补助" in idx.bm25.idf and "不存在的词语xyz" not in idx.bm25.idf


def test_large_corpus_uses_hnsw_with_measured_recall(corpus, encoder, monkeypatch, seed_engine):
    monkeypatch.setattr(index_mod, "EXACT_MAX_ROWS", 10)
    idx = open_index(corpus, encoder, rebuild=True)
    info = idx.manifest["faiss"]
    assert info["type"] == "hnsw" and info["rows"] == 2 * len(idx.chunks) and info["recall@10"] >= 0.99
    assert isinstance(read_index(idx.path).vectors, faiss.IndexHNSW)
    from qa.retrieval.retrieve import Retriever

    exact = Retriever(open_index(corpus.with_(index_dir=corpus.index_dir.parent / "exact"), encoder), encoder)
    approx = Retriever(idx, encoder)
    q = "扎赉特旗选派了多少名第一书记？"
    assert [h.chunk.id for h in approx.search(q, 5, "dense")] == [h.chunk.id for h in exact.search(q, 5, "dense")]


def test_overlong_document_is_refused_with_a_clear_reason(corpus, encoder, monkeypatch):
    monkeypatch.setattr(index_mod, "MAX_DOC_CHARS", 5000)  # the two seeds are shorter
    (corpus.docs_dir / "long.txt").write_text("某县" * 3000, encoding="utf-8")
    idx = open_index(corpus, encoder)
    assert "long.txt" not in idx.documents and sorted(idx.documents) == sorted(SMALL)
    reason = next(w.reason for w in idx.warnings if w.name == "long.txt")
    assert "过长" in reason and "6000" in reason


def _listing(settings) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(Path(settings.docs_dir).iterdir())}


UPLOAD = "\n".join(f"第{i}条 某县第{i}个行政村今年新修道路{i * 3}公里，安排资金{i * 7}万元，用于村级公共设施维护。"
                   for i in range(1, 120)).encode()


def test_killed_upload_leaves_documents_and_index_as_they_were(corpus, encoder, qa_cache_dir):
    import os
    import signal
    import subprocess
    import sys

    first = open_index(corpus, encoder)
    before = _listing(corpus)
    upload = corpus.docs_dir.parent / "upload.txt"
    upload.write_bytes(UPLOAD)
    script = (
        "import sys\nfrom qa.retrieval.engine import Engine\nfrom qa.settings import Settings\n"
        f"s = Settings.load(docs_dir={str(corpus.docs_dir)!r}, cache_dir={str(qa_cache_dir)!r}, "
        f"index_dir={str(corpus.index_dir)!r})\n"
        "eng = Engine.open(s)\n"
        f"eng.add_files([('村道.txt', open({str(upload)!r}, 'rb').read())], progress=lambda m: print(m, flush=True))\n"
        "print('done', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[1],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "向量化" in line:  # mid-index: staged, parsed, embedding
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(60)
    assert proc.returncode == -signal.SIGKILL, seen
    assert _listing(corpus) == before  # no new file, no half-written file
    assert _current(corpus) == first.path and read_index(first.path).stats() == first.stats()
    assert list((corpus.resolved_index_dir / "staging").iterdir())  # the killed process's staging
    # the next start uses the index as it was; the next upload sweeps the debris and succeeds
    from qa.retrieval.engine import Engine

    eng = Engine.open(corpus)
    assert eng.index.path == first.path
    accepted, _ = eng.add_files([("村道.txt", UPLOAD)])
    assert accepted == ["村道.txt"] and (corpus.docs_dir / "村道.txt").read_bytes() == UPLOAD
    assert not list((corpus.resolved_index_dir / "staging").iterdir())
    assert eng.search("第7个行政村新修道路多少公里", k=1)[0].chunk.doc == "村道.txt"


def test_cancelled_or_failing_upload_changes_nothing(corpus, encoder, monkeypatch):
    from qa.retrieval.engine import Engine

    eng = Engine.open(corpus)
    before, first = _listing(corpus), eng.index
    steps = []
    with pytest.raises(index_mod.IndexFailure, match="取消"):
        eng.add_files([("村道.txt", UPLOAD)], progress=steps.append, cancel=lambda: bool(steps))
    assert _listing(corpus) == before and eng.index is first and _current(corpus) == first.path

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(index_mod.faiss, "write_index", boom)
    with pytest.raises(OSError):
        eng.add_files([("村道.txt", UPLOAD)])
    assert _listing(corpus) == before and eng.index is first and _current(corpus) == first.path
    assert eng.search("某县驻村干部", k=1)  # questions are still answered from the previous index


def test_a_compilation_is_embedded_once_per_chunk(corpus, encoder, monkeypatch, seeds_dir):
    """A document over ONE_VIEW_CHARS gets one embedding per chunk (bare) and its context row
    repeats it; the other documents keep both views, and the compilation is still found."""
    monkeypatch.setattr(index_mod, "ONE_VIEW_CHARS", 5000)   # the two small seeds are shorter
    shutil.copy(seeds_dir / "000_2fea3bba8e0420ec.txt", corpus.docs_dir)   # ~8,600 characters
    idx = open_index(corpus, encoder)
    n = len(idx.chunks)
    big = [j for j, c in enumerate(idx.chunks) if c.doc == "000_2fea3bba8e0420ec.txt"]
    assert big and idx.manifest["embedded"] == 2 * n - len(big)
    rows = idx.vectors.reconstruct_n(0, idx.vectors.ntotal)
    assert np.array_equal(rows[big], rows[[n + j for j in big]])
    small = [j for j in range(n) if j not in set(big)]
    assert not any(np.array_equal(rows[j], rows[n + j]) for j in small)
    from qa.retrieval.retrieve import Retriever
    hits = Retriever(idx, encoder).search(idx.chunks[big[3]].text, k=3, mode="dense")
    assert hits[0].chunk.id == idx.chunks[big[3]].id


def test_removing_a_document_rebuilds_without_it_and_keeps_its_file(corpus):
    from qa.retrieval.engine import Engine

    eng = Engine.open(corpus)
    eng.add_files([("村道.txt", UPLOAD)])
    before = _listing(corpus)
    removed, rejected = eng.remove_documents(["村道.txt", "没有这篇.txt"])
    assert removed == ["村道.txt"] and [(w.name, w.reason) for w in rejected] == [("没有这篇.txt", "没有这个文档")]
    assert _listing(corpus) == {k: v for k, v in before.items() if k != "村道.txt"}
    kept = list((corpus.resolved_index_dir / "removed").glob("*/村道.txt"))
    assert len(kept) == 1 and kept[0].read_bytes() == UPLOAD          # moved aside, not deleted
    assert "村道.txt" not in eng.index.documents and eng.index.path == _current(corpus)
    assert all(h.chunk.doc != "村道.txt" for h in eng.search("第7个行政村新修道路多少公里", k=5))
    # the last documents stay: an index needs one
    removed, rejected = eng.remove_documents(list(SMALL))
    assert removed == [] and all("至少要保留一篇" in w.reason for w in rejected)
    assert sorted(eng.index.documents) == sorted(SMALL)


def test_a_removal_killed_before_its_build_is_done_changes_nothing(corpus, monkeypatch):
    from qa.retrieval.engine import Engine

    eng = Engine.open(corpus)
    eng.add_files([("村道.txt", UPLOAD)])
    before, first = _listing(corpus), eng.index

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(index_mod.faiss, "write_index", boom)
    with pytest.raises(OSError):
        eng.remove_documents(["村道.txt"])
    assert _listing(corpus) == before and eng.index is first and _current(corpus) == first.path
