"""Uploads as background jobs: a request hands the files over and gets a job id at once; a worker
thread checks, stages and indexes them (Engine.add_files) while questions keep being answered
from the previous index; the job's progress (files checked, paragraphs, chunks embedded of the
total) and its end state can be read at any time, and it can be cancelled.

Jobs run one at a time (an index build holds the whole corpus; two builds side by side would
only compete for the same cores and the second would redo the first's work), the others wait
as "queued". A failed or cancelled job leaves documents and index exactly as they were: the
engine stages files outside docs_dir and moves them in only once the new index is written.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from qa.retrieval.index import BuildStep, IndexFailure
from qa.ingest.load import LoadWarning

if TYPE_CHECKING:
    from qa.retrieval.engine import Engine

log = logging.getLogger(__name__)

# queued → running → done | failed | cancelled
FINISHED = ("done", "failed", "cancelled")
STATE_TEXT = {"queued": "排队等待", "running": "正在建立索引", "done": "已完成",
              "failed": "失败，文档和索引保持不变", "cancelled": "已取消，文档和索引保持不变"}


@dataclass(frozen=True)
class UploadJob:
    """One upload as it stands. Immutable: the worker replaces it, so a reader never sees a
    half-updated record."""
    id: str
    files: tuple[str, ...]
    state: str = "queued"
    stage: str = "queued"        # check | read | parse | embed | write | done (BuildStep.stage)
    message: str = "排队等待…"
    files_done: int = 0
    paragraphs: int = 0
    chunks: int = 0
    embedded: int = 0
    to_embed: int = 0
    accepted: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()   # accepted names that replaced a document of the same name
    rejected: tuple[LoadWarning, ...] = ()
    documents_before: int = 0
    documents_after: int = 0
    error: str | None = None
    who: str = ""                # for the audit log: face, role, client (never sent to clients)
    client: str = ""             # whose queue it counts in (qa.serve.access.client_id; never sent)
    size: int = 0                # bytes of its files, held until the job ends
    created: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def done(self) -> bool:
        return self.state in FINISHED

    @property
    def fraction(self) -> float:
        """0…1 for a progress bar: checking files is the first tenth, embedding most of the rest."""
        if self.state == "done":
            return 1.0
        if self.stage == "check":
            return 0.1 * self.files_done / max(1, len(self.files))
        if self.stage in ("read", "parse"):
            return 0.1
        if self.stage == "embed":
            return 0.1 + 0.85 * self.embedded / max(1, self.to_embed)
        if self.stage in ("write", "done"):
            return 0.95
        return 0.0

    def to_json(self) -> dict:
        return {"id": self.id, "state": self.state, "state_text": STATE_TEXT.get(self.state, self.state),
                "stage": self.stage, "message": self.message, "files": list(self.files),
                "progress": {"files_checked": self.files_done, "files": len(self.files), "paragraphs": self.paragraphs,
                             "chunks": self.chunks, "embedded": self.embedded, "to_embed": self.to_embed,
                             "fraction": round(self.fraction, 3)},
                "accepted": list(self.accepted), "replaced": list(self.replaced), "rejected": [{"name": w.name, "reason": w.reason} for w in self.rejected],
                "documents_before": self.documents_before, "documents_after": self.documents_after,
                "error": self.error, "created": self.created, "finished": self.finished}


class TooManyJobs(Exception):
    """A job refused at the door: its client already has `limit` jobs unfinished (or, with
    client None, the server has MAX_PENDING of them, or MAX_PENDING_BYTES)."""

    def __init__(self, client: str | None, limit: int):
        super().__init__(client, limit)
        self.client, self.limit = client, limit


class UploadJobs:
    """The upload jobs of one engine. `index_lock` is held by a job while it builds (the chat
    service shares it so that nothing else rebuilds meanwhile)."""

    KEEP = 200  # finished jobs remembered for polling; the oldest are forgotten beyond this
    # Unfinished jobs of all clients together: each holds its files' bytes (up to 100 MB) and a thread
    # until it ends, so both their number and their bytes are bounded.
    MAX_PENDING = 64
    MAX_PENDING_BYTES = 1 << 30

    def __init__(self, engine_of: Callable[[], "Engine"], index_lock: threading.Lock | None = None,
                 on_finish: Callable[[UploadJob], None] | None = None,
                 pause: Callable[[], None] | None = None, after_change: Callable[[], None] | None = None):
        self._engine_of = engine_of
        self._pause = pause
        # runs after an upload changed the index and before the job says done (the chat service
        # calibrates the new build's gate there), so no work of the job outlives its "done"
        self._after_change = after_change
        self._on_finish = on_finish
        self._index_lock = index_lock or threading.Lock()
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, UploadJob] = OrderedDict()
        self._cancel: dict[str, threading.Event] = {}
        self._finished: dict[str, threading.Event] = {}

    def start(self, files: list[tuple[str, bytes]], who: str = "", replace: bool = False, client: str = "",
              per_client: int | None = None) -> UploadJob:
        """Queue a job; TooManyJobs when the client has `per_client` jobs unfinished already, or the
        server MAX_PENDING (checked and counted under one lock: two requests cannot both slip in)."""
        size = sum(len(d) for _, d in files)
        with self._lock:
            pending = [j for j in self._jobs.values() if not j.done]
            if per_client is not None and sum(j.client == client for j in pending) >= per_client:
                raise TooManyJobs(client, per_client)
            if len(pending) >= self.MAX_PENDING or sum(j.size for j in pending) + size > self.MAX_PENDING_BYTES:
                raise TooManyJobs(None, self.MAX_PENDING)
            # say why it waits only when something does hold the index (another upload, a removal)
            waits = bool(pending) or self._index_lock.locked()
            job = UploadJob(uuid.uuid4().hex[:16], tuple(n for n, _ in files), who=who, client=client, size=size,
                            message="排队等待（另一个上传或删除正在建立索引）…" if waits else "即将开始建立索引…")
            self._jobs[job.id] = job
            self._cancel[job.id] = threading.Event()
            self._finished[job.id] = threading.Event()
            self._forget_old()
        threading.Thread(target=self._run, args=(job.id, list(files), replace), name=f"upload-{job.id}",
                         daemon=True).start()
        return job

    def get(self, job_id: str) -> UploadJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[UploadJob]:
        with self._lock:
            return list(self._jobs.values())

    def cancel(self, job_id: str) -> UploadJob | None:
        """Ask a job to stop (at its next file, stage or embedding batch). A finished job is
        returned as it is: its documents are in and stay in."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is not None and not job.done:
                self._cancel[job_id].set()
                self._jobs[job_id] = job = replace(job, message="正在取消…")
            return job

    def wait(self, job_id: str, timeout: float | None = None) -> UploadJob | None:
        ev = self._finished.get(job_id)
        if ev is not None:
            ev.wait(timeout)
        return self.get(job_id)

    def _update(self, job_id: str, **changes) -> UploadJob:
        with self._lock:
            job = self._jobs[job_id] = replace(self._jobs[job_id], **changes)
            return job

    def _forget_old(self) -> None:
        """Drop the oldest finished jobs beyond KEEP (caller holds self._lock)."""
        finished = [j.id for j in self._jobs.values() if j.done]
        for jid in finished[:max(0, len(self._jobs) - self.KEEP)]:
            self._jobs.pop(jid, None)
            self._cancel.pop(jid, None)
            self._finished.pop(jid, None)

    def _run(self, job_id: str, files: list[tuple[str, bytes]], replace: bool = False) -> None:
        cancel, finished = self._cancel[job_id], self._finished[job_id]
        try:
            with self._index_lock:
                engine = self._engine_of()
                before = len(engine.index.documents)
                # what add_files(replace=True) overwrites: a file of that name in docs_dir, indexed or not
                present = {p.name for p in Path(engine.settings.docs_dir).iterdir()}
                if cancel.is_set():
                    self._update(job_id, state="cancelled", message="已取消，文档和索引保持不变",
                                 documents_before=before, documents_after=before, finished=time.time())
                    return
                self._update(job_id, state="running", stage="check", message="正在检查文件…", documents_before=before)

                def on_step(s: BuildStep) -> None:
                    changes = {"stage": s.stage, "message": s.message}
                    if s.stage == "check":
                        changes["files_done"] = s.files_done
                    else:
                        changes.update(paragraphs=s.paragraphs, chunks=s.chunks, embedded=s.embedded,
                                       to_embed=s.to_embed)
                    if not cancel.is_set():  # keep 「正在取消…」 visible until the worker stops
                        self._update(job_id, **changes)

                try:
                    accepted, rejected = engine.add_files(files, cancel=cancel.is_set, on_step=on_step,
                                                         pause=self._pause, replace=replace)
                except IndexFailure as exc:
                    after = len(engine.index.documents)
                    state = "cancelled" if cancel.is_set() else "failed"
                    self._update(job_id, state=state, message=STATE_TEXT[state], error=None if state == "cancelled"
                                 else str(exc), documents_after=after, finished=time.time())
                    return
                except Exception as exc:  # disk full, a parser crash…: the previous index is in place
                    log.exception("upload %s failed", job_id)
                    self._update(job_id, state="failed", message=STATE_TEXT["failed"],
                                 # the log has the details; a client sees no paths or internals
                                 error=f"索引更新失败（{exc.__class__.__name__}），文档和索引保持不变",
                                 documents_after=len(engine.index.documents), finished=time.time())
                    return
                if accepted and self._after_change is not None:
                    try:
                        self._after_change()
                    except Exception:
                        log.exception("upload %s: after_change failed", job_id)
                after = len(engine.index.documents)
                msg = (f"已加入索引：{'、'.join(accepted)}（文档数 {before} → {after}）" if accepted
                       else "没有文件加入索引")
                self._update(job_id, state="done", stage="done", message=msg, accepted=tuple(accepted),
                             replaced=tuple(n for n in accepted if n in present),
                             rejected=tuple(rejected), documents_after=after, finished=time.time())
        finally:
            files.clear()  # the bytes are no longer needed; a remembered job keeps only names
            if self._on_finish is not None:
                try:
                    self._on_finish(self.get(job_id))
                except Exception:
                    log.exception("upload %s: on_finish failed", job_id)
            finished.set()
