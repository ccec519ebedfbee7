"""Shared pytest fixtures."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# Make the project packages importable when pytest is run as `pytest` (not `python -m pytest`).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(scope="session")
def qa_cache_dir() -> Path:
    """Model cache shared with the application (converted weights are reused)."""
    return Path(os.environ.get("QA_CACHE_DIR") or Path.home() / ".cache" / "policyqa")


SEEDS = Path(__file__).resolve().parents[1] / "seeds"
WILD = Path(__file__).resolve().parents[1] / "corpora" / "wild"   # real documents of many origins
# Documents of a blind round (questions/blind-2026-12-06.jsonl), kept as their own corpus
BLIND = Path(__file__).resolve().parents[1] / "corpora" / "blind-2026-12-06"
BLIND3 = Path(__file__).resolve().parents[1] / "corpora" / "blind-2026-12-06c"   # blind round 3


def wild_doc(name: str):
    """A document of corpora/wild, loaded, cleaned and sectioned (pure functions, no model)."""
    from qa.ingest.load import load_file
    from qa.ingest.sections import build_document
    return build_document(load_file(WILD / name))


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS


@pytest.fixture(scope="session")
def seed_docs():
    """The five seeds, cleaned and sectioned (pure functions, no model)."""
    from qa.ingest.load import load_directory
    from qa.ingest.sections import build_document

    raws, warnings = load_directory(SEEDS)
    assert not warnings
    return {r.name: build_document(r) for r in raws}


@pytest.fixture(scope="session")
def encoder(qa_cache_dir: Path):
    from embeddings.encoder import load_encoder

    return load_encoder(None, qa_cache_dir)


@pytest.fixture(scope="session")
def seed_settings(qa_cache_dir: Path, tmp_path_factory):
    from qa.settings import Settings

    return Settings.load(docs_dir=SEEDS, cache_dir=qa_cache_dir, index_dir=tmp_path_factory.mktemp("seed-index"))


@pytest.fixture(scope="session")
def seed_engine(seed_settings):
    from qa.retrieval.engine import Engine

    return Engine.open(seed_settings)


def para_with(doc, needle: str):
    """The single paragraph of `doc` whose text contains `needle`."""
    found = [p for p in doc.paragraphs if needle in p.text]
    assert len(found) == 1, f"{needle!r} in {len(found)} paragraphs of {doc.name}"
    return found[0]


def seed_copy(base: Path, seed_settings, **overrides):
    """Settings for a copy of the seeds and their built index under base (uploads and removals never
    touch seeds/), with overrides (llm=…, api_key=…)."""
    import shutil
    shutil.copytree(seed_settings.docs_dir, base / "docs", ignore=shutil.ignore_patterns("__pycache__", ".*"))
    shutil.copytree(seed_settings.resolved_index_dir, base / "index")
    return seed_settings.with_(docs_dir=base / "docs", index_dir=base / "index", **overrides)
