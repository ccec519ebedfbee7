"""The chat page's HTML, without Gradio: strings in, HTML out (app.py lays the page out and wires events).

How a citation click works, with no round trip: every answer is rendered as one HTML block whose
sources are <details id="qa-t<turn>-c<n>"> elements; a [n] in the answer is <a class="qa-cite"
href="#qa-t<turn>-c<n>">, and the page script (page_assets/page.js) opens and scrolls to that
<details>. "在文档中查看" links (<a class="qa-open-doc" href="#para-<paragraph anchor>.<start>-<end>">)
ask the server for the document HTML (page_assets/viewer.js).

Every piece of document, question and model text goes through html.escape here before it reaches
HTML: documents and uploads are untrusted.
"""
from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Iterable

from qa.ingest.load import LoadWarning
from qa.ingest.sections import reading_order
from qa.schema import Answer, Citation, Document, Passage
from qa.serve.chat import ChatService, Turn, UploadResult
from qa.serve.uploads import STATE_TEXT, UploadJob
from qa.verify.claims import REFUSAL

ASSETS = Path(__file__).resolve().parent / "page_assets"


def asset(name: str) -> str:
    """A file of page_assets/ (CSS, page scripts) as text."""
    return (ASSETS / name).read_text(encoding="utf-8")



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
                         error: str | None = None, replaced: list[str] = ()) -> str:
    parts = []
    if error:
        parts.append(f'<div class="qa-upload-bad">上传失败，索引保持不变：{esc(error)}</div>')
    if accepted:
        names = "、".join(esc(n) for n in accepted)
        parts.append(f'<div class="qa-upload-ok">已加入索引：{names}（文档数 {before} → {after}）</div>')
    if replaced:
        names = "、".join(esc(n) for n in replaced)
        parts.append(f'<div class="qa-upload-note">已替换同名文档：{names}（旧文件在索引目录的 removed/ 下）</div>')
    for w in rejected:
        parts.append(f'<div class="qa-upload-bad">未加入 {esc(w.name)}：{esc(w.reason)}</div>')
    if rejected and not accepted and not error:
        parts.append(f'<div class="qa-upload-note">索引未改变（仍为 {after} 篇文档）。</div>')
    return "".join(parts)


def removal_html(removed: list[str], name: str, refusal: str | None, after: int = 0) -> str:
    """The outcome of 「删除此文档」: removed (and how many documents remain), or why not."""
    if refusal or not removed:
        return f'<div class="qa-upload-bad">未删除 {esc(name)}：{esc(refusal or "没有这篇文档")}</div>'
    names = "、".join(esc(n) for n in removed)
    return f'<div class="qa-upload-ok">已删除：{names}（索引现有 {after} 篇文档；文件在索引目录的 removed/ 下）</div>'


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
    return render_upload_result(result.accepted, result.rejected, result.before, result.after, result.error,
                                result.replaced)
