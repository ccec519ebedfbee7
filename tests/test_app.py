"""The chat page (app.py).

1. Pure rendering on real answers (extractive mode on the seeds): citations, escaping, document viewer.
2. Real browser (Debian's Chromium via Playwright) against a running server with the default 1.5B
   model: streamed answer, evidence before the answer, clickable citation, no request off the machine.
3. Four users at once through the queue; 4. uploads into a temp copy of the corpus; 5. `python app.py`.
"""
from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

import app
from qa.serve import page_html
from qa.answering.answer import Answerer
from qa.serve.chat import ChatService
from qa.verify.claims import REFUSAL
from qa.ingest.load import LoadWarning
from qa.settings import Settings
from qa.bench.server import free_port

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path(os.environ.get("QA_CHROMIUM", "/usr/bin/chromium"))
SUBSIDY_Q = "定西市驻村帮扶干部的生活补助是多少？"
# Generous: the machine has two shared cores; a 1.5B answer is ~3-5 s when quiet, far more when not.
ANSWER_TIMEOUT_S = 900

# Gradio's queue statistics call a pandas API that pandas 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")

needs_browser = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason=f"{CHROMIUM} 不存在：apt-get install -y chromium fonts-noto-cjk（.ci/run 会自动安装）",
)


# ---------------------------------------------------------------------------------------------
# 1. Pure rendering
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def extractive(seed_engine):
    return Answerer(seed_engine, None)


@pytest.fixture(scope="module")
def subsidy(extractive):
    ans = extractive.answer(SUBSIDY_Q)
    assert not ans.abstained and ans.citations
    return ans


def test_citation_html_highlights_supporting_sentence(subsidy):
    c = subsidy.citations[0]
    h = page_html.render_citation(c, 2)
    marked = re.findall(r"<mark>(.*?)</mark>", h)
    assert marked == [html.escape(c.quote)] and "每人每天100元" in marked[0]
    # the whole paragraph, its document name and section path are shown
    plain = re.sub(r"<[^>]+>", "", h)
    assert html.escape(c.text) in plain
    assert c.doc in h and html.escape(c.section) in h
    assert f'<details class="qa-source" id="{page_html.cite_id(2, c.n)}"' in h
    assert f'href="#{page_html.para_anchor(c.para)}.' in h  # the document-viewer link, with the sentence span


def test_answer_html_links_each_citation_to_its_source(subsidy):
    h = page_html.render_answer(subsidy, 3)
    for c in subsidy.citations:
        assert f'<a class="qa-cite" href="#{page_html.cite_id(3, c.n)}"' in h
        assert f'id="{page_html.cite_id(3, c.n)}"' in h
    assert "qa-final" in h and "100元" in h
    assert "\n" not in h  # one HTML block: the chat's Markdown never sees a line break


def test_refusal_is_clear_and_offers_closest_passages(extractive):
    ans = extractive.answer("今天北京的天气怎么样？")
    assert ans.abstained and ans.passages
    h = page_html.render_answer(ans, 0)
    assert 'class="qa-refusal"' in h and REFUSAL in h and "qa-cite" not in h
    for p in ans.passages:
        assert html.escape(p.text) in h and f'href="#{page_html.para_anchor(p.para.id)}.' in h


def test_hostile_document_text_is_escaped(subsidy, seed_engine):
    evil = "<script>alert(1)</script>"
    c = dataclasses.replace(subsidy.citations[0], text=f"{evil}每人每天100元。", span=(len(evil), len(evil) + 9),
                            title='"><img src=x onerror=alert(1)>', section="<b>章节</b>", doc="<i>x</i>.txt")
    h = page_html.render_citation(c, 0)
    assert "<script" not in h and "<img" not in h and "<b>" not in h and "<i>" not in h
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in h and "<mark>每人每天100元。</mark>" in h

    ans = dataclasses.replace(subsidy, text=f"{evil}补助是100元[1]。", citations=[c], passages=[], repairs=[evil],
                              notices=[evil], standalone=evil)
    h = page_html.render_answer(ans, 0)
    assert "<script" not in h and "<img" not in h and h.count("&lt;script&gt;") == 5
    assert page_html.render_question(evil) == '<div class="qa-q">&lt;script&gt;alert(1)&lt;/script&gt;</div>'

    doc = seed_engine.index.documents[subsidy.citations[0].doc]
    para = dataclasses.replace(doc.paragraphs[1], text=evil + "${alert(2)}")
    bad_doc = dataclasses.replace(doc, title=evil, name="<x>.txt", paragraphs=(doc.paragraphs[0], para))
    h = page_html.render_document(bad_doc, focus=para.id)
    assert "<script" not in h and "<x>" not in h and "&lt;script&gt;" in h
    h = page_html.render_status({"documents": 1}, [LoadWarning(evil, evil)])
    assert "<script" not in h
    h = page_html.render_upload_result([evil], [LoadWarning(evil, evil)], 1, 2)
    assert "<script" not in h


