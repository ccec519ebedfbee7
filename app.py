"""政策文件问答助手 · 网页界面（Gradio，离线）.

    python app.py [--host H] [--port P] [--docs DIR] [--model 1.5b|0.5b|extractive|PATH] [--index-dir DIR] [-k N]

Layout: a chat on the left (streamed answers, clickable [n] citations, a sources list under each
answer), a document viewer on the right (the whole cleaned document, scrolled to a cited
paragraph), settings / index status / upload in the sidebar.

How an answer, its clickable [n] citations and the document viewer are drawn: qa/serve/page_html.py
(plain HTML, escaped) and qa/serve/page_assets/ (CSS and the page scripts).

The conversation logic is qa.serve.chat.ChatService (shared with the HTTP API, no Gradio); this file
only renders its turns as HTML and wires events. A question is first staged (shown at once as
waiting, no queue), then answered: model answers one at a time in the service's model lane,
extractive answers, document views and status in its fast lane, so they never wait behind a
generation; a full lane answers 「繁忙，请稍后再试」. Conversations are kept server-side per browser
session, which makes "ask while answering" and "清空对话 while answering" safe; Gradio API:
/stage(question) then /run(model, k).

Offline: analytics off (env + Blocks flag), system fonts only (no Google Fonts), no SSR, no share
link, no MCP; the page loads nothing but its own assets from the local server.
"""
from __future__ import annotations

import os

# Before gradio is imported: no telemetry, no version check, nothing fetched from a hub.
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("GRADIO_SSR_MODE", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import argparse  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import gradio as gr  # noqa: E402

from qa.answering.suggest import example_questions, followup_demo  # noqa: E402
from qa.generate.llm import engine_installed  # noqa: E402
from qa.ingest.load import SUFFIXES  # noqa: E402
from qa.retrieval.engine import Engine  # noqa: E402
from qa.serve.chat import AnswererFactory, ChatService, ServiceError, upload_result  # noqa: E402
from qa.serve.access import Policy, bind_refusal  # noqa: E402
from qa.serve.page_guard import PageAccess, PageGuard  # noqa: E402
from qa.serve.page_html import (EMPTY_VIEWER, asset, document_choices, document_html, open_paragraph_html,  # noqa: E402
                                removal_html, render_upload_progress, render_upload_result, status_html, to_messages, upload_html)
from qa.serve.service import load_answerer  # noqa: E402
from qa.settings import Settings  # noqa: E402

log = logging.getLogger("qa.app")

TITLE = "政策文件问答助手"
# Example questions and the follow-up demo are made from the loaded documents (qa/answering/suggest.py).
MODEL_CHOICES = [(label, spec) for label, spec in [
    ("Qwen2.5 1.5B（默认）", "1.5b"),
    ("Qwen2.5 0.5B（llama.cpp，较不准确）", "0.5b"),
    ("摘录模式（不用模型，直接摘录原文）", "extractive"),
] if engine_installed(spec)]
MAX_TOP_K = 10
# Gradio worker threads for answers: the service's lanes decide what runs (one generation at a
# time, several extractive answers); this only has to exceed the model lane's queue so that
# questions waiting for the model never occupy every thread.
RUN_WORKERS = 32


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "local"


def _user(request: gr.Request | None) -> str | None:
    """The login name (None on a page without keys)."""
    return getattr(request, "username", None)


def _who(request: gr.Request | None) -> str:
    """For the audit log: the page, the login name (「open」 on a page without keys), the client address."""
    client = getattr(getattr(request, "client", None), "host", None) or "?"
    return f"page {_user(request) or 'open'} {client}"


def _model_label(spec: str) -> str:
    for label, value in MODEL_CHOICES:
        if value == spec:
            return label
    return f"自定义模型：{Path(spec).name or spec}"


# --------------------------------------------------------------------------------------------
# Page assembly
# --------------------------------------------------------------------------------------------

FONT = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
        "WenQuanYi Micro Hei", "system-ui", "sans-serif"]
