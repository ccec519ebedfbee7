"""Browser timing of the chat page (app.py) with Playwright and Debian's Chromium.

    from qa.bench.page import measure
    measure("http://127.0.0.1:7860", "定西市驻村帮扶干部的生活补助是多少？")   # a running page
    measure(model="1.5b")                                          # starts `python app.py` itself
    → {"page_load_s", "evidence_s", "first_token_s", "answer_s", "answer", "external_requests", ...}

page_load_s: navigation start → page `load` event → chat input visible.
evidence_s / first_token_s / answer_s: question submitted (Enter) → evidence passages shown /
first streamed answer text shown / final answer shown, measured in the page by a MutationObserver
(performance.now()), so polling intervals do not blur them. Also usable as a script:
    python -m qa.bench.page [URL|-] [QUESTION]     ("-": start the page here)
"""
from __future__ import annotations

import json
import os
import sys
import time
from urllib.parse import urlparse

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
DEFAULT_QUESTION = "定西市驻村帮扶干部的生活补助是多少？"

# Records when the answer to the question being measured shows its evidence, its first streamed
# text and its final form. window.__qaMark(question) starts a measurement (call it right before
# submitting). A turn counts only once the chat's last question is that question and its turn has
# been seen pending, so an earlier answer (the same question before, or a cleared one) never does.
OBSERVER_JS = """
(() => {
  window.__qaMarks = {};
  window.__qaQuestion = null;
  window.__qaMark = (q) => { window.__qaQuestion = q; window.__qaMarks = {submit: performance.now()}; };
  const SEL = {evidence: '.qa-evidence', first_token: '.qa-answer-text', final: '.qa-final'};
  const check = () => {
    const m = window.__qaMarks;
    if (!m.submit || m.final) return;
    const qs = document.querySelectorAll('.qa-q');
    const turns = document.querySelectorAll('.qa-turn');
    if (!qs.length || !turns.length || qs[qs.length - 1].textContent.trim() !== window.__qaQuestion) return;
    const last = turns[turns.length - 1];
    const t = performance.now();
    if (!m.pending && last.classList.contains('qa-pending')) m.pending = t;
    if (!m.pending) return;
    for (const [k, s] of Object.entries(SEL)) {
      if (!(k in m) && (last.matches(s) || last.querySelector(s))) m[k] = t;
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def launch_browser(playwright):
    """Debian's Chromium (never a downloaded one), sandbox-free for containers, no background traffic."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def is_local(url: str) -> bool:
    u = urlparse(url)
    return u.scheme in ("data", "blob", "about") or u.hostname in ("127.0.0.1", "localhost", "::1")


def open_page(browser, url: str, timeout_s: float = 120):
    """A new zh-CN page with the observer and a request log; returns (page, requests, load seconds)."""
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1440, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(timeout_s * 1000)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.add_init_script(OBSERVER_JS)
    t0 = time.perf_counter()
    page.goto(url, wait_until="load", timeout=timeout_s * 1000)
    page.locator("#qa-input textarea").wait_for(state="visible", timeout=timeout_s * 1000)
    return page, requests, time.perf_counter() - t0


def ask(page, question: str, timeout_s: float = 600) -> dict:
    """Type a question, press Enter, wait for the final answer; timings from the page's observer."""
    box = page.locator("#qa-input textarea")
    box.fill(question)
    page.evaluate("q => window.__qaMark(q)", question.strip())
    box.press("Enter")
    page.wait_for_function("() => !!window.__qaMarks.final", timeout=timeout_s * 1000, polling=100)
    marks = page.evaluate("() => window.__qaMarks")
    final = page.locator(".qa-turn").last
    text = final.locator(".qa-answer-text, .qa-refusal-title, .qa-error").first.inner_text()
    rel = {k: round((v - marks["submit"]) / 1000, 3) for k, v in marks.items() if k not in ("submit", "pending")}
    return {"evidence_s": rel.get("evidence"), "first_token_s": rel.get("first_token"),
            "answer_s": rel.get("final"), "answer": text}


def measure(url: str | None = None, question: str = DEFAULT_QUESTION, *, model: str | None = None,
            timeout_s: float = 600) -> dict:
    """Page load, submit → evidence shown, submit → first answer text, submit → complete answer.

    With a url, measures that running page. Without one, starts the page in this process on the
    default corpus with `model` (default: the settings' model, 1.5b), measures it, stops it."""
    if url is None:
        return _measure_local(question, model, timeout_s)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page, requests, load_s = open_page(browser, url)
            result = {"url": url, "question": question, "page_load_s": round(load_s, 3)}
            result.update(ask(page, question, timeout_s))
            result["external_requests"] = sorted({r for r in requests if not is_local(r)})
            return result
        finally:
            browser.close()


def _measure_local(question: str, model: str | None, timeout_s: float) -> dict:
    """Start `python app.py` (the page as a user starts it) on a free port, measure, stop it."""
    from qa.bench.server import child
    from qa.settings import Settings

    settings = Settings.load(llm=model)
    with child(["app.py", "--model", settings.llm], "/", timeout_s=timeout_s) as (_, url, start_s):
        result = measure(url + "/", question, timeout_s=timeout_s)
    return {"model": settings.llm, "server_start_s": round(start_s, 2), **result}


if __name__ == "__main__":
    url = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] != "-" else None
    print(json.dumps(measure(url, *sys.argv[2:3]), ensure_ascii=False, indent=1))