def test_document_viewer_has_an_anchor_per_paragraph(subsidy, seed_engine):
    c = subsidy.citations[0]
    doc = seed_engine.index.documents[c.doc]
    h = page_html.render_document(doc, focus=c.para, span=c.span)
    ids = re.findall(r'<p id="([^"]+)"', h)
    assert ids == [page_html.para_anchor(p.id) for p in doc.paragraphs]
    focused = re.findall(r'<p id="([^"]+)" class="[^"]*qa-focus[^"]*"[^>]*>(.*?)</p>', h)
    assert len(focused) == 1 and focused[0][0] == page_html.para_anchor(c.para)
    assert f"<mark>{html.escape(c.quote)}</mark>" in focused[0][1]
    for heading in doc.paragraphs[-1].section:  # headings are shown where their sections start
        assert html.escape(heading) in h
    # the viewer link of a citation resolves back to the same paragraph and sentence
    assert page_html.parse_doc_ref(page_html.doc_ref(c.para, c.span)) == (c.para, c.span)


def test_paragraph_anchor_round_trip(seed_engine):
    ids = list(seed_engine.index.paragraphs) + ["a b#1", "政策 文件.md#12", "x-y.z.txt#3", "-2d-#0", "e\u0301.md#1"]
    for pid in ids:
        a = page_html.para_anchor(pid)
        assert re.fullmatch(r"para-[A-Za-z0-9_-]+", a), a
        assert page_html.anchor_para(a) == pid
    for bad in ("para-<script>", "x-1", "para-a.b", "", "para--zz-"):
        assert page_html.anchor_para(bad) is None


def _html(turns) -> str:
    return page_html.render_turn(turns[-1], len(turns) - 1)


def test_chat_service_streams_evidence_before_the_answer(seed_settings, seed_engine):
    svc = ChatService(seed_settings, seed_engine, lambda eng, spec: Answerer(eng, None))
    svc.ask("s1", SUBSIDY_Q)
    steps = list(svc.answer_next("s1", "extractive", 5))
    htmls = [_html(s) for s in steps]
    first_evidence = next(i for i, h in enumerate(htmls) if "qa-evidence" in h)
    final = next(i for i, h in enumerate(htmls) if "qa-final" in h)
    assert first_evidence < final == len(htmls) - 1
    assert "100元" in steps[-1][-1].answer and 'class="qa-cite"' in htmls[-1]
    # follow-up: the history is passed and the standalone rewrite shown
    svc.ask("s1", "那陇南市呢？")
    last = list(svc.answer_next("s1", "extractive", 5))[-1]
    assert "qa-rewrite" in _html(last) and "陇南" in _html(last)
    assert len(last) == 2 and page_html.render_turn(last[0], 0) == htmls[-1]
    assert svc.turns("s2") == []  # sessions are separate


def test_clearing_stops_a_running_answer(seed_settings, seed_engine):
    svc = ChatService(seed_settings, seed_engine, lambda eng, spec: Answerer(eng, None))
    svc.ask("s", SUBSIDY_Q)
    run = svc.answer_next("s", "extractive", 5)
    first = next(run)
    assert first[-1].answer is None
    svc.clear("s")
    assert list(run) == [[]] and svc.turns("s") == []  # ends showing the cleared chat, nothing written back
    svc.ask("s", "扎赉特旗那篇文章的作者是谁？")  # and the next question is answered normally
    assert "張文東" in list(svc.answer_next("s", "extractive", 5))[-1][-1].answer


# ---------------------------------------------------------------------------------------------
# Servers and browser
# ---------------------------------------------------------------------------------------------

_NET = {"on": False, "external": []}