FONT_MONO = ["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "Menlo", "Consolas", "monospace"]


def make_theme() -> gr.themes.Base:
    # Plain strings are system fonts: nothing is fetched (a GoogleFont would load from Google).
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=FONT, font_mono=FONT_MONO)






CSS = asset("page.css")
# Page script: a click on [n] opens that source (a <details>) in place, flashes it, and opens the
# cited paragraph in the document viewer; no server round trip for the source itself.
# 「删除此文档」 asks the browser to confirm first; a cancelled confirm sends no name.
CONFIRM_REMOVE_JS = "(name) => (name && confirm('删除文档「' + name + '」？它将从索引中移除（文件移到索引目录的 removed/ 下，可恢复）。')) ? name : null"
# On narrow screens it also starts with the settings sidebar closed, so the question box is seen first.
PAGE_JS = asset("page.js")
# The viewer's js_on_load: "在文档中查看" links fetch the document through the open_paragraph server
# function and scroll the viewer to the highlighted paragraph.
VIEWER_JS = asset("viewer.js")

UPLOAD_POLL_S = 0.5  # how often the page redraws a running upload's progress
STOP_GRACE_S = 1.0   # Ctrl-C: how long the server may take to close before the process ends


def build_app(settings: Settings, answerer_factory: AnswererFactory = load_answerer, *,
              engine: Engine | None = None, preload: bool = True,
              service: ChatService | None = None) -> gr.Blocks:
    """The chat page for one corpus. `answerer_factory(engine, spec)` makes the answerer for a
    model choice (default: qa.serve.service.load_answerer); the default model is loaded now unless
    preload=False. Launch it with launch(), which adds theme, CSS and page script."""
    if service is None:
        engine = engine or Engine.open(settings)
        service = ChatService(settings, engine, answerer_factory, models=[v for _, v in MODEL_CHOICES])
    if preload:
        service.answerer(settings.llm)
    access = PageAccess(Policy.of(settings.api_key, settings.admin_key))

    choices = list(MODEL_CHOICES)
    if settings.llm not in {v for _, v in choices}:
        choices.append((_model_label(settings.llm), settings.llm))

    documents = list(service.engine.index.documents.values())
    examples = example_questions(documents)
    # Follow-up demo: the second question only makes sense after the first (rewritten before retrieval).
    demo_pair = followup_demo(documents)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        demo.qa_service = service  # for tests and the bench
        demo.qa_access = access    # the login launch() installs: one set of keys for page and login

        with gr.Sidebar(label="设置", open=True, width=330):
            gr.Markdown("### 设置")
            model = gr.Radio(choices, value=settings.llm, label="回答模型",
                             info="模型只用来组织语言；每句话都会对照原文核查引用。")
            top_k = gr.Slider(1, MAX_TOP_K, value=min(settings.top_k, MAX_TOP_K), step=1, label="检索段落数（top-k）")
            gr.Markdown("### 索引状态")
            status = gr.HTML(status_html(service), elem_id="qa-index-status")
            gr.Markdown("### 添加文档")
            upload = gr.File(label="上传文档（.txt .md .docx .pdf .html，加入索引）", file_count="multiple",
                             file_types=list(SUFFIXES), elem_id="qa-upload")
            replace_same = gr.Checkbox(False, label="替换同名文档（旧文件保留在索引目录的 removed/ 下）",
                                       elem_id="qa-upload-replace")
            upload_msg = gr.HTML("", elem_id="qa-upload-msg")
            upload_cancel = gr.Button("取消上传", size="sm", visible=False, elem_id="qa-upload-cancel")
            upload_job = gr.State(None)

        gr.Markdown(f"# {TITLE}\n只根据本地文档回答，每句话标注出处 [n]；点击 [n] 查看原文段落。全程离线运行。",
                    elem_id="qa-title")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="对话", elem_id="qa-chat", height="calc(100vh - 290px)", min_height=480, latex_delimiters=[], buttons=[],
                    feedback_options=None, sanitize_html=True, render_markdown=True,
                    placeholder=(f"请提问，例如「{examples[0]}」。" if examples else "请提问。") + "回答中的 [n] 可以点击查看原文。",
                )
                with gr.Row():
                    question = gr.Textbox(placeholder="输入问题，按回车发送", show_label=False, scale=7,
                                          elem_id="qa-input", max_lines=4, autofocus=True, container=False)
                    send = gr.Button("发送", variant="primary", scale=0, min_width=90, elem_id="qa-send")
                    clear = gr.Button("清空对话", scale=0, min_width=110, elem_id="qa-clear")
                gr.Markdown("**示例问题**（点击直接提问）")
                with gr.Row(elem_classes="qa-example-row"):
                    example_buttons = [gr.Button(q, size="sm") for q in examples]
                with gr.Row(elem_classes="qa-example-row"):
                    first, second = demo_pair or ("", "")
                    followup = gr.Button(f"追问演示：先问「{first}」再问「{second}」", size="sm",
                                         elem_id="qa-followup-demo", visible=demo_pair is not None)
            with gr.Column(scale=2, min_width=360):
                gr.Markdown("### 文档查看")
                doc_pick = gr.Dropdown(document_choices(service), value=None, label="选择文档", elem_id="qa-doc-pick")
                remove = gr.Button("删除此文档", size="sm", variant="stop", elem_id="qa-doc-remove", interactive=False)
                remove_msg = gr.HTML("", elem_id="qa-remove-msg")

                def open_paragraph(ref: str) -> str:  # called from the page script (no queue)
                    return open_paragraph_html(service, ref)

                viewer = gr.HTML(EMPTY_VIEWER, elem_id="qa-viewer", js_on_load=VIEWER_JS,
                                 server_functions=[open_paragraph], min_height=300)

        # -- events --------------------------------------------------------------------------
        # A question is staged at once (shown as waiting, no queue), then answered in the model
        # queue: one answer at a time for everybody; other events keep the page responsive.
        def stage(q: str, request: gr.Request):
            ts = service.ask(_session(request), q)
            return ("" if (q or "").strip() else gr.update()), to_messages(ts)

        def stage_fixed(q: str):
            def fn(request: gr.Request):
                return stage(q, request)[1]
            return fn

        def stage_followup(request: gr.Request):
            ts = service.turns(_session(request))
            if demo_pair and ts and ts[-1].question == demo_pair[0]:  # not cleared meanwhile
                ts = service.ask(_session(request), demo_pair[1])
            return to_messages(ts)

        def run(spec: str, k: float, request: gr.Request):
            for ts in service.answer_next(_session(request), spec or settings.llm, int(k or settings.top_k)):
                yield to_messages(ts)

        def clear_chat(request: gr.Request):
            service.clear(_session(request))
            return [], ""

        # trigger_mode "multiple" on both steps: a question asked while another one is still being
        # answered (or stopped) is queued behind it, never silently dropped by the browser.
        stage_args = dict(queue=False, trigger_mode="multiple")
        run_args = dict(fn=run, inputs=[model, top_k], outputs=[chatbot], show_progress="hidden",
                        concurrency_limit=RUN_WORKERS, concurrency_id="answer", trigger_mode="multiple")
        private = dict(api_visibility="private")
        ev = question.submit(stage, [question], [question, chatbot], api_name="stage", **stage_args)
        ev.then(api_name="run", **run_args)  # the API: /stage(question) then /run(model, k)
        ev = send.click(stage, [question], [question, chatbot], **stage_args, **private)
        ev.then(**run_args, **private)
        for b, q in zip(example_buttons, examples):
            ev = b.click(stage_fixed(q), None, [chatbot], **stage_args, **private)
            ev.then(**run_args, **private)
        ev = followup.click(stage_fixed(demo_pair[0] if demo_pair else ""), None, [chatbot], **stage_args, **private)
        ev = ev.then(**run_args, **private)
        ev = ev.then(stage_followup, None, [chatbot], queue=False, **private)
        ev.then(**run_args, **private)
        clear.click(clear_chat, None, [chatbot, question], queue=False, **private)

        def forget(request: gr.Request):  # tab closed: drop its conversation
            service.forget(_session(request))

        demo.unload(forget)

        def choose_model(spec: str):
            if spec:
                try:
                    service.answerer(spec)  # load now, in the model lane, so the next question is quick
                except ServiceError as exc:
                    gr.Warning(exc.message)
            return status_html(service)

        model.change(choose_model, [model], [status], concurrency_limit=RUN_WORKERS, concurrency_id="answer", **private)

        def show_document(name: str | None, request: gr.Request):
            return document_html(service, name), gr.update(interactive=bool(name) and access.may_change_documents(_user(request)))

        doc_pick.change(show_document, [doc_pick], [viewer, remove], **private)

        # Removal rebuilds the index without the document (the chat answers from the previous index
        # meanwhile); the file is kept under the index folder's removed/.
        def remove_document(name: str | None, request: gr.Request):
            if not name:
                return gr.update(), gr.update(), gr.update(), gr.update()
            if not access.may_change_documents(_user(request)):
                return removal_html([], name, "删除文档需要以 admin 身份、用管理员密钥登录"), gr.update(), gr.update(), gr.update()
            try:
                removed, rejected = service.remove_documents([name], _who(request))
            except ServiceError as exc:
                return removal_html([], name, exc.message), gr.update(), gr.update(), gr.update()
            if not removed:
                return (removal_html([], name, rejected[0].reason if rejected else "没有这篇文档"),
                        gr.update(), gr.update(), gr.update())
            return (removal_html(removed, name, None, len(service.engine.index.documents)), status_html(service),
                    gr.update(choices=document_choices(service), value=None), EMPTY_VIEWER)

        remove.click(remove_document, [doc_pick], [remove_msg, status, doc_pick, viewer], js=CONFIRM_REMOVE_JS,
                     concurrency_limit=1, concurrency_id="index", show_progress="full", **private)

        # An upload is a background job (qa/serve/uploads.py): this generator only polls it, so the
        # progress bar moves while the chat keeps answering from the previous index.
        def add_uploads(paths, replace: bool, request: gr.Request):
            files = [(Path(p).name, Path(p).read_bytes()) for p in paths or []]
            if not files:
                yield "", gr.update(), gr.update(), gr.update(), None, gr.update(visible=False)
                return
            if not access.may_change_documents(_user(request)):
                n = len(service.engine.index.documents)
                yield (render_upload_result([], [], n, n, "上传文档需要以 admin 身份、用管理员密钥登录"), gr.update(), gr.update(),
                       None, None, gr.update(visible=False))
                return
            try:
                job = service.start_upload(files, _who(request), replace=bool(replace), client=_who(request))
            except ServiceError as exc:   # too many uploads of this user, or of everyone, at once
                n = len(service.engine.index.documents)
                yield (render_upload_result([], [], n, n, exc.message), gr.update(), gr.update(), None, None,
                       gr.update(visible=False))
                return
            while not job.done:
                yield render_upload_progress(job), gr.update(), gr.update(), gr.update(), job.id, gr.update(visible=True)
                time.sleep(UPLOAD_POLL_S)
                job = service.upload_job(job.id)
            yield (upload_html(upload_result(job)), status_html(service), gr.update(choices=document_choices(service)),
                   None, None, gr.update(visible=False))

        upload.upload(add_uploads, [upload, replace_same], [upload_msg, status, doc_pick, upload, upload_job, upload_cancel],
                      concurrency_limit=4, concurrency_id="index", api_name="upload", show_progress="hidden")

        def cancel_upload(job_id: str | None):
            if job_id:
                try:
                    service.cancel_upload(job_id)
                except ServiceError as exc:
                    gr.Warning(exc.message)

        upload_cancel.click(cancel_upload, [upload_job], None, queue=False, **private)

        def refresh():
            return status_html(service), gr.update(choices=document_choices(service))

        demo.load(refresh, None, [status, doc_pick], **private)

    demo.queue(max_size=64, default_concurrency_limit=4)
    return demo


