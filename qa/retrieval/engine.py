"""Assembly of the stages for the three front ends (CLI, eval, chat page): one object per corpus."""
from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from embeddings.encoder import Encoder, load_encoder

from qa.retrieval.index import BuildStep, Index, IndexFailure, build_index, open_index
from qa.ingest.load import (SUFFIXES, SUPPORTED_TEXT, LoadCancelled, LoadWarning, RejectedFile, list_files, load_bytes,
                             load_directory, load_file)
from qa.retrieval.retrieve import Retriever
from qa.schema import Hit
from qa.ingest.sections import build_document
from qa.settings import Settings


# A file is staged as ".<name>.uploading" next to the documents: its name must leave room for that
# within the 255 bytes most file systems allow for one name.
MAX_NAME_BYTES = 255 - len(".") - len(".uploading")


def name_problem(name: str, seen: set[str] = frozenset()) -> str | None:
    """Why an uploaded file's name cannot become a document's name, or None. A hidden name (".x")
    would be indexed now and skipped by the next start; control characters make a name unreadable
    in lists and logs; a name twice in one upload would overwrite its first copy."""
    if not name or name in {".", ".."}:
        return "文件名为空"
    if name.startswith("."):
        return "文件名不能以“.”开头（隐藏文件不会被索引）"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "文件名含有控制字符"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"文件名过长（超过 {MAX_NAME_BYTES} 字节，约 {MAX_NAME_BYTES // 3} 个汉字），请改短后再上传"
    if name in seen:
        return "同一次上传中有两个同名文件，只保留了第一个"
    return None


# Why a removal names no document: the API answers it with 404, any other refusal with 409.
NO_SUCH_DOCUMENT = "没有这个文档"


