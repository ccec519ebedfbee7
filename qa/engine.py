"""Assembly of the stages for the three front ends (CLI, eval, chat page): one object per corpus."""
from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from embeddings.encoder import Encoder, load_encoder

from .index import Index, open_index
from .load import SUFFIXES, SUPPORTED_TEXT, LoadWarning, RejectedFile, load_bytes
from .retrieve import Retriever
from .schema import Hit
from .sections import build_document
from .settings import Settings


@dataclass
class Engine:
    settings: Settings
    encoder: Encoder
    index: Index
    retriever: Retriever
    timings: dict[str, float] = field(default_factory=dict)

    @classmethod
    def open(
        cls,
        settings: Settings,
        progress: Callable[[str], None] | None = None,
        show_progress: bool = False,
        rebuild: bool = False,
    ) -> "Engine":
        t0 = time.perf_counter()
        encoder = load_encoder(settings.embed_model, settings.cache_dir, settings.threads)
        t1 = time.perf_counter()
        index = open_index(settings, encoder, progress, show_progress, rebuild)
        t2 = time.perf_counter()
        retriever = Retriever(index, encoder, settings.rrf_k, settings.candidates)
        return cls(settings, encoder, index, retriever, {"encoder_s": t1 - t0, "index_s": t2 - t1})

    def search(self, query: str, k: int | None = None, mode: str | None = None) -> list[Hit]:
        return self.retriever.search(query, k or self.settings.top_k, mode or self.settings.mode)

    def add_files(self, files: list[tuple[str, bytes]]) -> tuple[list[str], list[LoadWarning]]:
        """Validate uploaded files, copy the good ones into docs_dir and update the index.

        A file is checked completely before anything is written, and the index switch is atomic,
        so a rejected or failing upload leaves the existing index untouched."""
        accepted: list[tuple[str, bytes]] = []
        rejected: list[LoadWarning] = []
        for name, data in files:
            name = Path(name).name
            if Path(name).suffix.lower() not in SUFFIXES:
                rejected.append(LoadWarning(name, f"不支持的文件类型，{SUPPORTED_TEXT}"))
                continue
            if (Path(self.settings.docs_dir) / name).exists():
                rejected.append(LoadWarning(name, "已有同名文档；如要替换，请先改名或删除原文件"))
                continue
            try:
                # parse it fully: a broken .docx/.pdf is refused here, not at indexing
                raw = load_bytes(name, data, ocr_cache=Path(self.settings.cache_dir) / "ocr")
                has_body = any(p.kind == "body" for p in build_document(raw).paragraphs)
            except RejectedFile as exc:
                rejected.append(LoadWarning(name, str(exc)))
                continue
            except Exception as exc:  # a parser failure on a hostile file is a refusal, not a crash
                rejected.append(LoadWarning(name, f"无法读取（{type(exc).__name__}）"))
                continue
            if not has_body:
                rejected.append(LoadWarning(name, "没有提取出任何正文段落（可能只有网页导航、版权声明等模板文字），未加入索引"))
                continue
            accepted.append((name, data))
        if accepted:
            docs_dir = Path(self.settings.docs_dir)
            for name, data in accepted:
                tmp = docs_dir / f".{name}.uploading"
                tmp.write_bytes(data)
                shutil.move(tmp, docs_dir / name)
            self.index = open_index(self.settings, self.encoder)
            self.retriever = Retriever(self.index, self.encoder, self.settings.rrf_k, self.settings.candidates)
        return [n for n, _ in accepted], rejected