def launch(demo: gr.Blocks, host: str = "127.0.0.1", port: int = 7860, *, block: bool = True, quiet: bool = False):
    """Start the server with the page's theme, CSS and script (Gradio 6 takes these in launch), its
    Host/Origin checks and Chinese labels (PageGuard), and a login when keys are set (PageAccess);
    beyond the loopback only with a key."""
    st = demo.qa_service.settings
    refusal = bind_refusal(host, st.api_key, st.admin_key)
    if refusal:
        raise ServiceError("key_required", refusal, 400)
    policy = Policy.of(st.api_key, st.admin_key, st.allowed_hosts, st.allowed_origins, host)
    from starlette.middleware import Middleware

    return demo.launch(
        server_name=host, server_port=port, prevent_thread_lock=not block, quiet=quiet,
        share=False, ssr_mode=False, mcp_server=False, pwa=False, show_error=True,
        footer_links=["api", "settings"], max_file_size="20mb",
        theme=make_theme(), css=CSS, js=PAGE_JS,
        auth=demo.qa_access.login if policy.keyed else None,
        auth_message="请输入访问密钥（用户名任意；上传和删除文档请用 admin 和管理员密钥）" if policy.keyed else None,
        app_kwargs={"middleware": [Middleware(PageGuard, policy=policy)]},
    )


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python app.py", description=f"{TITLE}（网页界面，离线）")
    p.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"), help="监听地址（默认 127.0.0.1）")
    p.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), help="端口（默认 7860）")
    p.add_argument("--docs", help="文档目录（默认 seeds/）")
    p.add_argument("--model", help="1.5b | 0.5b | extractive | 本地模型目录或 .gguf 文件（默认 1.5b）")
    p.add_argument("--index-dir", help="索引目录（默认在缓存目录下）")
    p.add_argument("-k", "--top-k", type=int, dest="top_k", help="检索段落数（默认 5）")
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    settings = Settings.load(docs_dir=args.docs, index_dir=args.index_dir, llm=args.model, top_k=args.top_k)
    refusal = bind_refusal(args.host, settings.api_key, settings.admin_key)
    if refusal:  # before the index and the model are loaded
        print(refusal, file=sys.stderr)
        return 2
    print(f"正在打开索引（{settings.docs_dir}）并加载模型 {settings.llm} …", file=sys.stderr, flush=True)
    demo = build_app(settings)
    print(f"页面地址：http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    launch(demo, args.host, args.port, block=False)
    try:
        while demo.is_running:
            time.sleep(0.1)
    except KeyboardInterrupt:
        # Ctrl-C: running answers stop at their next token, the server gets a second to close its
        # connections (Gradio would wait 5 s for open event streams, and the interpreter for the
        # generation threads), then the process ends. Nothing is lost by not waiting: answering
        # writes nothing, and an upload being indexed is staged outside the documents folder and
        # switched in atomically (qa/retrieval/engine.py), so a stopped one leaves both as they were.
        t0 = time.perf_counter()
        print("正在停止…", file=sys.stderr, flush=True)
        demo.qa_service.stop_all()
        closer = threading.Thread(target=demo.close, kwargs={"verbose": False}, daemon=True)
        closer.start()
        closer.join(STOP_GRACE_S)
        print(f"已停止（{time.perf_counter() - t0:.1f} 秒）", file=sys.stderr, flush=True)
        logging.shutdown()
        os._exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
