"""Persistence: freshness, staleness, incremental rebuild, atomic switch, corruption recovery."""
import json
import shutil
from pathlib import Path

import faiss
import pytest

from qa import index as index_mod
from qa.index import open_index, read_index
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


@pytest.mark.parametrize("victim", ["vectors.faiss", "chunks.json", "manifest.json"])
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
    from qa.engine import Engine

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