def _audit(event: str, args: tuple) -> None:
    """Python-side network guard: any connection or name lookup off the loopback is recorded."""
    if not _NET["on"]:
        return
    if event == "socket.connect" and isinstance(args[1], tuple) and args[1]:
        host = str(args[1][0])
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            _NET["external"].append(f"connect {args[1]}")
    elif event == "socket.getaddrinfo" and args[0] not in (None, "localhost", "127.0.0.1", "::1", b"localhost"):
        _NET["external"].append(f"resolve {args[0]}")


@pytest.fixture(scope="module")
def network_guard():
    if not getattr(sys, "_qa_app_audit", False):
        sys.addaudithook(_audit)
        sys._qa_app_audit = True
    _NET["external"].clear()
    _NET["on"] = True
    yield _NET["external"]
    _NET["on"] = False


@contextmanager
def _serve(demo):
    port = free_port()
    app.launch(demo, "127.0.0.1", port, block=False, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} 不存在：apt-get install -y chromium fonts-noto-cjk")
    sync_api = pytest.importorskip("playwright.sync_api")
    from qa.bench.page import launch_browser

    with sync_api.sync_playwright() as p:
        b = launch_browser(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def model_server(seed_settings, seed_engine, network_guard):
    """The page as shipped: default model 1.5B (really loaded), seeds corpus, temp index dir."""
    settings = seed_settings.with_(llm="1.5b")
    demo = app.build_app(settings, engine=seed_engine)
    a = demo.qa_service.answerer("1.5b")
    assert a.generator is not None, f"1.5B model did not load: {a.load_notice}"
    with _serve(demo) as url:
        yield url, demo


def _external(requests: list[str]) -> list[str]:
    from qa.bench.page import is_local

    return [r for r in requests if not is_local(r)]


@needs_browser
def test_browser_answer_citation_and_document(model_server, browser, network_guard):
    from qa.bench.page import ask, open_page

    url, demo = model_server
    page, requests, load_s = open_page(browser, url)
    t = ask(page, SUBSIDY_Q, timeout_s=ANSWER_TIMEOUT_S)
    assert "100元" in t["answer"], t
    # evidence was on screen before the answer was complete (and before its first token)
    assert t["evidence_s"] is not None and t["evidence_s"] < t["answer_s"], t
    if t["first_token_s"] is not None:
        assert t["evidence_s"] <= t["first_token_s"], t

    final = page.locator(".qa-turn").last
    cite = final.locator(".qa-answer-text a.qa-cite").first
    cite.wait_for(state="visible")
    cite.click()
    src = final.locator("details.qa-source[open]").first
    src.wait_for(state="visible", timeout=10_000)
    mark = src.locator("blockquote.qa-para mark")
    mark.wait_for(state="visible")
    assert "每人每天100元" in mark.inner_text()
    body = src.inner_text()
    assert "000_2fea3bba8e0420ec.txt" in body and "坚持抓帮扶队伍建设" in body  # document name and section path
    # the document viewer opened the whole document at that paragraph, highlighted
    focus = page.locator("#qa-viewer p.qa-focus")
    focus.wait_for(state="visible", timeout=30_000)
    assert "每人每天100元" in focus.locator("mark").inner_text()
    assert page.locator("#qa-viewer p.qa-p").count() > 10
    page.wait_for_timeout(700)  # let the smooth scroll settle for the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-answer.png"))

    assert _external(requests) == [], "the page fetched something off this machine"
    assert network_guard == [], "the server process reached for the network"
    page.context.close()


def test_extractive_answers_and_search_do_not_wait_behind_a_generation(model_server):
    """Two 1.5B answers run one after the other in the model lane; an extractive answer and a
    search asked meanwhile finish before the generation does (they use the fast lane)."""
    url, demo = model_server
    svc = demo.qa_service
    done: dict[str, float] = {}
    started = threading.Event()

    def generate(name: str, q: str):
        for step in svc.stream(q, spec="1.5b"):
            if step.kind == "evidence":
                started.set()
            if step.kind in ("final", "error"):
                done[name] = time.perf_counter()
                done[name + "_kind"] = step.kind

    gens = [threading.Thread(target=generate, args=("gen1", SUBSIDY_Q)),
            threading.Thread(target=generate, args=("gen2", "扎赉特旗选派了多少名第一书记？"))]
    for t in gens:
        t.start()
    assert started.wait(ANSWER_TIMEOUT_S)
    assert svc.model_lane.stats()["pending"] == 2  # one generating, one waiting for the model
    ans = svc.answer("这篇讲话是哪天发表的？", spec="extractive")
    done["extractive"] = time.perf_counter()
    hits = svc.search("扎赉特旗选派了多少名第一书记？", k=3)
    done["search"] = time.perf_counter()
    for t in gens:
        t.join(ANSWER_TIMEOUT_S)
    assert "2017年8月26日" in ans.text and hits and "196名" in hits[0].chunk.text
    assert done["gen1_kind"] == done["gen2_kind"] == "final", done
    assert done["extractive"] < min(done["gen1"], done["gen2"]) and done["search"] < min(done["gen1"], done["gen2"]), done


# ---------------------------------------------------------------------------------------------
# 3./4. A temp copy of the corpus, served in extractive mode
# ---------------------------------------------------------------------------------------------

class CountingAnswerer(Answerer):
    """Extractive answerer that records how many answers ran at the same time, and takes about a
    second per answer (like a model, only shorter) so that overlaps and mid-answer clicks happen."""
    lock = threading.Lock()
    active = 0
    peak = 0

    def stream(self, *args, **kwargs):
        cls = CountingAnswerer
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        try:
            time.sleep(0.3)
            for ev in super().stream(*args, **kwargs):
                yield ev
                if ev.kind == "evidence":
                    time.sleep(0.8)  # "generating"
        finally:
            with cls.lock:
                cls.active -= 1


def _copy_corpus(base: Path, seed_settings: Settings) -> Settings:
    """seeds/ copied to a temp dir, with a copy of the (already built) seed index: same files,
    so the index is reused as is; uploads only ever touch this copy."""
    docs = base / "docs"
    shutil.copytree(seed_settings.docs_dir, docs, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    shutil.copytree(seed_settings.resolved_index_dir, base / "index")
    return seed_settings.with_(docs_dir=docs, index_dir=base / "index", llm="extractive")


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory, seed_settings, seed_engine) -> Settings:
    return _copy_corpus(tmp_path_factory.mktemp("app-corpus"), seed_settings)


@pytest.fixture(scope="module")
def copy_server(corpus_copy, network_guard):
    demo = app.build_app(corpus_copy, lambda eng, spec: CountingAnswerer(eng, None))
    with _serve(demo) as url:
        yield url, demo


# Extractive mode here: four 1.5B answers are serialized by the model lane (~20 s quiet, minutes on
# a busy shared machine) and the page's 1.5B path is covered above; this test is about the queue
# and per-session state, and extractive answers are exact, so correctness is asserted strictly.
CONCURRENT = {
    "定西市驻村帮扶干部的生活补助是多少？": ("100元",),
    "这篇讲话是哪天发表的？": ("2017年8月26日",),
    "扎赉特旗那篇文章的作者是谁？": ("張文東", "张文东"),
    "陇南市的贫困发生率降到了多少？": ("7.8%",),
}


def _last_assistant_html(messages) -> str:
    msg = [m for m in messages if (m.get("role") if isinstance(m, dict) else None) == "assistant"][-1]
    content = msg["content"]
    if isinstance(content, list):
        content = " ".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


def test_four_concurrent_users_get_correct_answers(copy_server, network_guard):
    from gradio_client import Client

    url, demo = copy_server
    CountingAnswerer.peak = 0

    def one(question: str) -> str:
        client = Client(url, verbose=False, download_files=False)
        client.predict(question, api_name="/stage")
        messages = client.predict("extractive", 5, api_name="/run")
        assert len(messages) == 2, "sessions got mixed up"  # this client's question and answer only
        return _last_assistant_html(messages)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(len(CONCURRENT)) as ex:
        answers = dict(zip(CONCURRENT, ex.map(one, CONCURRENT)))
    elapsed = time.perf_counter() - t0
    for q, expected in CONCURRENT.items():
        h = answers[q]
        assert "qa-final" in h and "qa-refusal" not in h, (q, h[:300])
        text = re.sub(r"<[^>]+>", "", h.split('<div class="qa-sources">')[0])
        assert any(e in text for e in expected), (q, text[:300])
        assert 'class="qa-cite"' in h, q
    # extractive answers run side by side in the fast lane (no model: nothing to serialize),
    # never more than its workers
    assert 2 <= CountingAnswerer.peak <= demo.qa_service.fast_lane.workers, CountingAnswerer.peak
    assert elapsed < 300
    assert network_guard == []


PARTY_Q = "扎赉特旗一共有多少名党员？"


@needs_browser
def test_clear_while_answering_and_ask_while_answering(copy_server, browser):
    """Regressions: a question asked right after "清空对话" (while the stopped answer is still
    winding down) or while another answer streams must be answered, not dropped; a cleared
    answer must not come back."""
    from qa.bench.page import open_page

    url, demo = copy_server
    page, requests, _ = open_page(browser, url)
    box = page.locator("#qa-input textarea")
    box.fill("陕西省委组织部组织一处获得了什么奖？")
    box.press("Enter")
    page.locator(".qa-pending .qa-evidence").wait_for(state="attached", timeout=120_000)
    page.click("#qa-clear")
    # a question the model answers (a recorded field such as the author is answered at once and
    # would leave no answer in progress to ask into)
    box.fill(PARTY_Q)
    box.press("Enter")
    page.locator(".qa-pending .qa-evidence").wait_for(state="attached", timeout=120_000)
    # asked while the previous one is being answered (long enough not to be taken for a follow-up)
    box.fill(SUBSIDY_Q)
    box.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.qa-final').length === 2"
                           " && !document.querySelector('.qa-pending')", timeout=ANSWER_TIMEOUT_S * 1000)
    page.wait_for_timeout(1500)  # a late update of the cleared answer would show up here
    assert page.locator(".qa-q").all_inner_texts() == [PARTY_Q, SUBSIDY_Q]
    answers = page.locator(".qa-final .qa-answer-text").all_inner_texts()
    # the page's extractive answers quote the document (in its traditional characters)
    assert ("扎賚特旗" in answers[0] or "扎赉特旗" in answers[0]) and "100元" in answers[1], answers
    page.context.close()


