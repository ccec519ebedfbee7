"""Real packaged 0.5B model: weight assembly/verification and a short generation.

The first run joins and dequantizes the weights (~1.5 min); later runs reuse QA_CACHE_DIR.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

llm = pytest.importorskip("qa.llm")

NAME = "0.5b"
PM = llm.PACKAGED[NAME]


@pytest.fixture(scope="module")
def cache_dir(qa_cache_dir: Path) -> Path:
    return qa_cache_dir


@pytest.fixture(scope="module")
def gguf(cache_dir: Path) -> Path:
    return llm.ensure_gguf(NAME, cache_dir)


def _flip_byte(p: Path, offset: int) -> None:
    with open(p, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0xFF]))


def test_ensure_gguf_verified(gguf: Path, cache_dir: Path) -> None:
    assert gguf.stat().st_size == PM.size
    stamp = gguf.with_name(gguf.name + ".sha256.json")
    assert PM.sha256 in stamp.read_text()
    assert llm.ensure_gguf(NAME, cache_dir) == gguf  # second call: stamp check only


def test_corrupted_joined_file_is_rebuilt(gguf: Path, tmp_path: Path) -> None:
    dest = tmp_path / "gguf" / PM.filename
    dest.parent.mkdir()
    shutil.copyfile(gguf, dest)
    stamp = dest.with_name(dest.name + ".sha256.json")
    llm._write_stamp(dest, stamp, PM.sha256)
    _flip_byte(dest, 12345)  # changes mtime, so the cheap stamp check must not trust it
    os.utime(dest, ns=(dest.stat().st_atime_ns, dest.stat().st_mtime_ns + 1_000_000_000))
    assert llm.ensure_gguf(NAME, tmp_path) == dest
    assert llm._hash_file(dest) == PM.sha256


def test_corrupted_part_names_package(gguf: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = llm._part_paths(PM)
    parts = []
    for i, p in enumerate(real, 1):
        q = tmp_path / p.name
        if i == 3:
            shutil.copyfile(p, q)
            _flip_byte(q, 1000)
        else:
            q.symlink_to(p)
        parts.append(q)
    monkeypatch.setattr(llm, "_part_paths", lambda pm: parts)
    with pytest.raises(llm.ModelError) as e:
        llm.ensure_gguf(NAME, tmp_path / "cache")
    msg = str(e.value)
    assert f"pip install --force-reinstall {PM.pip_prefix}3=={PM.version}" in msg
    assert f"{PM.pip_prefix}2==" not in msg
    assert "校验" in msg
    assert not list((tmp_path / "cache" / "gguf").iterdir())  # temp file removed, nothing renamed


def test_missing_part_module_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = llm.PackagedModel("no_such_policyqa_part", 2, "no-such-policyqa-part", "1.0", "x.gguf", 1, "0" * 64,
                             "float32")
    monkeypatch.setitem(llm.PACKAGED, "fake", fake)
    cmd = r"pip install --force-reinstall no-such-policyqa-part1==1\.0 no-such-policyqa-part2==1\.0"
    with pytest.raises(llm.ModelError, match=cmd):
        llm.ensure_gguf("fake", tmp_path)


@pytest.fixture(scope="module")
def gen(gguf: Path, cache_dir: Path):
    return llm.load_generator(NAME, cache_dir, threads=2)


def test_generation_answers_from_context(gen) -> None:
    msgs = [{"role": "user", "content": "根据资料：定西市驻村干部每人每天补助100元。问：补助多少？"}]
    pieces = list(gen.stream_chat(msgs, max_new_tokens=40))
    answer = "".join(pieces)
    assert "100" in answer, answer
    s = gen.last
    assert s.prompt_tokens == gen.count_prompt_tokens(msgs) and 0 < s.new_tokens <= 40
    assert 0 < s.first_token_s <= s.total_s
    # Same prompt again: all but the last prompt token come from the cached KV.
    assert "100" in gen.chat(msgs, max_new_tokens=40)
    assert gen.last.reused_tokens == s.prompt_tokens - 1


def test_stop_callback_ends_early(gen) -> None:
    msgs = [{"role": "user", "content": "请从1数到50，用逗号分隔。"}]
    text = gen.chat(msgs, max_new_tokens=100, stop=lambda t: "5" in t)
    assert "5" in text and "10" not in text
    assert gen.last.new_tokens < 100
