"""政策文件问答助手 · 网页界面（Gradio，离线）.

    python app.py [--host H] [--port P] [--docs DIR] [--model 1.5b|0.5b|extractive|PATH] [--index-dir DIR] [-k N]

Layout: a chat on the left (streamed answers, clickable [n] citations, a sources list under each
answer), a document viewer on the right (the whole cleaned document, scrolled to a cited
paragraph), settings / index status / upload in the sidebar.

How a citation click works, with no round trip: every answer is rendered as one HTML block whose
sources are <details id="qa-t<turn>-c<n>"> elements; a [n] in the answer is <a class="qa-cite"
href="#qa-t<turn>-c<n>">, and a small page script (CITE_JS) opens and scrolls to that <details>.
Without the script the sources can still be opened by hand. "在文档中查看" links
(<a class="qa-open-doc" href="#para-<paragraph anchor>.<start>-<end>">) ask the server for the
document HTML through a gr.HTML server function, which bypasses the model queue, so the viewer
works while an answer is being generated.

The conversation logic is qa.serve.chat.ChatService (shared with the HTTP API, no Gradio); this file
only renders its turns as HTML and wires events. A question is first staged (shown at once as
waiting, no queue), then answered: model answers one at a time in the service's model lane,
extractive answers, document views and status in its fast lane, so they never wait behind a
generation; a full lane answers 「繁忙，请稍后再试」. Conversations are kept server-side per browser
session, which makes "ask while answering" and "清空对话 while answering" safe; Gradio API:
/stage(question) then /run(model, k).

Every piece of document, question and model text goes through html.escape before it reaches HTML:
documents and uploads are untrusted. The pure render_* functions below are what tests check.

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
import html  # noqa: E402
import logging  # noqa: E402
import re  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Iterable  # noqa: E402

import gradio as gr  # noqa: E402

from qa.serve.chat import AnswererFactory, ChatService, ServiceError, Turn, UploadResult, upload_result  # noqa: E402
from qa.verify.cite import REFUSAL  # noqa: E402
from qa.retrieval.engine import Engine  # noqa: E402
from qa.ingest.load import SUFFIXES, LoadWarning  # noqa: E402
from qa.schema import Answer, Citation, Document, Passage  # noqa: E402
from qa.ingest.sections import reading_order  # noqa: E402
from qa.serve.service import load_answerer  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.answering.suggest import example_questions, followup_demo  # noqa: E402
from qa.serve.uploads import STATE_TEXT, UploadJob  # noqa: E402

log = logging.getLogger("qa.app")

TITLE = "政策文件问答助手"
# Example questions and the follow-up demo are made from the loaded documents (qa/answering/suggest.py).
MODEL_CHOICES = [
    ("Qwen2.5 1.5B（默认，较准确）", "1.5b"),
    ("Qwen2.5 0.5B（较快）", "0.5b"),
    ("摘录模式（不用模型，直接摘录原文）", "extractive"),
]
MAX_TOP_K = 10
# Gradio worker threads for answers: the service's lanes decide what runs (one generation at a
# time, several extractive answers); this only has to exceed the model lane's queue so that
# questions waiting for the model never occupy every thread.
RUN_WORKERS = 32


# --------------------------------------------------------------------------------------------
# Pure presentation helpers (strings in, HTML out; every untrusted string is escaped here)
# --------------------------------------------------------------------------------------------

def esc(text: object) -> str:
    """html.escape, plus line breaks as <br> (no raw newline reaches the chat's Markdown)."""
    return html.escape(str(text), quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def para_anchor(para_id: str) -> str:
    """A DOM id for a paragraph id ("000_x.txt#6" → "para-000_x-2e-txt-23-6"), reversible and
    made of [A-Za-z0-9_-] only, so it is safe in an id, in a #fragment and in a CSS selector."""
    return "para-" + re.sub(r"[^A-Za-z0-9_]", lambda m: f"-{ord(m.group()):x}-", para_id)


def anchor_para(anchor: str) -> str | None:
    """Inverse of para_anchor; None for anything that is not one."""
    if not isinstance(anchor, str) or not anchor.startswith("para-"):
        return None
    body = anchor[len("para-"):]
    if not re.fullmatch(r"(?:[A-Za-z0-9_]|-[0-9a-f]{1,6}-)*", body):
        return None
    try:
        return re.sub(r"-([0-9a-f]{1,6})-", lambda m: chr(int(m.group(1), 16)), body)
    except (ValueError, OverflowError):
        return None


def cite_id(turn: int, n: int) -> str:
    return f"qa-t{turn}-c{n}"


def highlight(text: str, span: tuple[int, int] | None) -> str:
    """The paragraph, escaped, with text[span] in <mark>."""
    if not span or not (0 <= span[0] < span[1] <= len(text)):
        return esc(text)
    s, e = span
    return f"{esc(text[:s])}<mark>{esc(text[s:e])}</mark>{esc(text[e:])}"


def doc_ref(para_id: str, span: tuple[int, int] | None = None) -> str:
    """What a "在文档中查看" link carries: the paragraph anchor, optionally ".start-end" of the
    sentence to highlight ('.' never occurs in an anchor)."""
    ref = para_anchor(para_id)
    return f"{ref}.{int(span[0])}-{int(span[1])}" if span else ref


def parse_doc_ref(ref: str) -> tuple[str | None, tuple[int, int] | None]:
    anchor, _, rest = (ref or "").partition(".")
    m = re.fullmatch(r"(\d{1,7})-(\d{1,7})", rest)
    return anchor_para(anchor), ((int(m.group(1)), int(m.group(2))) if m else None)


def open_doc_link(para_id: str, label: str = "在文档中查看全文 →", span: tuple[int, int] | None = None) -> str:
    return (f'<a class="qa-open-doc" href="#{doc_ref(para_id, span)}" title="在右侧文档查看器中打开">'
            f'{esc(label)}</a>')


def render_citation(c: Citation, turn: int) -> str:
    """One source under an answer: [n], document and section path, the whole paragraph with the
    supporting sentence in <mark>, and a link to the document viewer."""
    section = c.section or "（正文）"
    lines = f"第 {c.lines[0]}–{c.lines[1]} 行" if c.lines else ""
    lines = f"第{c.page}页 · {lines}" if c.page else lines
    lines = f"{lines} · OCR 识别，请核对原文" if c.ocr else lines
    return (
        f'<details class="qa-source" id="{cite_id(turn, c.n)}">'
        f'<summary><span class="qa-n">[{c.n}]</span> <span class="qa-src-title">《{esc(c.title)}》</span>'
        f' <span class="qa-src-section">{esc(section)}</span></summary>'
        f'<div class="qa-src-body">'
        f'<div class="qa-src-meta">文档：<span class="qa-docname">{esc(c.doc)}</span>'
        f' · 章节：<span class="qa-section">{esc(section)}</span> · {lines}</div>'
        f'<blockquote class="qa-para">{highlight(c.text, c.span)}</blockquote>'
        f'{open_doc_link(c.para, span=c.span)}</div></details>'
    )


def render_passage(p: Passage) -> str:
    """A retrieved passage (evidence, or a place to look after a refusal)."""
    section = p.para.section_path or "（正文）"
    return (
        f'<div class="qa-passage"><div class="qa-passage-head"><span class="qa-n">[{p.n}]</span>'
        f' 《{esc(p.para.title)}》 · {esc(section)} · <span class="qa-docname">{esc(p.para.doc)}</span></div>'
        f'<div class="qa-passage-text">{esc(p.text)}</div>{open_doc_link(p.para.id, "在文档中查看 →", (p.start, p.end))}</div>'
    )


def render_evidence(passages: list[Passage], open_: bool) -> str:
    items = "".join(render_passage(p) for p in passages) or '<div class="qa-empty">没有检索到段落。</div>'
    return (f'<details class="qa-evidence"{" open" if open_ else ""}><summary>检索到的依据（{len(passages)} 段）'
            f'</summary>{items}</details>')


def render_answer_text(text: str, citations: list[Citation], turn: int,
                       unsupported: Iterable[str] = ()) -> str:
    """The answer, escaped, with each known [n] as a citation link and unverified sentences marked."""
    out = esc(text)
    for claim in unsupported:
        c = esc(claim)
        if c and c in out:
            out = out.replace(c, f'<span class="qa-unsupported" title="文档中未找到依据">{c}</span>', 1)
    known = {c.n for c in citations}

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in known:
            return m.group(0)
        return f'<a class="qa-cite" href="#{cite_id(turn, n)}" title="查看出处 [{n}]">[{n}]</a>'

    return re.sub(r"\[(\d{1,2})\]", link, out)


def _notices(notices: list[str]) -> str:
    return "".join(f'<div class="qa-notice">提示：{esc(n)}</div>' for n in notices)


def _rewrite(standalone: str | None) -> str:
    if not standalone:
        return ""
    return f'<div class="qa-rewrite">按独立问题检索：<span class="qa-rewrite-q">{esc(standalone)}</span></div>'


def render_answer(ans: Answer, turn: int) -> str:
    """The final assistant message: answer with clickable citations and its sources list, or a
    clear refusal with the closest passages; notices, repairs and timing below."""
    parts = [f'<div class="qa-turn qa-final" id="qa-turn-{turn}">', _notices(ans.notices), _rewrite(ans.standalone)]
    if ans.abstained:
        title = ans.text or REFUSAL
        parts.append(f'<div class="qa-refusal"><div class="qa-refusal-title">{esc(title)}</div>')
        if ans.passages:
            parts.append('<div class="qa-refusal-hint">可以查看这些最接近的段落：</div>')
            parts.append("".join(render_passage(p) for p in ans.passages))
        parts.append("</div>")
    else:
        unsupported = [c.text for c in ans.claims if not c.supported]
        parts.append(f'<div class="qa-answer-text">{render_answer_text(ans.text, ans.citations, turn, unsupported)}</div>')
        if ans.citations:
            parts.append('<div class="qa-sources"><div class="qa-sources-title">出处（点击展开原文段落）</div>')
            parts.append("".join(render_citation(c, turn) for c in ans.citations))
            parts.append("</div>")
        if ans.passages:
            parts.append(render_evidence(ans.passages, open_=False))
    if ans.repairs:
        items = "".join(f"<li>{esc(r)}</li>" for r in ans.repairs)
        parts.append(f'<details class="qa-checks"><summary>引用核查（{len(ans.repairs)} 条）</summary><ul>{items}</ul></details>')
    meta = [f"模型：{esc(ans.model)}"] if ans.model else []
    if "total" in ans.latency:
        meta.append(f"用时 {ans.latency['total']:.1f} 秒")
    parts.append(f'<div class="qa-meta">{" · ".join(meta)}</div></div>')
    return "".join(parts)


def render_progress(turn: int, status: str, standalone: str | None = None,
                    passages: list[Passage] | None = None, partial: str = "") -> str:
    """A turn while it is being answered: status, rewrite, streamed text so far, evidence."""
    parts = [f'<div class="qa-turn qa-pending" id="qa-turn-{turn}">', _rewrite(standalone),
             f'<div class="qa-status"><span class="qa-spinner"></span>{esc(status)}</div>']
    if partial:
        parts.append(f'<div class="qa-answer-text qa-streaming">{esc(partial)}<span class="qa-caret">▍</span></div>')
    if passages is not None:
        parts.append(render_evidence(passages, open_=not partial))
    parts.append("</div>")
    return "".join(parts)


def render_error(turn: int, message: str) -> str:
    return (f'<div class="qa-turn qa-final qa-error-turn" id="qa-turn-{turn}"><div class="qa-error">'
            f'出错了：{esc(message)}</div></div>')


def render_question(question: str) -> str:
    return f'<div class="qa-q">{esc(question)}</div>'


def _heading_depths(items: list[tuple[str, str, object]]) -> list[int]:
    """Depth of each heading item: its position in the section path of the paragraph that follows."""
    depths = [0] * len(items)
    following: tuple[str, ...] = ()
    for i in range(len(items) - 1, -1, -1):
        kind, text, para = items[i]
        if kind == "para" and para is not None and getattr(para, "kind", "body") == "body":
            following = para.section
        elif kind == "heading":
            depths[i] = following.index(text) if text in following else 0
    return depths


def render_document(doc: Document, focus: str | None = None, span: tuple[int, int] | None = None) -> str:
    """The whole cleaned document in reading order; every paragraph has an anchor id
    (para_anchor(paragraph.id)); the focused paragraph is highlighted, and text[span] of it marked."""
    items = reading_order(doc)
    depths = _heading_depths(items)
    body = []
    for (kind, text, para), depth in zip(items, depths):
        if kind == "heading":
            level = min(depth, 3)
            body.append(f'<div class="qa-h qa-h{level}">{esc(text)}</div>')
            continue
        classes = ["qa-p"]
        if para is not None and para.kind == "meta":
            classes.append("qa-p-meta")
        if para is not None and para.id == focus:
            classes.append("qa-focus")
        pid = para.id if para is not None else ""
        shown = highlight(text, span) if pid == focus else esc(text)
        body.append(f'<p id="{para_anchor(pid)}" class="{" ".join(classes)}" data-para="{esc(pid)}">{shown}</p>')
    n_paras = len(doc.paragraphs)
    return (
        f'<div class="qa-doc-view"><div class="qa-doc-head"><div class="qa-doc-title">{esc(doc.title)}</div>'
        f'<div class="qa-doc-name">{esc(doc.name)} · {n_paras} 个段落</div></div>'
        f'<div class="qa-doc-body">{"".join(body)}</div></div>'
    )


EMPTY_VIEWER = ('<div class="qa-doc-view qa-doc-placeholder"><div class="qa-doc-empty">点击回答中的引用 [n] 或'
                '「在文档中查看」，这里会打开整篇文档并定位到被引用的段落；也可以在上方选择文档浏览。</div></div>')


def render_status(stats: dict, warnings: list[LoadWarning], models: dict[str, str] | None = None) -> str:
    """Index status: documents, paragraphs, chunks, build time; skipped files; loaded models."""
    rows = [
        f'<div class="qa-stat"><b>{stats.get("documents", 0)}</b> 篇文档 · <b>{stats.get("paragraphs", 0)}</b>'
        f' 个段落 · <b>{stats.get("chunks", 0)}</b> 个块</div>',
        f'<div class="qa-stat-sub">索引构建于 {esc(stats.get("built_at") or "未知")}</div>',
    ]
    if warnings:
        items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
        rows.append(f'<div class="qa-warnings">有 {len(warnings)} 个文件未能加入索引：<ul>{items}</ul></div>')
    for spec, note in (models or {}).items():
        rows.append(f'<div class="qa-stat-sub">模型 {esc(spec)}：{esc(note)}</div>')
    return f'<div class="qa-status-box">{"".join(rows)}</div>'


def render_upload_result(accepted: list[str], rejected: list[LoadWarning], before: int, after: int,
                         error: str | None = None) -> str:
    parts = []
    if error:
        parts.append(f'<div class="qa-upload-bad">上传失败，索引保持不变：{esc(error)}</div>')
    if accepted:
        names = "、".join(esc(n) for n in accepted)
        parts.append(f'<div class="qa-upload-ok">已加入索引：{names}（文档数 {before} → {after}）</div>')
    for w in rejected:
        parts.append(f'<div class="qa-upload-bad">未加入 {esc(w.name)}：{esc(w.reason)}</div>')
    if rejected and not accepted and not error:
        parts.append(f'<div class="qa-upload-note">索引未改变（仍为 {after} 篇文档）。</div>')
    return "".join(parts)


def render_upload_progress(job: UploadJob) -> str:
    """A running upload: a bar, what it is doing, and the counts (files, paragraphs, embedded)."""
    pct = round(100 * job.fraction)
    counts = [f"文件 {job.files_done}/{len(job.files)}"]
    if job.paragraphs:
        counts.append(f"{job.paragraphs} 个段落，{job.chunks} 个块")
    if job.to_embed:
        counts.append(f"向量化 {job.embedded}/{job.to_embed}")
    names = "、".join(esc(n) for n in job.files)
    return (f'<div class="qa-upload-progress"><div class="qa-upload-names">{names}：{esc(STATE_TEXT.get(job.state, job.state))}'
            f'</div><div class="qa-bar" role="progressbar" aria-valuenow="{pct}" aria-valuemin="0" aria-valuemax="100">'
            f'<span style="width:{pct}%"></span></div><div class="qa-upload-step">{esc(job.message)}</div>'
            f'<div class="qa-upload-note">{esc(" · ".join(counts))}；建索引期间仍可提问（使用原有索引）。</div></div>')


# --------------------------------------------------------------------------------------------
# The page's backend: one engine, the answerers, the conversation logic (no Gradio objects)
# --------------------------------------------------------------------------------------------

def render_turn(turn: Turn, i: int) -> str:
    """The assistant message of conversation turn i, as it stands."""
    if turn.error is not None:
        return render_error(i, turn.error)
    if turn.final is not None:
        return render_answer(turn.final, i)
    return render_progress(i, turn.status, turn.standalone, turn.passages, turn.partial)


def to_messages(turns: list[Turn]) -> list[dict]:
    out: list[dict] = []
    for i, t in enumerate(turns):
        out.append({"role": "user", "content": render_question(t.question)})
        out.append({"role": "assistant", "content": render_turn(t, i)})
    return out


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "local"


def _model_label(spec: str) -> str:
    for label, value in MODEL_CHOICES:
        if value == spec:
            return label
    return f"自定义模型：{Path(spec).name or spec}"


def status_html(service: ChatService) -> str:
    st = service.status()
    return render_status(st["stats"], st["warnings"], st["models"])


def document_html(service: ChatService, name: str | None, focus: str | None = None,
                  span: tuple[int, int] | None = None) -> str:
    doc = service.document(name)
    return render_document(doc, focus, span) if doc is not None else EMPTY_VIEWER


def open_paragraph_html(service: ChatService, ref: str) -> str:
    """The document HTML for a "在文档中查看" link (doc_ref), focused on its paragraph."""
    para_id, span = parse_doc_ref(ref)
    para = service.paragraph(para_id)
    if para is None:
        return '<div class="qa-doc-view"><div class="qa-doc-empty">找不到这个段落（文档可能已更新）。</div></div>'
    return document_html(service, para.doc, para.id, span)


def document_choices(service: ChatService) -> list[tuple[str, str]]:
    return [(f"{d.title}（{name}）", name) for name, d in sorted(service.documents().items())]


def upload_html(result: UploadResult) -> str:
    return render_upload_result(result.accepted, result.rejected, result.before, result.after, result.error)


# --------------------------------------------------------------------------------------------
# Page assembly
# --------------------------------------------------------------------------------------------

FONT = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei",
        "WenQuanYi Micro Hei", "system-ui", "sans-serif"]
FONT_MONO = ["Noto Sans Mono CJK SC", "DejaVu Sans Mono", "Menlo", "Consolas", "monospace"]


def make_theme() -> gr.themes.Base:
    # Plain strings are system fonts: nothing is fetched (a GoogleFont would load from Google).
    return gr.themes.Default(primary_hue="blue", neutral_hue="slate", font=FONT, font_mono=FONT_MONO)


CSS = """
.gradio-container { max-width: 1500px !important; }
#qa-title h1 { margin-bottom: 0; }
#qa-title p { margin-top: 2px; color: var(--body-text-color-subdued); }
.qa-q { white-space: pre-wrap; }
.qa-turn { line-height: 1.7; }
.qa-status { color: var(--body-text-color-subdued); font-size: .92em; margin: 2px 0 6px; }
.qa-spinner { display: inline-block; width: .8em; height: .8em; margin-right: .45em; vertical-align: -1px;
  border: 2px solid var(--color-accent); border-right-color: transparent; border-radius: 50%;
  animation: qa-spin .8s linear infinite; }
@keyframes qa-spin { to { transform: rotate(360deg); } }
.qa-caret { animation: qa-blink 1s step-end infinite; color: var(--color-accent); }
@keyframes qa-blink { 50% { opacity: 0; } }
.qa-rewrite { font-size: .9em; color: var(--body-text-color-subdued); border-left: 3px solid var(--color-accent);
  padding-left: 8px; margin-bottom: 6px; }
.qa-rewrite-q { color: var(--body-text-color); font-weight: 600; }
.qa-notice { font-size: .88em; background: #eff6ff; color: #1e3a8a; border-radius: 6px; padding: 4px 8px; margin-bottom: 6px; }
.qa-answer-text { font-size: 1.02em; }
.qa-unsupported { text-decoration: underline dotted #b45309; }
a.qa-cite { display: inline-block; font-size: .78em; line-height: 1; vertical-align: super; margin: 0 1px;
  padding: 1px 3px; border-radius: 4px; background: #dbeafe; color: #1d4ed8 !important; text-decoration: none !important;
  font-weight: 700; cursor: pointer; }
a.qa-cite:hover { background: #1d4ed8; color: #fff !important; }
.qa-sources { margin-top: 10px; border-top: 1px dashed var(--border-color-primary); padding-top: 6px; }
.qa-sources-title { font-size: .85em; color: var(--body-text-color-subdued); margin-bottom: 4px; }
details.qa-source, details.qa-evidence, details.qa-checks { border: 1px solid var(--border-color-primary);
  border-radius: 8px; padding: 4px 10px; margin: 6px 0; background: var(--background-fill-primary); }
details.qa-source > summary, details.qa-evidence > summary, details.qa-checks > summary { cursor: pointer; font-size: .92em; }
.qa-src-title { font-weight: 600; }
.qa-src-section, .qa-docname { color: var(--body-text-color-subdued); }
.qa-src-meta { font-size: .82em; color: var(--body-text-color-subdued); margin-top: 4px; }
blockquote.qa-para { position: relative; max-height: 11.5em; overflow-y: auto; margin: 6px 0; padding: 6px 10px;
  border-left: 3px solid #f59e0b; background: var(--background-fill-secondary); font-size: .95em; }
.qa-turn mark, .qa-doc-view mark { background: #fde68a; color: #1f2937; padding: 0 1px; border-radius: 2px; }
details.qa-source.qa-flash { box-shadow: 0 0 0 3px #f59e0b; }
.qa-passage { border-top: 1px solid var(--border-color-primary); padding: 6px 0; font-size: .92em; }
.qa-passage:first-of-type { border-top: none; }
.qa-passage-head { font-size: .88em; color: var(--body-text-color-subdued); }
.qa-n { font-weight: 700; color: #1d4ed8; }
a.qa-open-doc { font-size: .85em; text-decoration: none; color: var(--color-accent); }
.qa-refusal { border: 1px solid #f59e0b; background: #fffbeb; color: #78350f; border-radius: 8px; padding: 8px 12px; }
.qa-refusal-title { font-weight: 700; font-size: 1.05em; }
.qa-refusal-title::before { content: "⚠ "; }
.qa-refusal-hint { font-size: .9em; margin: 4px 0; }
.qa-refusal .qa-passage-text, .qa-refusal .qa-passage-head { color: #78350f; }
.qa-error { border: 1px solid #ef4444; background: #fef2f2; color: #991b1b; border-radius: 8px; padding: 6px 10px; }
.qa-meta { font-size: .78em; color: var(--body-text-color-subdued); margin-top: 6px; }
#qa-viewer .qa-doc-head { border-bottom: 1px solid var(--border-color-primary); padding-bottom: 6px; margin-bottom: 6px; }
.qa-doc-title { font-weight: 700; font-size: 1.1em; }
.qa-doc-name { font-size: .82em; color: var(--body-text-color-subdued); }
.qa-doc-body { position: relative; max-height: 68vh; overflow-y: auto; padding-right: 6px; }
.qa-doc-body .qa-h { font-weight: 700; margin: .9em 0 .35em; }
.qa-doc-body .qa-h0 { font-size: 1.05em; }
.qa-doc-body .qa-h2, .qa-doc-body .qa-h3 { font-weight: 600; }
.qa-doc-body p.qa-p { margin: 0 0 .7em; line-height: 1.8; text-indent: 2em; }
.qa-doc-body p.qa-p-meta { text-indent: 0; font-size: .9em; background: var(--background-fill-secondary);
  padding: 6px 10px; border-radius: 6px; }
.qa-doc-body p.qa-focus { background: #fef3c7; color: #1f2937; outline: 2px solid #f59e0b; border-radius: 4px; }
.qa-doc-empty { color: var(--body-text-color-subdued); padding: 24px 8px; }
.qa-status-box { font-size: .9em; }
.qa-stat-sub { font-size: .85em; color: var(--body-text-color-subdued); }
.qa-warnings { color: #92400e; font-size: .85em; margin-top: 4px; }
.qa-warnings ul { margin: 2px 0 0 1.2em; padding: 0; }
.qa-upload-ok { color: #166534; font-size: .9em; }
.qa-upload-bad { color: #991b1b; font-size: .9em; }
.qa-upload-note { color: var(--body-text-color-subdued); font-size: .85em; }
.qa-upload-progress { font-size: .9em; }
.qa-bar { height: 8px; background: var(--background-fill-secondary); border-radius: 4px; overflow: hidden; margin: 4px 0; }
.qa-bar span { display: block; height: 100%; background: var(--color-accent); transition: width .4s; }
.qa-example-row button { font-size: .85em !important; }
"""

# Page script: a click on [n] opens that source (a <details>) in place, flashes it, and opens
# the cited paragraph in the document viewer. No server round trip for the source itself.
CITE_JS = """
() => {
  if (window.__qaCiteInit) return;
  window.__qaCiteInit = true;
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a.qa-cite') : null;
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const src = document.getElementById((a.getAttribute('href') || '').slice(1));
    if (!src) return;
    src.open = true;
    const quote = src.querySelector('blockquote.qa-para');
    const mark = quote && quote.querySelector('mark');
    if (mark) quote.scrollTop = Math.max(0, mark.offsetTop - 8);
    src.classList.add('qa-flash');
    setTimeout(() => src.classList.remove('qa-flash'), 1500);
    src.scrollIntoView({block: 'nearest', behavior: 'smooth'});
    const doc = src.querySelector('a.qa-open-doc');
    if (doc) doc.click();
  }, true);
}
"""

# Document viewer (gr.HTML js_on_load): "在文档中查看" links fetch the document through the
# open_paragraph server function and scroll the viewer to the highlighted paragraph.
VIEWER_JS = """
window.__qaDoc = {element: element, props: props, server: server};
if (!window.__qaDocInit) {
  window.__qaDocInit = true;
  const focus = (anchor, tries) => {
    const d = window.__qaDoc;
    const el = d.element.querySelector('p.qa-focus[id="' + anchor + '"]');
    if (!el) { if (tries > 0) setTimeout(() => focus(anchor, tries - 1), 50); return; }
    const body = el.closest('.qa-doc-body');
    const target = el.querySelector('mark') || el;
    if (body) body.scrollTop = Math.max(0, target.offsetTop - body.clientHeight / 3);
    d.element.scrollIntoView({block: 'nearest', behavior: 'smooth'});
  };
  document.addEventListener('click', async (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a.qa-open-doc') : null;
    if (!a) return;
    e.preventDefault();
    const ref = (a.getAttribute('href') || '').slice(1);
    const anchor = ref.split('.')[0];
    const d = window.__qaDoc;
    try {
      d.props.value = await d.server.open_paragraph(ref);
    } catch (err) {
      d.props.value = '<div class="qa-doc-view"><div class="qa-doc-empty">文档打开失败，请重试。</div></div>';
      return;
    }
    focus(anchor, 60);
  });
}
"""


UPLOAD_POLL_S = 0.5  # how often the page redraws a running upload's progress


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

    choices = list(MODEL_CHOICES)
    if settings.llm not in {v for _, v in choices}:
        choices.append((_model_label(settings.llm), settings.llm))

    documents = list(service.engine.index.documents.values())
    examples = example_questions(documents)
    # Follow-up demo: the second question only makes sense after the first (rewritten before retrieval).
    demo_pair = followup_demo(documents)

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        demo.qa_service = service  # for tests and the bench

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

        def show_document(name: str | None):
            return document_html(service, name)

        doc_pick.change(show_document, [doc_pick], [viewer], **private)

        # An upload is a background job (qa/serve/uploads.py): this generator only polls it, so the
        # progress bar moves while the chat keeps answering from the previous index.
        def add_uploads(paths):
            files = [(Path(p).name, Path(p).read_bytes()) for p in paths or []]
            if not files:
                yield "", gr.update(), gr.update(), gr.update(), None, gr.update(visible=False)
                return
            job = service.start_upload(files)
            while not job.done:
                yield render_upload_progress(job), gr.update(), gr.update(), gr.update(), job.id, gr.update(visible=True)
                time.sleep(UPLOAD_POLL_S)
                job = service.upload_job(job.id)
            yield (upload_html(upload_result(job)), status_html(service), gr.update(choices=document_choices(service)),
                   None, None, gr.update(visible=False))

        upload.upload(add_uploads, [upload], [upload_msg, status, doc_pick, upload, upload_job, upload_cancel],
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
    """Start the server with the page's theme, CSS and script (Gradio 6 takes these in launch)."""
    return demo.launch(
        server_name=host, server_port=port, prevent_thread_lock=not block, quiet=quiet,
        share=False, ssr_mode=False, mcp_server=False, pwa=False, show_error=True,
        footer_links=["api", "settings"], max_file_size="20mb",
        theme=make_theme(), css=CSS, js=CITE_JS,
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
    print(f"正在打开索引（{settings.docs_dir}）并加载模型 {settings.llm} …", file=sys.stderr, flush=True)
    demo = build_app(settings)
    print(f"页面地址：http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    launch(demo, args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