GOOD_DOC = """青松县村级图书室建设情况

作者：李明

一、基本情况
截至2023年底，青松县共建成村级图书室137个，藏书总量达到41.5万册，覆盖全县所有行政村。

二、主要做法
县财政每年安排专项资金260万元，用于图书室图书更新和管理员补贴。

三、附注
附注原文照录：<script>alert(3)</script><img src=x onerror=alert(4)>${alert(5)}{{value}}。
"""


@needs_browser
def test_upload_adds_a_document_and_rejects_bad_files(copy_server, browser, tmp_path, corpus_copy, network_guard):
    from qa.bench.page import ask, open_page

    url, demo = copy_server
    svc = demo.qa_service
    before = len(svc.engine.index.documents)
    docs_dir = Path(corpus_copy.docs_dir)
    seeds_before = sorted(p.name for p in (ROOT / "seeds").iterdir())
    page, requests, _ = open_page(browser, url)
    file_input = page.locator("#qa-upload input[type=file]")
    status = page.locator("#qa-index-status")

    good = tmp_path / "青松县图书室.txt"
    good.write_text(GOOD_DOC, encoding="utf-8")
    file_input.set_input_files(str(good))
    ok = page.locator("#qa-upload-msg .qa-upload-ok")
    ok.wait_for(state="visible", timeout=300_000)
    assert "青松县图书室.txt" in ok.inner_text()
    page.wait_for_function(f"() => document.querySelector('#qa-index-status').innerText.includes('{before + 1} 篇文档')")
    assert len(svc.engine.index.documents) == before + 1
    assert (docs_dir / "青松县图书室.txt").read_text(encoding="utf-8") == GOOD_DOC
    hits = svc.engine.search("青松县建成了多少个村级图书室？")
    assert hits and hits[0].chunk.doc == "青松县图书室.txt"
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    t = ask(page, "青松县建成了多少个村级图书室？", timeout_s=ANSWER_TIMEOUT_S)
    assert "137个" in t["answer"], t
    # the new document opens in the viewer; its hostile text is shown as text, never run
    page.locator(".qa-turn").last.locator("a.qa-cite").first.click()
    page.locator("#qa-viewer p.qa-focus").wait_for(state="visible", timeout=30_000)
    viewer = page.locator("#qa-viewer")
    assert "<script>alert(3)</script><img src=x onerror=alert(4)>${alert(5)}{{value}}" in viewer.inner_text()
    assert viewer.locator("script, img").count() == 0 and dialogs == []

    binary = tmp_path / "扫描件.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    empty = tmp_path / "空白.md"
    empty.write_bytes(b"   \n")
    pdf = tmp_path / "报告.pdf"
    pdf.write_bytes(b"%PDF-1.4 fake")
    file_input.set_input_files([str(binary), str(empty), str(pdf)])
    page.wait_for_function("() => document.querySelectorAll('#qa-upload-msg .qa-upload-bad').length === 3",
                           timeout=300_000)
    msg = page.locator("#qa-upload-msg").inner_text()
    assert "扫描件.txt" in msg and "二进制" in msg, msg
    assert "空白.md" in msg and "为空" in msg, msg
    assert "报告.pdf" in msg and "损坏" in msg, msg
    assert f"仍为 {before + 1} 篇文档" in msg
    assert len(svc.engine.index.documents) == before + 1 and f"{before + 1}</b> 篇文档" in status.inner_html()
    assert not any((docs_dir / n).exists() for n in ("扫描件.txt", "空白.md", "报告.pdf"))
    assert svc.engine.search("青松县建成了多少个村级图书室？")[0].chunk.doc == "青松县图书室.txt"

    # the same name again: refused, unless 「替换同名文档」 is ticked; then the new version is indexed
    newer = tmp_path / "新版" / "青松县图书室.txt"
    newer.parent.mkdir()
    newer.write_text(GOOD_DOC.replace("137个", "152个"), encoding="utf-8")
    page.locator("#qa-upload-replace input[type=checkbox]").check()
    file_input.set_input_files(str(newer))
    page.locator("#qa-upload-msg .qa-upload-note").filter(has_text="已替换同名文档").wait_for(state="visible", timeout=300_000)
    assert len(svc.engine.index.documents) == before + 1
    assert (docs_dir / "青松县图书室.txt").read_text(encoding="utf-8") == newer.read_text(encoding="utf-8")
    assert any("152个" in p.text for p in svc.engine.index.documents["青松县图书室.txt"].paragraphs)
    assert sorted(p.name for p in (ROOT / "seeds").iterdir()) == seeds_before  # seeds/ never touched
    assert _external(requests) == [] and network_guard == []
    page.context.close()


