"""The conversation service behind every face (chat page, HTTP API): conversations per session,
streamed answers, the model cache, the work queues, documents and uploads. No Gradio, no HTML.

Queues ("lanes"): model work (an answer by a generator, loading a model) runs in the model lane,
one at a time, with a bounded number waiting; everything without a model (search, extractive
answers, document views, status) runs in the fast lane with a few workers. So a search or an
extractive answer never waits behind a 1.5B generation, and a full lane answers BUSY at once
instead of letting requests pile up.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

from qa.answering.answer import Answerer
from qa.generate.llm import engine_installed
from qa.retrieval.engine import Engine
from qa.ingest.load import LoadWarning
from qa.text.normalize import clean_input
from qa.schema import Answer, Document, Hit, Paragraph, Passage
from qa.serve.audit import AuditLog
from qa.serve.service import EXTRACTIVE, load_answerer
from qa.settings import Settings
from qa.serve.uploads import TooManyJobs, UploadJob, UploadJobs

log = logging.getLogger(__name__)

BUSY = "繁忙，请稍后再试"
# Model specs a visitor may choose (those whose engine is installed: the 0.5B needs the llama.cpp
# extra); the configured default (settings.llm) is always allowed too.
MODELS = tuple(m for m in ("1.5b", "0.5b", EXTRACTIVE) if engine_installed(m))
MAX_QUESTION_CHARS = 2000  # cleaned at the boundary; the answerer cuts further and says so
# Earlier turns a follow-up may carry: the rewrite reads the last two (qa/answering/rewrite.py); the API
# refuses more than this, the page's own conversation keeps its last ones.
MAX_HISTORY_TURNS = 20
MAX_SEARCH_K = 50
# The longest an upload's embedding batch waits for questions to finish: with a batch of ~0.3 s
# of work, an upload under a steady stream of questions gets at most about a fifth of the CPU.
QUESTIONS_FIRST_S = 1.2

AnswererFactory = Callable[[Engine, str], Answerer]


class ServiceError(Exception):
    """An error a face shows as is: a stable code, a Chinese message, an HTTP status."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class Busy(ServiceError):
    def __init__(self, lane: str):
        super().__init__("busy", BUSY, 503)
        self.lane = lane


class Lane:
    """At most `workers` jobs run at once and at most `queue` more wait; one more is refused
    with Busy at once (a bounded queue: a crowd gets a clear answer, not a growing wait)."""

    def __init__(self, name: str, workers: int, queue: int):
        self.name, self.workers, self.queue = name, workers, queue
        self._sem = threading.Semaphore(workers)
        self._lock = threading.Lock()
        self.pending = 0   # running + waiting
        self.rejected = 0
        self.done = 0

    def admit(self) -> "Ticket":
        """A place in the lane, or Busy at once when it is full; wait() for a worker."""
        with self._lock:
            if self.pending >= self.workers + self.queue:
                self.rejected += 1
                raise Busy(self.name)
            self.pending += 1
            return Ticket(self, must_wait=self.pending > self.workers)

    @contextmanager
    def slot(self) -> Iterator[None]:
        ticket = self.admit()
        try:
            ticket.wait()
            yield
        finally:
            ticket.release()

    def stats(self) -> dict:
        with self._lock:
            return {"workers": self.workers, "queue": self.queue, "pending": self.pending,
                    "rejected": self.rejected, "done": self.done}


class Ticket:
    def __init__(self, lane: Lane, must_wait: bool):
        self.lane, self.must_wait = lane, must_wait
        self._working = self._released = False

    def wait(self) -> None:
        self.lane._sem.acquire()
        self._working = True

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        if self._working:
            self.lane._sem.release()
        with self.lane._lock:
            self.lane.pending -= 1
            self.lane.done += self._working


