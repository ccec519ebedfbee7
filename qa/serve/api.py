"""HTTP API: the second face of qa.serve.chat.ChatService (FastAPI; python -m qa serve).

  POST /v1/ask                 {"question", "model"?, "k"?, "history"?, "stream"?} → answer JSON, or
                               server-sent events: evidence → token… → final (answer with citations)
  GET  /v1/search?q=&k=&mode=  retrieved chunks
  GET  /v1/documents           the indexed documents;  GET /v1/documents/{name}: its paragraphs
  POST /v1/documents           multipart upload (field "files"), the same checks as the page: 202 with
                               an upload job, indexed in the background (?wait=true: 200 when indexed;
                               ?replace=true: a file named like a document replaces it, atomically)
  GET  /v1/documents/jobs/{id} the job's state and progress;  DELETE: cancel it
  DELETE /v1/documents/{name}  remove a document (admin key): the file is kept under the index's removed/
  GET  /v1/health              index, models, queues
  GET  /v1/models              the models a client may ask for (OpenAI format)
  POST /v1/chat/completions    OpenAI-compatible (stream or not): the answer text carries the [n]
                               markers, the response an extra "citations" field; streamed, the
                               model's draft comes token by token in delta.reasoning_content and
                               the verified text in delta.content at the end
  GET  /docs, /openapi.json    the OpenAPI page, with its assets served locally (works offline)

Errors are JSON {"error": {"code", "message", "type"}} with a Chinese message and a stable code
(the shape OpenAI clients read); bad input is a 4xx, a full queue a 503 with 「繁忙，请稍后再试」.
Blocking work (search, answers) runs in the thread pool through the service's lanes; the lanes
bound how many requests may wait, and the pool is sized above that bound.
"""
from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any, Iterator

from fastapi import File, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.concurrency import run_in_threadpool

from qa.serve.present import answer_json, hit_json
from qa.serve.access import AccessGuard, Denial, Policy, RateLimiter, bind_refusal, client_id, role_of
from qa.serve.chat import BUSY, MAX_HISTORY_TURNS, MAX_QUESTION_CHARS, ChatService, ServiceError, Step
from qa.ingest.load import MAX_BINARY_BYTES
from qa.retrieval.engine import NO_SUCH_DOCUMENT
from qa.text.normalize import clean_input

log = logging.getLogger(__name__)

MAX_UPLOAD_FILES = 20
# One request, all files together: one PDF or Word file at the loader's own limit for it.
MAX_UPLOAD_BYTES = MAX_BINARY_BYTES


def error_body(code: str, message: str, type_: str = "invalid_request_error") -> dict:
    return {"error": {"code": code, "message": message, "type": type_}}


def error_response(exc: ServiceError) -> JSONResponse:
    type_ = "server_busy" if exc.status == 503 else ("server_error" if exc.status >= 500 else "invalid_request_error")
    return JSONResponse(error_body(exc.code, exc.message, type_), status_code=exc.status)