BIG_PDF = ROOT / "corpora" / "wild" / "原发性肝癌诊疗指南（2024年版）.pdf"  # real, 1.5 MB, ~2,000 texts to embed


def test_large_upload_shows_progress_while_the_chat_answers_and_cancels(copy_server, browser, corpus_copy,
                                                                        network_guard):
    """A real 1.5 MB PDF: the bar and the counts move while it is indexed in the background, a
    question is answered meanwhile from the previous index, and 「取消上传」 leaves documents and
    index as they were."""
    from qa.bench.page import ask, open_page

    url, demo = copy_server
    svc = demo.qa_service
    before_docs = sorted(p.name for p in Path(corpus_copy.docs_dir).iterdir())
    before_index = svc.engine.index.path
    page, requests, _ = open_page(browser, url)
    page.locator("#qa-upload input[type=file]").set_input_files(str(BIG_PDF))
    bar = page.locator("#qa-upload-msg .qa-bar")
    bar.wait_for(state="visible", timeout=120_000)
    page.wait_for_function("() => (document.querySelector('#qa-upload-msg') || {}).innerText?.includes('向量化')",
                           timeout=300_000)
    first = int(bar.get_attribute("aria-valuenow"))
    t = ask(page, "定西市驻村帮扶干部的生活补助是多少？", timeout_s=ANSWER_TIMEOUT_S)  # answered meanwhile
    assert "100元" in t["answer"], t
    page.wait_for_function(f"() => +document.querySelector('#qa-upload-msg .qa-bar').getAttribute('aria-valuenow') > {first}",
                           timeout=300_000)  # the bar moved on its own (the page polls the job)
    assert "向量化" in page.locator("#qa-upload-msg").inner_text()
    page.locator("#qa-upload-cancel").click()
    page.locator("#qa-upload-msg .qa-upload-bad").wait_for(state="visible", timeout=120_000)
    assert "已取消" in page.locator("#qa-upload-msg").inner_text()
    assert sorted(p.name for p in Path(corpus_copy.docs_dir).iterdir()) == before_docs
    assert svc.engine.index.path == before_index
    assert _external(requests) == [] and network_guard == []
    page.context.close()