@dataclass(frozen=True)
class Turn:
    """One question of a conversation and where its answer stands."""
    question: str
    status: str = "排队等待回答…"
    standalone: str | None = None
    passages: list[Passage] | None = None
    partial: str = ""                    # streamed answer text so far
    final: Answer | None = None
    error: str | None = None

    @property
    def answer(self) -> str | None:
        """The final answer text (the follow-up history); None while the turn is pending."""
        if self.final is not None:
            return self.final.text
        return "" if self.error is not None else None


@dataclass
class UploadResult:
    accepted: list[str]
    rejected: list[LoadWarning]
    before: int
    after: int
    error: str | None = None
    replaced: list[str] = field(default_factory=list)   # accepted names that replaced a document


@dataclass
class Step:
    """What an answer stream reports to a face: the kind of event and its data."""
    kind: str          # status | rewrite | evidence | token | final | error
    data: object = None


class ChatService:
    """Everything the faces do, as plain Python. One instance is shared by all sessions of a
    server. Conversations live here, keyed by session id: a question asked while another is
    being answered is appended to the same list the running answer updates, and clear() replaces
    the list, which a running answer notices at its next step and stops (closing the model
    stream)."""

    MAX_SESSIONS = 500  # oldest conversations are dropped beyond this (tabs closed without unload)

    def __init__(self, settings: Settings, engine: Engine, answerer_factory: AnswererFactory = load_answerer,
                 *, models: tuple[str, ...] | list[str] | None = None, model_workers: int = 1,
                 model_queue: int = 16, fast_workers: int = 4, fast_queue: int = 64):
        self.settings = settings
        self.engine = engine
        self.answerer_factory = answerer_factory
        self.models = tuple(dict.fromkeys([*(models or MODELS), settings.llm]))
        self.model_lane = Lane("model", model_workers, model_queue)
        self.fast_lane = Lane("fast", fast_workers, fast_queue)
        self._answerers: dict[str, Answerer] = {}
        self._load_lock = threading.Lock()
        self._index_lock = threading.Lock()
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, list[Turn]] = OrderedDict()
        # one answer at a time per session, in order (a follow-up sees the answer before it);
        # different sessions run side by side, as their lanes allow
        self._turn_locks: dict[str, threading.Lock] = {}
        # uploads index in a background worker (one build at a time) while questions go on
        self.audit = AuditLog(Path(settings.resolved_index_dir) / "audit.log")
        self.uploads = UploadJobs(lambda: self.engine, self._index_lock, on_finish=self._upload_finished,
                                  pause=self._questions_first, after_change=self._prepare_gates)

    # models ----------------------------------------------------------------------------------
    def check_model(self, spec: str | None) -> str:
        spec = clean_input(spec or self.settings.llm, 200).strip()
        if spec not in self.models:
            raise ServiceError("unknown_model", f"不支持的模型：{spec}（可选：{'、'.join(self.models)}）", 400)
        return spec

    def answerer(self, spec: str) -> Answerer:
        """The answerer for a configured model, loaded once (in the model lane when it needs loading)."""
        spec = self.check_model(spec)
        if spec in self._answerers:
            return self._answerers[spec]
        lane = self.fast_lane if spec == EXTRACTIVE else self.model_lane
        with lane.slot(), self._load_lock:
            if spec not in self._answerers:
                self._answerers[spec] = self.answerer_factory(self.engine, spec)
            return self._answerers[spec]

    def is_loaded(self, spec: str) -> bool:
        return spec in self._answerers

    def model_notes(self) -> dict[str, str]:
        return {spec: a.load_notice or f"已加载（{a.model_name}）" for spec, a in list(self._answerers.items())}

    def lane_for(self, answerer: Answerer) -> Lane:
        return self.model_lane if answerer.generator is not None else self.fast_lane

    # conversations ---------------------------------------------------------------------------
    def _conversation(self, session: str) -> list[Turn]:
        """The session's turn list (caller holds self._lock)."""
        conv = self._sessions.get(session)
        if conv is None:
            conv = self._sessions[session] = []
            while len(self._sessions) > self.MAX_SESSIONS:
                old, _ = self._sessions.popitem(last=False)
                self._turn_locks.pop(old, None)
        else:
            self._sessions.move_to_end(session)
        return conv

    def turns(self, session: str) -> list[Turn]:
        with self._lock:
            return list(self._conversation(session))

    def ask(self, session: str, question: object) -> list[Turn]:
        """Queue a question (shown at once as waiting); an empty one is ignored. The text is
        cleaned here (invalid UTF-8, surrogates, control characters), so nothing later can choke."""
        q = clean_input(question, MAX_QUESTION_CHARS).strip()
        with self._lock:
            conv = self._conversation(session)
            if q:
                conv.append(Turn(q))
            return list(conv)

    def clear(self, session: str) -> None:
        with self._lock:
            self._sessions[session] = []  # a new list: a running answer sees the swap and stops

    def stop_all(self) -> None:
        """Stop every running answer at its next token (a server shutting down): each conversation
        is swapped for an empty one, which a running answer sees as 「cleared」."""
        with self._lock:
            for session in list(self._sessions):
                self._sessions[session] = []

    def forget(self, session: str) -> None:
        with self._lock:
            self._sessions.pop(session, None)
            self._turn_locks.pop(session, None)

    # answering --------------------------------------------------------------------------------
    def answer_next(self, session: str, spec: str, k: int | None = None) -> Iterator[list[Turn]]:
        """Answer the session's first pending question, yielding the conversation after every
        step (waiting → evidence → streamed text → final). If the conversation is cleared meanwhile,
        the model stream is closed and the current (cleared) conversation is the last value."""
        with self._lock:
            turn_lock = self._turn_locks.setdefault(session, threading.Lock())
        with turn_lock:
            yield from self._answer_next(session, spec, k)

    def _answer_next(self, session: str, spec: str, k: int | None) -> Iterator[list[Turn]]:
        with self._lock:
            conv = self._conversation(session)
            i = next((j for j, t in enumerate(conv) if t.answer is None), None)
            if i is None:
                snapshot = list(conv)
            else:
                turn = conv[i]
                history = [(t.question, t.answer) for t in conv[:i] if t.answer]
        if i is None:
            yield snapshot
            return

        def show(t: Turn) -> list[Turn] | None:
            with self._lock:
                if self._sessions.get(session) is not conv:  # cleared or forgotten
                    return None
                conv[i] = t
                return list(conv)

        steps = self.stream(turn.question, history, spec, k)
        try:
            for step in steps:
                turn = _advance(turn, step)
                snapshot = show(turn)
                if snapshot is None:
                    # Cleared: end with the conversation as it is now (a face re-sending a
                    # stream's last value must not bring the old turn back).
                    yield self.turns(session)
                    return
                yield snapshot
        finally:
            steps.close()  # stops the model at its current token when we return early

    def stream(self, question: object, history: list[tuple[str, str]] | None = None, spec: str | None = None,
               k: int | None = None) -> Iterator[Step]:
        """One answer as steps: queued (admitted to its lane), status…, rewrite?, evidence,
        token…, final; or an error step. Model answers wait in the model lane, extractive ones run
        in the fast lane; a full lane gives an error step with BUSY before "queued". Any failure
        becomes an error step, never an exception."""
        try:
            spec = self.check_model(spec)
            q = clean_input(question, MAX_QUESTION_CHARS).strip()
            history = [(clean_input(a, MAX_QUESTION_CHARS), clean_input(b, MAX_QUESTION_CHARS))
                       for a, b in (history or [])[-MAX_HISTORY_TURNS:]]
            k = _clamp_k(k, self.settings.top_k, 20)
            if not self.is_loaded(spec):
                yield Step("status", "正在加载模型，第一次需要一点时间…")
            answerer = self.answerer(spec)
            ticket = self.lane_for(answerer).admit()  # Busy here, before any work is promised
        except ServiceError as exc:
            yield Step("error", exc.message)
            return
        except Exception as exc:
            log.exception("loading %r failed", spec)
            yield Step("error", str(exc) or exc.__class__.__name__)
            return
        events = None
        try:
            yield Step("queued", ticket.lane.name)
            if ticket.must_wait:
                yield Step("status", "排队等待模型…" if ticket.lane is self.model_lane else "排队等待…")
            ticket.wait()
            yield Step("status", "正在检索文档…")
            events = answerer.stream(q, history, k)
            for ev in events:
                if ev.kind == "evidence":
                    yield Step("evidence", ev.data)
                    yield Step("status", f"找到 {len(ev.data)} 段依据，正在生成回答（{answerer.model_name}）…"
                               if answerer.generator is not None else f"找到 {len(ev.data)} 段依据，正在摘录…")
                else:
                    yield Step(ev.kind, ev.data)
                if ev.kind == "final":
                    return
            yield Step("error", "没有得到回答")
        except Exception as exc:  # one question must never take a session or the server down
            log.exception("answering %r failed", question)
            yield Step("error", str(exc) or exc.__class__.__name__)
        finally:
            if events is not None:
                events.close()  # stops the model at its current token
            ticket.release()

    def answer(self, question: object, history: list[tuple[str, str]] | None = None, spec: str | None = None,
               k: int | None = None) -> Answer:
        """The final answer of stream(); a ServiceError (Busy, unknown model…) is raised."""
        for step in self.stream(question, history, spec, k):
            if step.kind == "final":
                return step.data
            if step.kind == "error":
                raise ServiceError("busy" if step.data == BUSY else "answer_failed", step.data,
                                   503 if step.data == BUSY else 500)
        raise ServiceError("answer_failed", "没有得到回答", 500)

    # search and documents (fast lane) -----------------------------------------------------------
    def search(self, query: object, k: int | None = None, mode: str | None = None) -> list[Hit]:
        q = clean_input(query, MAX_QUESTION_CHARS).strip()
        if not q:
            raise ServiceError("empty_query", "问题为空：请输入要检索的内容。", 400)
        mode = mode or self.settings.mode
        if mode not in ("hybrid", "bm25", "dense"):
            raise ServiceError("bad_mode", f"未知的检索模式：{clean_input(mode, 50)}（可选 hybrid、bm25、dense）", 400)
        with self.fast_lane.slot():
            return self.engine.search(q, _clamp_k(k, self.settings.top_k, MAX_SEARCH_K), mode)

    def documents(self) -> dict[str, Document]:
        return self.engine.index.documents

    def document(self, name: str | None) -> Document | None:
        return self.engine.index.documents.get(clean_input(name or "", 1000))

    def paragraph(self, para_id: str | None) -> Paragraph | None:
        return self.engine.index.paragraphs.get(para_id) if para_id else None

    # index ----------------------------------------------------------------------------------
    def status(self) -> dict:
        idx = self.engine.index
        return {"stats": idx.stats(), "warnings": list(idx.warnings), "models": self.model_notes(),
                "lanes": {"model": self.model_lane.stats(), "fast": self.fast_lane.stats()}}

    def start_upload(self, files: list[tuple[str, bytes]], who: str = "", replace: bool = False,
                     client: str = "") -> UploadJob:
        """Hand uploaded files to a background job and return it at once (state "queued"); the
        job checks them, stages them outside docs_dir and indexes them; poll upload_job(id).
        `who` (face, role, client) goes to the audit log when the job ends. With `replace`, a file
        named like an indexed document replaces it in the same build (audited as a replacement).
        A client may have settings.upload_jobs_per_client jobs unfinished at once (429 beyond)."""
        if not files:
            raise ServiceError("no_files", "没有收到文件：请选择要上传的文档。", 400)
        limit = self.settings.upload_jobs_per_client
        try:
            return self.uploads.start([(clean_input(name, 255) or "unnamed.txt", data) for name, data in files], who,
                                      replace, client, limit)
        except TooManyJobs as exc:
            if exc.client is None:
                raise ServiceError("busy", f"{BUSY}（等待建立索引的上传已满）", 503) from None
            raise ServiceError("too_many_jobs", f"已有 {limit} 个上传任务在排队或建立索引，请等它们完成后再上传", 429) from None

    def upload_job(self, job_id: str) -> UploadJob:
        job = self.uploads.get(clean_input(job_id, 100))
        if job is None:
            raise ServiceError("no_job", f"没有这个上传任务：{clean_input(job_id, 100)}", 404)
        return job

    def cancel_upload(self, job_id: str) -> UploadJob:
        job = self.uploads.cancel(clean_input(job_id, 100))
        if job is None:
            raise ServiceError("no_job", f"没有这个上传任务：{clean_input(job_id, 100)}", 404)
        return job

    def remove_documents(self, names: list[str], who: str = "") -> tuple[list[str], list]:
        """Remove documents and rebuild the index without them (waits for a running upload; the
        chat keeps answering from the previous index until the switch); audited."""
        names = [n for n in (clean_input(n, 1000) for n in names) if n]
        if not names:
            raise ServiceError("no_files", "没有指定要删除的文档。", 400)
        with self._index_lock:
            try:
                removed, rejected = self.engine.remove_documents(names)
            except Exception:
                self.audit.record(who, "remove", names, "failed")
                raise
        self.audit.record(who, "remove", removed or names, "done" if removed else "refused")
        if removed:
            self._prepare_gates()
        return removed, rejected

    def _upload_finished(self, job: UploadJob) -> None:
        added = [n for n in job.accepted if n not in job.replaced]
        if job.replaced:
            self.audit.record(job.who, "replace", job.replaced, job.state)
        if added or not job.replaced:
            self.audit.record(job.who, "upload", added or job.files, job.state)

    def _questions_first(self) -> None:
        """Before each embedding batch of an upload: wait while questions are being searched or
        answered, at most QUESTIONS_FIRST_S, so that on a small CPU a search is not slowed by an
        upload sharing its cores (the upload takes longer instead, and still always advances)."""
        deadline = time.monotonic() + QUESTIONS_FIRST_S
        while (self.fast_lane.pending or self.model_lane.pending) and time.monotonic() < deadline:
            time.sleep(0.02)

    def _prepare_gates(self) -> None:
        """Calibrate the loaded answerers' gates for the new index now, in the thread that changed
        it, rather than in the first questions that arrive after the switch."""
        for a in list(self._answerers.values()):
            try:
                a.gate()
            except Exception:   # the next question calibrates it, or reports what is wrong
                log.exception("calibrating the gate after an index change failed")

    def add_files(self, files: list[tuple[str, bytes]]) -> UploadResult:
        """Add uploaded files and wait for the index (the synchronous form of start_upload)."""
        job = self.uploads.wait(self.start_upload(files).id)
        return upload_result(job)


def upload_result(job: UploadJob) -> UploadResult:
    """A finished job as the page and the API have always reported an upload."""
    error = job.error or ("已取消" if job.state == "cancelled" else None)
    return UploadResult(list(job.accepted), list(job.rejected), job.documents_before, job.documents_after, error,
                        list(job.replaced))


def _clamp_k(k: object, default: int, top: int) -> int:
    try:
        k = int(k) if k is not None else default
    except (TypeError, ValueError):
        raise ServiceError("bad_k", "k 必须是整数", 400) from None
    return max(1, min(k, top))


def _advance(turn: Turn, step: Step) -> Turn:
    """The turn after one step of its answer stream."""
    if step.kind == "status":
        return replace(turn, status=step.data)
    if step.kind == "queued":
        return turn
    if step.kind == "rewrite":
        return replace(turn, standalone=step.data)
    if step.kind == "evidence":
        return replace(turn, passages=step.data)
    if step.kind == "token":
        return replace(turn, partial=turn.partial + step.data)
    if step.kind == "final":
        return replace(turn, final=step.data)
    if step.kind == "error":
        return replace(turn, error=str(step.data))
    return turn