def denial_response(d: Denial) -> JSONResponse:
    """A request qa.serve.access refused: 401 asks for the Bearer key, 403 says it is not allowed."""
    if d.status == 401:
        return JSONResponse(error_body(d.code, d.message, "authentication_error"), status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    if d.status == 429:
        return JSONResponse(error_body(d.code, d.message, "rate_limit_error"), status_code=429,
                            headers={"Retry-After": str(d.retry_after)})
    return JSONResponse(error_body(d.code, d.message, "permission_error"), status_code=d.status)


class AskRequest(BaseModel):
    question: str = Field(..., description="问题（中文或英文）", examples=["定西市驻村帮扶干部的生活补助是多少？"])
    model: str | None = Field(None, description="1.5b | 0.5b | extractive；默认为服务器配置的模型")
    k: int | None = Field(None, description="检索段落数", ge=1, le=20)
    history: list[tuple[str, str]] = Field(default_factory=list, description="此前的 [问题, 回答] 对，用于追问")
    stream: bool = Field(False, description="true：以 server-sent events 返回 evidence → token → final")


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model: str | None = None
    messages: list[ChatMessage]
    stream: bool = False
    model_config = {"extra": "allow"}  # temperature, max_tokens… are accepted and ignored


def _sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def passage_json(p) -> dict:
    return {"n": p.n, "doc": p.para.doc, "para": p.para.id, "section": p.para.section_path, "title": p.para.title,
            "text": p.text, "span": [p.start, p.end]}


def citation_json(c) -> dict:
    return {"n": c.n, "doc": c.doc, "para": c.para, "section": c.section, "title": c.title, "text": c.text,
            "quote": c.quote, "span": list(c.span), "lines": list(c.lines)}


def step_error(message: object) -> ServiceError:
    """The ServiceError behind an error step of an answer stream."""
    msg = str(message)
    if msg == BUSY:
        return ServiceError("busy", BUSY, 503)
    if msg.startswith("不支持的模型"):
        return ServiceError("unknown_model", msg, 400)
    return ServiceError("answer_failed", msg, 500)


class _Opened:
    """A service answer stream read up to its admission ("queued") or its error, so that a full
    queue or a bad model is a plain JSON error (503/400), not a stream that starts and fails."""

    def __init__(self, steps: Iterator[Step]):
        self.steps = steps
        self.head: list[Step] = []
        for step in steps:
            self.head.append(step)
            if step.kind in ("queued", "error"):
                break

    def error(self) -> ServiceError | None:
        last = self.head[-1] if self.head else Step("error", "没有得到回答")
        return step_error(last.data) if last.kind == "error" else None

    def __iter__(self) -> Iterator[Step]:
        # chained, not unpacked: each step goes out as the service yields it (true streaming)
        for step in itertools.chain(self.head, self.steps):
            if step.kind != "queued":
                yield step

    def close(self) -> None:
        self.steps.close()


def _open(service: ChatService, question: str, history, spec, k) -> _Opened:
    return _Opened(service.stream(question, history, spec, k))


def check_history(turns: int) -> None:
    if turns > MAX_HISTORY_TURNS:
        raise ServiceError("history_too_long", f"对话历史过长：最多 {MAX_HISTORY_TURNS} 轮（追问只参考最近两轮）", 400)


def _messages_to_question(messages: list[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The last user message is the question; earlier user/assistant pairs are the history."""
    def text(m: ChatMessage) -> str:
        if isinstance(m.content, list):  # [{"type": "text", "text": ...}, ...]
            return " ".join(str(p.get("text", "")) for p in m.content if isinstance(p, dict))
        return m.content or ""

    turns = [(m.role, clean_input(text(m), MAX_QUESTION_CHARS)) for m in messages if m.role in ("user", "assistant")]
    if not turns or turns[-1][0] != "user" or not turns[-1][1].strip():
        raise ServiceError("no_question", "messages 中最后一条必须是用户的问题", 400)
    history, pending = [], None
    for role, content in turns[:-1]:
        if role == "user":
            pending = content
        elif pending is not None:
            history.append((pending, content))
            pending = None
    check_history(len(history))
    return turns[-1][1], history


def create_app(service: ChatService, title: str = "政策文件问答 API",
               ready: threading.Event | None = None, bind_host: str = "127.0.0.1") -> FastAPIOffline:
    @asynccontextmanager
    async def lifespan(app):
        import anyio.to_thread

        anyio.to_thread.current_default_thread_limiter().total_tokens = thread_pool_size(service)
        if ready is not None:
            ready.set()
        yield

    app = FastAPIOffline(title=title, version="1", description=__doc__.split("\n\n")[0], lifespan=lifespan)
    app.state.service = service
    st = service.settings
    policy = replace(Policy.of(st.api_key, st.admin_key, st.allowed_hosts, st.allowed_origins, bind_host),
                     max_upload_body=MAX_UPLOAD_BYTES + (1 << 20))  # room for the multipart framing
    app.add_middleware(AccessGuard, policy=policy, respond=denial_response, limiter=RateLimiter(st.rate_limit))

    def address(request: Request) -> str:
        return request.client.host if request.client else "?"

    def who(request: Request) -> str:
        """For the audit log: the face, the role of the key used, the client address."""
        return f"api {role_of(policy, request.headers)} {address(request)}"   # Starlette's headers: case-insensitive

    @app.exception_handler(ServiceError)
    async def _service_error(request: Request, exc: ServiceError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        where = "；".join(".".join(str(x) for x in e.get("loc", ())[1:]) or "请求体" for e in exc.errors()[:3])
        return JSONResponse(error_body("invalid_request", f"请求格式不正确：{where or '请求体'}"), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        messages = {400: ("bad_request", "请求内容无法解析（需要 UTF-8 编码的 JSON）"), 404: ("not_found", "没有这个地址"),
                    405: ("method_not_allowed", "不支持这种请求方法"), 413: ("too_large", "请求内容过大")}
        code, msg = messages.get(exc.status_code, ("http_error", "请求无法处理"))
        return JSONResponse(error_body(code, msg), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("API request failed")
        return JSONResponse(error_body("internal_error", "服务器内部错误，请稍后再试", "server_error"), status_code=500)

    @app.get("/v1/health", summary="服务状态：索引、模型、队列")
    async def health() -> dict:
        st = service.status()
        return {"status": "ok", "index": st["stats"], "warnings": [str(w) for w in st["warnings"]],
                "models": {"allowed": list(service.models), "loaded": st["models"]}, "lanes": st["lanes"]}

    @app.get("/v1/models", summary="可用模型（OpenAI 格式）")
    async def models() -> dict:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": 0, "owned_by": "local"}
                                           for m in service.models]}

    @app.get("/v1/search", summary="检索段落")
    def search(q: str = Query(..., description="要检索的内容"), k: int = Query(5, ge=1, le=50),
               mode: str = Query("hybrid", description="hybrid | bm25 | dense")) -> dict:
        hits = service.search(q, k, mode)
        return {"query": clean_input(q, MAX_QUESTION_CHARS).strip(), "mode": mode, "hits": [hit_json(h) for h in hits]}

    @app.get("/v1/documents", summary="已索引的文档")
    async def documents() -> dict:
        docs = service.documents()
        return {"documents": [{"name": n, "title": d.title, "paragraphs": len(d.paragraphs), "sha256": d.sha256,
                               "meta": d.meta} for n, d in sorted(docs.items())]}

    @app.get("/v1/documents/{name}", summary="一篇文档的全部段落")
    async def document(name: str) -> dict:
        doc = service.document(name)
        if doc is None:
            raise ServiceError("no_document", f"没有这篇文档：{clean_input(name, 200)}", 404)
        return {"name": doc.name, "title": doc.title, "meta": doc.meta,
                "paragraphs": [{"id": p.id, "section": p.section_path, "text": p.text, "lines": list(p.lines),
                                "kind": p.kind, "page": p.page} for p in doc.paragraphs]}

    @app.get("/v1/documents/jobs/{job_id}", summary="上传任务的状态与进度")
    async def upload_job(job_id: str) -> dict:
        return service.upload_job(job_id).to_json()

    @app.delete("/v1/documents/jobs/{job_id}", summary="取消上传任务（文档和索引保持不变）")
    async def cancel_upload_job(job_id: str) -> dict:
        return service.cancel_upload(job_id).to_json()

    @app.delete("/v1/documents/{name}", summary="删除一篇文档：不含它的索引建好后，文件移到索引目录的 removed/ 下")
    def remove_document(name: str, request: Request):
        removed, rejected = service.remove_documents([name], who(request))
        if not removed:
            reason = rejected[0].reason if rejected else NO_SUCH_DOCUMENT
            missing = reason == NO_SUCH_DOCUMENT
            raise ServiceError("no_document" if missing else "last_document", reason, 404 if missing else 409)
        return {"removed": removed, "documents_after": len(service.engine.index.documents)}

    @app.post("/v1/documents", summary="上传文档（与网页相同的检查），后台建立索引", status_code=202)
    async def upload(request: Request, files: list[UploadFile] = File(..., description="一个或多个文件"),
                     wait: bool = Query(False, description="true：等索引建好再返回（200），否则立即返回上传任务（202）"),
                     replace: bool = Query(False, description="true：同名文档以新文件替换（旧文件保留在索引目录的 removed/）")):
        if len(files) > MAX_UPLOAD_FILES:
            raise ServiceError("too_many_files", f"一次最多上传 {MAX_UPLOAD_FILES} 个文件", 400)
        items, total = [], 0
        for f in files:
            # read whole up to the largest size any format allows: the loader applies its format's
            # limit (a text file's is lower) and says so, nothing is cut silently
            data = await f.read(MAX_BINARY_BYTES + 1)
            total += len(data)
            if total > MAX_UPLOAD_BYTES:
                raise ServiceError("too_large", f"上传内容过大（上限 {MAX_UPLOAD_BYTES // 1024 // 1024} MB）", 413)
            items.append((f.filename or "unnamed.txt", data))
        job = service.start_upload(items, who(request), replace, client_id(request.headers, address(request), policy.keyed))
        if wait:
            job = await run_in_threadpool(service.uploads.wait, job.id, st.upload_wait_s)
        if not job.done:
            # the index is built in the background; questions keep using the previous one
            note = {"note": f"等待超过 {st.upload_wait_s:.0f} 秒，索引仍在建立；请查询任务状态"} if wait else {}
            return JSONResponse({**job.to_json(), "url": f"/v1/documents/jobs/{job.id}", **note}, status_code=202,
                                headers={"Location": f"/v1/documents/jobs/{job.id}"})
        body = {"job": job.id, "state": job.state, "accepted": list(job.accepted), "replaced": list(job.replaced),
                "rejected": [{"name": w.name, "reason": w.reason} for w in job.rejected],
                "documents_before": job.documents_before, "documents_after": job.documents_after}
        if job.state != "done":
            return JSONResponse({**body, **error_body("index_failed", f"上传失败，索引保持不变：{job.error or job.message}",
                                                      "server_error")}, status_code=500)
        return JSONResponse(body, status_code=200)

    @app.post("/v1/ask", summary="提问：回答与出处（JSON 或 server-sent events）")
    def ask(req: AskRequest):
        check_history(len(req.history))
        history = [(a, b) for a, b in req.history]
        opened = _open(service, req.question, history, req.model, req.k)
        err = opened.error()
        if err is not None:
            return error_response(err)
        if not req.stream:
            final = None
            for step in opened:
                if step.kind == "final":
                    final = step.data
                elif step.kind == "error":
                    return error_response(step_error(step.data))
            return answer_json(final)

        def events() -> Iterator[str]:
            try:
                for step in opened:
                    if step.kind == "evidence":
                        yield _sse("evidence", {"passages": [passage_json(p) for p in step.data]})
                    elif step.kind == "token":
                        yield _sse("token", {"text": step.data})
                    elif step.kind in ("status", "rewrite"):
                        yield _sse(step.kind, {"text": step.data})
                    elif step.kind == "final":
                        yield _sse("final", answer_json(step.data))
                    elif step.kind == "error":
                        e = step_error(step.data)
                        yield _sse("error", error_body(e.code, e.message, "server_error"))
            finally:
                opened.close()

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    @app.post("/v1/chat/completions", summary="OpenAI 兼容的对话接口")
    def chat_completions(req: ChatRequest):
        question, history = _messages_to_question(req.messages)
        spec = req.model if req.model else None
        opened = _open(service, question, history, spec, None)
        err = opened.error()
        if err is not None:
            return error_response(err)
        cid, created, model = f"chatcmpl-{uuid.uuid4().hex}", int(time.time()), spec or service.settings.llm

        def finish(steps) -> tuple[Any, str | None]:
            for step in steps:
                if step.kind == "final":
                    return step.data, None
                if step.kind == "error":
                    return None, str(step.data)
            return None, "没有得到回答"

        def extra(ans) -> dict:
            return {"citations": [citation_json(c) for c in ans.citations], "abstained": ans.abstained,
                    "passages": [passage_json(p) for p in ans.passages]}

        if not req.stream:
            ans, error = finish(opened)
            if ans is None:
                return error_response(step_error(error))
            return {"id": cid, "object": "chat.completion", "created": created, "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": ans.text},
                                 "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": int(ans.latency.get("prompt_tokens", 0)),
                              "completion_tokens": int(ans.latency.get("new_tokens", 0)),
                              "total_tokens": int(ans.latency.get("prompt_tokens", 0) + ans.latency.get("new_tokens", 0))},
                    **extra(ans)}

        def chunk(delta: dict, finish_reason: str | None = None, **more) -> str:
            body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                    "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}], **more}
            return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

        def events() -> Iterator[str]:
            # As the answer goes: the retrieved passages (an extra "passages" field), the model's tokens
            # as they come in delta.reasoning_content (the draft field reasoning-model clients show
            # live), then the verified answer, citations renumbered, as delta.content. A client that
            # concatenates content gets exactly the verified text; the draft is never taken for it.
            try:
                yield chunk({"role": "assistant", "content": ""})
                ended = False
                for step in opened:
                    if step.kind == "evidence":
                        yield chunk({}, passages=[passage_json(p) for p in step.data])
                    elif step.kind == "token":
                        yield chunk({"reasoning_content": step.data})
                    elif step.kind == "final":
                        yield chunk({"content": step.data.text})
                        yield chunk({}, "stop", **extra(step.data))
                        ended = True
                        break
                    elif step.kind == "error":
                        e = step_error(step.data)
                        yield f"data: {json.dumps(error_body(e.code, e.message, 'server_error'), ensure_ascii=False)}\n\n"
                        ended = True
                        break
                if not ended:
                    yield f"data: {json.dumps(error_body('answer_failed', '没有得到回答', 'server_error'), ensure_ascii=False)}\n\n"
                yield "data: [DONE]\n\n"
            finally:
                opened.close()

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    return app


def thread_pool_size(service: ChatService) -> int:
    """Enough threads for every request the lanes admit, plus some for quick reads."""
    lanes = (service.model_lane, service.fast_lane)
    return sum(l.workers + l.queue for l in lanes) + 8


def serve(service: ChatService, host: str = "127.0.0.1", port: int = 8000, *, log_level: str = "info") -> None:
    """Run the API with uvicorn until interrupted (blocking). Beyond the loopback only with a key."""
    import uvicorn

    refusal = bind_refusal(host, service.settings.api_key, service.settings.admin_key)
    if refusal:
        raise ServiceError("key_required", refusal, 400)
    uvicorn.run(create_app(service, bind_host=host), host=host, port=port, log_level=log_level, access_log=False)