# ---------------------------------------------------------------------------------------------
# 4b. A phone in an English browser, removing a document, keys and other sites
# ---------------------------------------------------------------------------------------------

@needs_browser
def test_phone_in_an_english_browser_sees_the_question_box_first_and_chinese_labels(copy_server, browser):
    url, _ = copy_server
    ctx = browser.new_context(locale="en-US", viewport={"width": 390, "height": 844}, has_touch=True, is_mobile=True)
    page = ctx.new_page()
    page.goto(url, wait_until="load", timeout=120_000)
    box = page.locator("#qa-input textarea")
    box.wait_for(state="visible", timeout=120_000)
    page.wait_for_function("() => document.querySelector('.sidebar') && !document.querySelector('.sidebar.open')",
                           timeout=30_000)
    y = box.bounding_box()
    assert y is not None and y["y"] + y["height"] <= 844, y  # on the first screen, not under the sidebar
    assert page.evaluate("() => navigator.language") == "zh-CN"
    for sel in ("#qa-send", "#qa-clear"):
        assert page.locator(sel).bounding_box()["height"] >= 44, sel
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "app-phone-en-US.png"))
    page.locator(".sidebar .toggle-button").click()
    page.locator("#qa-upload").wait_for(state="visible")
    page.wait_for_timeout(300)
    text = page.locator("body").inner_text()
    assert "将文件拖放到此处" in text or "点击上传" in text, text[-600:]
    assert "Drop File Here" not in text and "Click to Upload" not in text and "Use via API" not in text
    assert page.locator(".sidebar .toggle-button").bounding_box()["height"] >= 44
    page.screenshot(path=str(ARTIFACTS / "app-phone-en-US-sidebar.png"))
    ctx.close()