def _shown(name: str, limit: int = 60) -> str:
    """A name as a message may show it: printable, and cut to a readable length."""
    name = "".join(c if c.isprintable() else "?" for c in name)
    return name if len(name) <= limit else name[:limit] + "…"



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
        retriever = make_retriever(settings, index, encoder)
        return cls(settings, encoder, index, retriever, {"encoder_s": t1 - t0, "index_s": t2 - t1,
                                                         "store_s": time.perf_counter() - t2})

    @property
    def ocr_cache(self) -> Path:
        return Path(self.settings.cache_dir) / "ocr"

    def search(self, query: str, k: int | None = None, mode: str | None = None, also: str | None = None) -> list[Hit]:
        """also: another wording of the question whose dense ranking joins the fusion (hybrid mode)."""
        return self.retriever.search(query, k or self.settings.top_k, mode or self.settings.mode, also)

    def add_files(self, files: list[tuple[str, bytes]], progress: Callable[[str], None] | None = None,
                  cancel: Callable[[], bool] | None = None,
                  on_step: Callable[[BuildStep], None] | None = None,
                  pause: Callable[[], None] | None = None,
                  replace: bool = False) -> tuple[list[str], list[LoadWarning]]:
        """Validate uploaded files, index the good ones and add them to docs_dir.

        A file is checked completely before anything is written; it is staged outside docs_dir
        and moved in only when the new index is written (see _index_uploads), so a rejected,
        failing, cancelled (cancel() → True) or killed upload leaves documents and index as
        they were. Questions keep using the previous index until the switch. `on_step` gets
        BuildStep counts: files checked, then the build's own steps; `pause()` runs before each
        embedding batch (see build_index). With `replace`, a file named like a document in docs_dir
        replaces it in the same build (the old file is kept under the index's removed/)."""
        accepted: list[tuple[str, bytes]] = []
        rejected: list[LoadWarning] = []
        seen: set[str] = set()
        for done, (name, data) in enumerate(files):
            name = Path(name.replace("\\", "/")).name
            if cancel is not None and cancel():
                raise IndexFailure("索引更新已取消")
            if on_step is not None:
                on_step(BuildStep("check", f"正在检查文件 {done + 1}/{len(files)}：{name}", files_done=done,
                                  files=len(files)))
            problem = name_problem(name, seen)
            seen.add(name)
            if problem:
                rejected.append(LoadWarning(_shown(name), problem))
                continue
            if Path(name).suffix.lower() not in SUFFIXES:
                rejected.append(LoadWarning(name, f"不支持的文件类型，{SUPPORTED_TEXT}"))
                continue
            if (Path(self.settings.docs_dir) / name).exists() and not replace:
                rejected.append(LoadWarning(name, "已有同名文档；如要替换，请选择「替换同名文档」（API：replace=true），或先改名"))
                continue
            try:
                # parse it fully: a broken .docx/.pdf is refused here, not at indexing
                raw = load_bytes(name, data, ocr_cache=self.ocr_cache, cancel=cancel)
                has_body = any(p.kind == "body" for p in build_document(raw).paragraphs)
            except LoadCancelled:
                raise IndexFailure("索引更新已取消") from None
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
        if on_step is not None:
            on_step(BuildStep("check", f"已检查 {len(files)} 个文件", files_done=len(files), files=len(files)))
        if accepted:
            self._index_uploads(accepted, progress, cancel, on_step, pause)
        return [n for n, _ in accepted], rejected

    def remove_documents(self, names: list[str], progress: Callable[[str], None] | None = None,
                         on_step: Callable[[BuildStep], None] | None = None) -> tuple[list[str], list[LoadWarning]]:
        """Take documents out of the corpus. The index is built without them first; only when that
        build is complete on disk are their files moved out of docs_dir, into the index folder's
        removed/<time>/ (kept: a removal can be undone by moving the file back), then the switch.
        Killed or failing before the move, documents and index are as they were. Returns the names
        removed and, for the others, why not (no such document; the last one stays)."""
        docs_dir = Path(self.settings.docs_dir)
        present = [p.name for p in list_files(docs_dir)]
        gone = [n for n in dict.fromkeys(names) if n in present]
        rejected = [LoadWarning(_shown(n), NO_SUCH_DOCUMENT) for n in dict.fromkeys(names) if n not in present]
        if gone and len(gone) == len(present):
            rejected += [LoadWarning(_shown(n), "不能删除全部文档：至少要保留一篇（可先上传新文档再删除）") for n in gone]
            gone = []
        if not gone:
            return [], rejected
        if on_step is not None:
            on_step(BuildStep("read", "正在读取文档目录"))
        raws, warnings = load_directory(docs_dir, self.ocr_cache)
        removed = self._removed_dir()

        def move_out() -> None:
            removed.mkdir(parents=True, exist_ok=True)
            for name in gone:
                shutil.move(str(docs_dir / name), str(removed / name))

        self._switch([r for r in raws if r.name not in gone], warnings, progress, None, move_out, on_step)
        return gone, rejected

    def _removed_dir(self) -> Path:
        """Where a removed or replaced document's file is kept: one folder per change, never reused."""
        stamp = f"{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9:09d}"
        return Path(self.settings.resolved_index_dir) / "removed" / stamp

    def _index_uploads(self, accepted: list[tuple[str, bytes]], progress, cancel, on_step=None, pause=None) -> None:
        """Stage the files outside docs_dir, build the index with them, move them into docs_dir
        only once the new build is complete on disk, then switch. Killed or failing at any point
        before the move, docs_dir and CURRENT are exactly as they were (the staging folder and a
        stray build are swept later); after the move, the next start indexes the same files."""
        docs_dir = Path(self.settings.docs_dir)
        root = Path(self.settings.resolved_index_dir) / "staging"
        for stray in root.glob("*-*") if root.is_dir() else ():  # left by a killed process
            if not _alive(int(stray.name.split("-")[0])):
                shutil.rmtree(stray, ignore_errors=True)
        staging = root / f"{os.getpid()}-{time.time_ns()}"
        staging.mkdir(parents=True)
        try:
            for name, data in accepted:
                (staging / name).write_bytes(data)
            if on_step is not None:
                on_step(BuildStep("read", "正在读取文档目录"))
            raws, warnings = load_directory(docs_dir, self.ocr_cache)
            names = {name for name, _ in accepted}
            raws = [r for r in raws if r.name not in names]   # a replaced document's old version
            staged = [load_file(staging / name, self.ocr_cache) for name, _ in accepted]
            removed = self._removed_dir()

            def move_in() -> None:
                for name, _ in accepted:
                    tmp = docs_dir / f".{name}.uploading"
                    shutil.copyfile(staging / name, tmp)
                    if (docs_dir / name).exists():   # replaced: the old version is kept, then overwritten at once
                        removed.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(docs_dir / name, removed / name)
                    os.replace(tmp, docs_dir / name)

            self._switch(sorted([*raws, *staged], key=lambda r: r.name), warnings, progress, cancel, move_in, on_step,
                         pause)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _switch(self, raws, warnings, progress, cancel, before_switch, on_step, pause=None) -> None:
        """Build the index of raws (before_switch() runs once the build is on disk, right before
        CURRENT points to it), then answer from it."""
        index = build_index(self.settings, self.encoder, raws, warnings, self.index, progress,
                            cancel=cancel, before_switch=before_switch, on_step=on_step, pause=pause)
        if on_step is not None and self.settings.store:
            from qa.retrieval.store_milvus import shown_store

            on_step(BuildStep("write", f"正在同步到 Milvus（{shown_store(self.settings.store)}）"))
        # the retriever carries its own index: a search never mixes two builds
        self.retriever, self.index = make_retriever(self.settings, index, self.encoder), index


def make_retriever(settings: Settings, index: Index, encoder: Encoder) -> Retriever:
    """The local FAISS + bm25s retriever, or (settings.store) the same retrieval run by Milvus,
    its collection first brought in line with the build."""
    if settings.store:
        from qa.retrieval.store_milvus import open_milvus_retriever

        return open_milvus_retriever(settings.store, settings.resolved_index_dir, index, encoder, settings.rrf_k,
                                     settings.candidates)
    return Retriever(index, encoder, settings.rrf_k, settings.candidates)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
