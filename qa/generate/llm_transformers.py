"""Generate stage, transformers backend: local Hugging Face model directories, and the packaged GGUF
when asked for explicitly (`transformers:1.5b`, the path the benchmark compares llama.cpp against).

A GGUF is dequantized once into a cached HF folder, tensor by tensor (row blocks, ~1 GB shards), so the
first start never holds the whole model twice in memory. Speed on a 2-core CPU: bf16 compute where the
CPU has native bf16, an int8 weight-only copy for decode steps (~2x tokens/s), reuse of the KV of the
prompt prefix shared with the previous call, and logits only for the last position.
"""
from __future__ import annotations

import gc
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

# Nothing may reach a model hub; set before transformers is imported anywhere.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402
from torch import nn  # noqa: E402
from tqdm import tqdm  # noqa: E402
from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, DynamicCache  # noqa: E402

from qa.generate.llm_base import BaseGenerator, ChatTemplate, GenStats, ModelError  # noqa: E402

MANIFEST = "policyqa_manifest.json"
_SHARD_BYTES = 1 << 30
_ROWS = 4096  # rows dequantized at a time: numpy's dequantizers hold several fp32 temporaries per row


def _cpu_has_bf16() -> bool:
    """Native bf16 dot products make bf16 GEMMs ~3.7x faster than fp32 here; without them bf16 is emulated and slow."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def default_dtype() -> str:
    return "bfloat16" if _cpu_has_bf16() else "float32"


def _dtype(name: str) -> torch.dtype:
    return {"bfloat16": torch.bfloat16, "float32": torch.float32, "float16": torch.float16}[name]


def manifest_ok(d: Path, sha: str) -> bool:
    try:
        return json.loads((d / MANIFEST).read_text())["sha256"] == sha
    except (OSError, ValueError, KeyError):
        return False


def _dequantized(t, dtype: torch.dtype) -> torch.Tensor:
    """One GGUF tensor as a torch tensor in HF layout, dequantized a block of rows at a time."""
    from gguf import dequantize

    data = t.data
    if data.ndim < 2 or data.dtype != np.uint8:  # F32/F16 norms and biases: no quantization
        return torch.from_numpy(np.array(data, dtype=np.float32)).to(dtype)
    first = dequantize(data[:1], t.tensor_type)
    out = torch.empty((data.shape[0], *first.shape[1:]), dtype=dtype)
    for i in range(0, data.shape[0], _ROWS):
        out[i:i + _ROWS] = torch.from_numpy(dequantize(data[i:i + _ROWS], t.tensor_type)).to(dtype)
    return out


def convert_gguf(gguf: Path, sha: str, out: Path, store_dtype: str) -> None:
    """Dequantize a GGUF into an HF folder (sharded safetensors), atomically (temp dir + rename)."""
    from gguf import GGUFReader
    from transformers.modeling_gguf_pytorch_utils import (TENSOR_PROCESSORS, TensorProcessor,
                                                          get_gguf_hf_weights_map, load_gguf_checkpoint)

    dtype = _dtype(store_dtype)
    try:
        cfg = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, local_files_only=True)
        parsed = load_gguf_checkpoint(str(gguf), return_tensors=False)
        with torch.device("meta"):  # parameter names only, no memory
            skeleton = AutoModelForCausalLM.from_config(cfg, dtype=dtype)
        reader = GGUFReader(str(gguf))
        arch = str(reader.fields["general.architecture"].contents())
        processor = TENSOR_PROCESSORS.get(arch, TensorProcessor)(config=parsed.get("config", {}))
        names = get_gguf_hf_weights_map(skeleton, processor)
    except Exception as e:  # transformers/gguf raise many types for bad files
        raise ModelError(f"无法读取 GGUF / cannot read GGUF {gguf}: {e}") from e
    expected = set(skeleton.state_dict())
    if cfg.tie_word_embeddings:
        expected.discard("lm_head.weight")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        weight_map: dict[str, str] = {}
        shard: dict[str, torch.Tensor] = {}
        size = total = 0

        def flush() -> None:
            nonlocal shard, size
            if shard:
                fname = f"model-{len(set(weight_map.values())) + 1:05d}.safetensors"
                save_file(shard, str(tmp / fname), metadata={"format": "pt"})
                weight_map.update({k: fname for k in shard})
                shard, size = {}, 0

        plain = type(processor) is TensorProcessor  # identity (qwen2): row blocks keep the peak low
        for t in tqdm(reader.tensors, desc="转换模型（逐个张量）", unit="张量", file=sys.stderr):
            if plain:
                name = names.get(t.name)
                if name is None:
                    continue
                w = _dequantized(t, dtype)
            else:  # arch-specific reshuffles (llama q/k permutation…) need the whole tensor in numpy
                from gguf import dequantize

                res = processor.process(weights=dequantize(t.data, t.tensor_type), name=t.name,
                                        tensor_key_mapping=names, parsed_parameters=parsed)
                name = names.get(res.name)
                if name is None:
                    continue
                w = torch.from_numpy(np.ascontiguousarray(res.weights)).to(dtype)
            shard[name] = w.contiguous()
            size += w.numel() * w.element_size()
            total += w.numel() * w.element_size()
            if size >= _SHARD_BYTES:
                flush()
        flush()
        missing = expected - set(weight_map)
        if missing:
            raise ModelError(f"GGUF 权重不完整 / GGUF weights do not match the model: missing={sorted(missing)[:5]}")
        (tmp / "model.safetensors.index.json").write_text(json.dumps(
            {"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, indent=1))
        cfg.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        (tmp / MANIFEST).write_text(json.dumps({
            "source": gguf.name, "sha256": sha, "dtype": store_dtype,
            "transformers": transformers.__version__, "torch": torch.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1))
        if out.exists() and not manifest_ok(out, sha):
            shutil.rmtree(out)  # stale or half-written by an older version
        try:
            os.replace(tmp, out)
        except OSError:
            if not manifest_ok(out, sha):  # lost a race with another process only if it produced a good copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Int8DecodeLinear(nn.Module):
    """Linear with an extra int8 weight-only copy used for single-token (decode) steps.

    Decode reads every weight per token, so it is memory-bound: int8 halves the bytes vs bf16 and measured ~2x
    tokens/s with the same greedy output. Prefill keeps the bf16 GEMM, which is 2-3x faster than int8pack_mm
    for many rows. Per-output-channel scales: weights are already 4-6 bit GGUF values, int8 adds little error."""

    def __init__(self, lin: nn.Linear, wq: torch.Tensor, scale: torch.Tensor) -> None:
        super().__init__()
        self.lin, self.wq, self.scale = lin, wq, scale.to(lin.weight.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[0] * x.shape[1] != 1:
            return self.lin(x)
        y = torch.ops.aten._weight_int8pack_mm(x.reshape(1, -1), self.wq, self.scale).reshape(1, 1, -1)
        return y if self.lin.bias is None else y + self.lin.bias


def _quantize_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    w = w.detach().float()
    scale = (w.abs().amax(dim=1) / 127).clamp_min(1e-12)
    return torch.round(w / scale[:, None]).to(torch.int8), scale


def _add_int8_decode(model: nn.Module, cache_file: Path | None) -> None:
    """Wrap every nn.Linear; int8 weights are cached on disk because quantizing 1.5B weights takes ~15 s."""
    linears = {n: m for n, m in model.named_modules() if type(m) is nn.Linear}
    q: dict[str, torch.Tensor] = {}
    if cache_file is not None and cache_file.is_file():
        try:
            q = load_file(str(cache_file))
        except Exception:  # truncated/corrupt: rebuild
            q = {}
        if set(q) != {f"{n}.{k}" for n in linears for k in ("wq", "scale")}:
            q = {}
    if not q:
        for n, lin in linears.items():
            q[f"{n}.wq"], q[f"{n}.scale"] = _quantize_int8(lin.weight)
        if cache_file is not None:
            tmp = cache_file.with_name(f".{cache_file.name}.{os.getpid()}.tmp")
            try:
                save_file(q, str(tmp))
                os.replace(tmp, cache_file)
            except OSError:  # read-only cache: still usable, just slower next time
                tmp.unlink(missing_ok=True)
    for n, lin in linears.items():
        parent, _, attr = n.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, attr,
                Int8DecodeLinear(lin, q[f"{n}.wq"], q[f"{n}.scale"]))


def load_transformers(name: str, model_dir: Path, cache_dir: Path, threads: int, dtype: str | None = None,
                      int8_decode: bool | None = None) -> "TransformersGenerator":
    """dtype: compute dtype, default bf16 on CPUs with native bf16 else fp32.
    int8_decode: see Int8DecodeLinear; default on for bf16 only (its fp32 kernel measured 3x slower than plain fp32)."""
    torch.set_num_threads(threads)
    gc.collect()
    try:
        tok = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=_dtype(dtype or default_dtype()),
                                                     local_files_only=True, attn_implementation="sdpa")
    except Exception as e:
        ours = model_dir.is_relative_to(cache_dir)
        hint = "；删除该目录可重新生成 / delete that folder to rebuild it" if ours else ""
        raise ModelError(f"无法加载模型 / cannot load model from {model_dir}: {e}{hint}") from e
    model.eval()
    if int8_decode if int8_decode is not None else model.dtype == torch.bfloat16:
        # Only our own cache folders get the int8 file; a user's HF directory is left untouched.
        _add_int8_decode(model, model_dir / "int8_decode.safetensors" if model_dir.is_relative_to(cache_dir) else None)
    return TransformersGenerator(name, model, tok, str(model_dir))


class TransformersGenerator(BaseGenerator):
    def __init__(self, name: str, model: Any, tokenizer: Any, model_id: str) -> None:
        super().__init__(name)
        self.model, self.tokenizer, self.model_id = model, tokenizer, model_id
        self.template = ChatTemplate(tokenizer.chat_template or "", tokenizer.bos_token or "",
                                     tokenizer.eos_token or "")
        gen_eos = getattr(model.generation_config, "eos_token_id", None)
        self._eos = self.stop_ids([tokenizer.eos_token_id, *(gen_eos if isinstance(gen_eos, list) else [gen_eos])])
        # The previous call's ids and KV, checked out rather than locked so an abandoned stream never blocks.
        self._kv: tuple[list[int], DynamicCache] | None = None
        self._kv_lock = threading.Lock()

    def encode(self, text: str, special: bool = True) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _take_kv(self, ids: list[int]) -> tuple[DynamicCache, int]:
        """The previous call's cache, cropped to the prefix it shares with `ids`."""
        with self._kv_lock:
            kv, self._kv = self._kv, None
        if kv is None or not self.reuse_prefix:
            return DynamicCache(config=self.model.config), 0
        old, cache = kv
        n = 0
        for a, b in zip(old, ids):
            if a != b:
                break
            n += 1
        n = min(n, len(ids) - 1)  # at least one fresh token is needed to get next-token logits
        if n <= 0:
            return DynamicCache(config=self.model.config), 0
        if cache.get_seq_length() > n:
            cache.crop(n - cache.get_seq_length())
        return cache, n

    def stream_chat(self, messages: list[dict], max_new_tokens: int = 256,
                    stop: Callable[[str], bool] | None = None) -> Iterator[str]:
        t0 = time.perf_counter()
        ids = self.prompt_ids(messages)
        stats = GenStats(prompt_tokens=len(ids))
        cache, n = self._take_kv(ids)
        stats.reused_tokens = n
        fed = ids[:n]
        out: list[int] = []
        shown = ""
        try:
            with torch.inference_mode():
                step = ids[n:]
                while True:
                    # logits_to_keep=1: the full-vocab head over every prompt token is ~15% of prefill for nothing
                    logits = self.model(input_ids=torch.tensor([step]), past_key_values=cache, use_cache=True,
                                        logits_to_keep=1).logits
                    fed += step
                    tid = int(logits[0, -1].argmax())
                    if not out:
                        stats.first_token_s = time.perf_counter() - t0
                    if tid in self._eos:
                        break
                    out.append(tid)
                    stats.new_tokens = len(out)
                    text = self.tokenizer.decode(out, skip_special_tokens=True)
                    # Hold back a partial UTF-8 sequence (byte-level BPE can split a CJK character).
                    if len(text) > len(shown) and not text.endswith("\ufffd"):
                        piece, shown = text[len(shown):], text
                        yield piece
                    if len(out) >= max_new_tokens or (stop is not None and stop(text)):
                        break
                    step = [tid]
        finally:
            stats.total_s = time.perf_counter() - t0
            self.last = stats
            if cache.get_seq_length() == len(fed):  # else a forward was interrupted: cache state unknown
                with self._kv_lock:
                    self._kv = (fed, cache)

    def reset_cache(self) -> None:
        with self._kv_lock:
            self._kv = None