@needs_browser
def test_removing_a_document_from_the_page_rebuilds_the_index_and_keeps_the_file(copy_server, browser, corpus_copy):
    from qa.bench.page import open_page

    url, demo = copy_server
    svc = demo.qa_service
    res = svc.add_files([("临时通知.txt", "临时通知\n一、各单位于十二月十日前报送材料。\n".encode("utf-8"))])
    assert res.accepted == ["临时通知.txt"], res
    before = len(svc.engine.index.documents)
    page, _, _ = open_page(browser, url)
    page.on("dialog", lambda d: d.accept())
    page.locator("#qa-doc-pick input").click()
    page.get_by_role("option", name=re.compile("临时通知.txt")).click()
    page.locator("#qa-viewer p.qa-p").first.wait_for(state="visible", timeout=30_000)
    page.locator("#qa-doc-remove").click()
    ok = page.locator("#qa-remove-msg .qa-upload-ok")
    ok.wait_for(state="visible", timeout=300_000)
    assert "临时通知.txt" in ok.inner_text() and f"{before - 1} 篇文档" in ok.inner_text()
    assert "临时通知.txt" not in svc.engine.index.documents and len(svc.engine.index.documents) == before - 1
    assert not (Path(corpus_copy.docs_dir) / "临时通知.txt").exists()
    kept = list((Path(corpus_copy.resolved_index_dir) / "removed").glob("*/临时通知.txt"))
    assert len(kept) == 1 and "十二月十日" in kept[0].read_text(encoding="utf-8")
    audit = svc.audit.lines()
    assert [(a["action"], a["documents"], a["result"]) for a in audit[-2:]] == [
        ("upload", ["临时通知.txt"], "done"), ("remove", ["临时通知.txt"], "done")]
    assert audit[-1]["who"] == "page open 127.0.0.1"
    page.context.close()


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory, seed_settings, seed_engine, network_guard):
    settings = _copy_corpus(tmp_path_factory.mktemp("keyed-corpus"), seed_settings).with_(
        api_key="read-key", admin_key="admin-key")
    demo = app.build_app(settings, lambda eng, spec: Answerer(eng, None))
    with _serve(demo) as url:
        yield url, demo


def _get(url: str, headers: dict) -> tuple[int, str]:
    req = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")


def test_keyed_page_needs_a_login_refuses_other_sites_and_lets_only_admin_upload(keyed_server, tmp_path):
    from gradio_client import Client

    url, demo = keyed_server
    status, body = _get(url + "gradio_api/info", {})
    assert status == 401, (status, body[:200])
    status, body = _get(url, {"Host": "evil.example"})
    assert status == 403 and "Host" in body
    status, body = _get(url + "config", {"Origin": "http://evil.example"})
    assert status == 403 and "其他网站" in body
    with pytest.raises(Exception):
        Client(url, auth=("reader", "wrong-key"), verbose=False)
    doc = tmp_path / "会议纪要.txt"
    doc.write_text("会议纪要\n一、会议决定于十二月二十日召开年终总结会。\n", encoding="utf-8")
    from gradio_client import handle_file

    reader = Client(url, auth=("reader", "read-key"), verbose=False)
    out = reader.predict([handle_file(str(doc))], api_name="/upload")
    assert "admin" in out[0] and "会议纪要.txt" not in demo.qa_service.engine.index.documents
    admin = Client(url, auth=("admin", "admin-key"), verbose=False)
    out = admin.predict([handle_file(str(doc))], api_name="/upload")
    assert "已加入索引" in out[0] and "会议纪要.txt" in demo.qa_service.engine.index.documents, out[0]
    assert demo.qa_service.audit.lines()[-1]["who"] == "page admin 127.0.0.1"


def test_page_beyond_the_loopback_does_not_start_without_a_key(capsys):
    assert app.main(["--host", "0.0.0.0", "--port", "1"]) == 2
    assert "QA_API_KEY" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# 5. The command line
# ---------------------------------------------------------------------------------------------

def _start_page(seed_settings, model: str, log_path: Path, timeout_s: float = 600):
    """`python app.py` on the seeds with `model` on a free port, as a user starts it; returns
    (process, port, the first page's HTML or None if it never answered)."""
    port = free_port()
    env = {**os.environ, "QA_CACHE_DIR": str(seed_settings.cache_dir), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, str(ROOT / "app.py"), "--host", "127.0.0.1", "--port", str(port), "--model", model,
           "--docs", str(seed_settings.docs_dir), "--index-dir", str(seed_settings.resolved_index_dir)]
    with open(log_path, "wb") as log:
        # as from a terminal: Ctrl-C is not ignored (a test run started in the background, `pytest &`,
        # ignores SIGINT, and a child Python then never raises KeyboardInterrupt)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + timeout_s
    while time.time() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
                return proc, port, r.read().decode("utf-8", "replace")
        except OSError:
            time.sleep(0.5)
    return proc, port, None


def test_command_line_starts_the_page(seed_settings, seed_engine, tmp_path):
    proc, port, page = _start_page(seed_settings, "extractive", tmp_path / "app.log", 300)
    try:
        assert page is not None, (tmp_path / "app.log").read_text(errors="replace")[-2000:]
        assert app.TITLE in page
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/gradio_api/info", timeout=30) as r:
            info = r.read().decode()
        assert "/stage" in info and "/run" in info
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_ctrl_c_while_answering_stops_the_page_before_the_answer_ends(seed_settings, seed_engine, tmp_path):
    """SIGINT (Ctrl-C) after the evidence is shown and before the answer is complete: the running
    answer is stopped at its next token and the process exits cleanly. The time it took is printed
    and written to artifacts/ (a figure, not an assertion)."""
    import signal

    from gradio_client import Client

    proc, port, page = _start_page(seed_settings, "1.5b", tmp_path / "app.log")
    deadline = time.time() + 600
    try:
        assert page is not None, (tmp_path / "app.log").read_text(errors="replace")[-2000:]
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict("请概括陇南市和定西市在脱贫攻坚中的主要做法，并分别举例说明。", api_name="/stage")
        job = client.submit("1.5b", 5, api_name="/run")
        while time.time() < deadline and "qa-evidence" not in str(job.outputs()[-1:] or ""):
            time.sleep(0.05)
        assert "qa-final" not in str(job.outputs()[-1]), "the answer ended before Ctrl-C could be sent"
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        try:
            # the answer stops at its next token; in a full test run on two busy cores the first
            # token of the summary question can take most of a minute
            code = proc.wait(timeout=180)
        except subprocess.TimeoutExpired:
            pytest.fail("no exit 180 s after Ctrl-C:\n" + (tmp_path / "app.log").read_text(errors="replace")[-3000:])
        elapsed = time.perf_counter() - t0
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "ctrl-c.txt").write_text(f"Ctrl-C mid-answer → exit in {elapsed:.2f} s\n", encoding="utf-8")
        print(f"Ctrl-C mid-answer → exit in {elapsed:.2f} s")
        assert code == 0, (tmp_path / "app.log").read_text(errors="replace")[-2000:]
        assert "正在停止" in (tmp_path / "app.log").read_text(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
