"""The HTTP API (qa/serve/api.py) against a real uvicorn server on 127.0.0.1, driven with httpx and the
`openai` client library; a temp copy of the seeds so uploads never touch seeds/."""
from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import httpx
import pytest

from qa.serve.api import create_app
from qa.serve.chat import BUSY, ChatService
from qa.bench.server import child, in_thread
from tests.conftest import WILD, seed_copy

ROOT = Path(__file__).resolve().parents[1]
SUBSIDY_Q = "定西市驻村帮扶干部的生活补助是多少？"
SUBSIDY_PARA = "000_2fea3bba8e0420ec.txt#6"


@pytest.fixture(scope="module")
def api(tmp_path_factory, seed_settings, seed_engine):
    """(base url, service): the API on a copy of the seeds and their index, extractive by default."""
    from qa.retrieval.engine import Engine

    # no per-client limits: the load tests below are many clients from one address and no key
    # (the limits are tested in tests/test_access.py, the bench gives each client its own key)
    settings = seed_copy(tmp_path_factory.mktemp("api-corpus"), seed_settings, llm="extractive", rate_limit=0,
                         upload_jobs_per_client=100)
    service = ChatService(settings, Engine.open(settings))  # the lanes as `python -m qa serve` has them
    ready = threading.Event()
    with in_thread(create_app(service, ready=ready), ready) as url:
        yield url, service


def _error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert err["code"] == code, err
    assert any("\u4e00" <= ch <= "\u9fff" for ch in err["message"]), err  # a Chinese message
    assert "Traceback" not in r.text
    return err["message"]


def _sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        events.append((lines.get("event", "message"), json.loads(lines["data"])))
    return events


def test_health_reports_index_models_and_queues(api):
    url, _ = api
    body = httpx.get(f"{url}/v1/health").json()
    assert body["status"] == "ok" and body["index"]["documents"] == 5 and body["index"]["chunks"] > 50
    assert body["models"]["allowed"] == ["1.5b", "0.5b", "extractive"]
    assert set(body["lanes"]) == {"model", "fast"} and body["lanes"]["model"]["workers"] == 1
    models = httpx.get(f"{url}/v1/models").json()
    assert [m["id"] for m in models["data"]] == ["1.5b", "0.5b", "extractive"]


def test_search_returns_the_cited_paragraph(api):
    url, _ = api
    r = httpx.get(f"{url}/v1/search", params={"q": SUBSIDY_Q, "k": 3})
    hits = r.json()["hits"]
    assert r.status_code == 200 and len(hits) == 3 and hits[0]["para"] == SUBSIDY_PARA
    assert "每人每天100元" in hits[0]["text"] and hits[0]["dense"] > 0.8
    bm = httpx.get(f"{url}/v1/search", params={"q": "第一书记", "mode": "bm25", "k": 2}).json()
    assert bm["mode"] == "bm25" and [h["rank"] for h in bm["hits"]] == [1, 2] and bm["hits"][0]["dense"] is None


def test_search_bad_input_is_a_clear_4xx(api):
    url, _ = api
    _error(httpx.get(f"{url}/v1/search"), 422, "invalid_request")
    _error(httpx.get(f"{url}/v1/search", params={"q": "补助", "k": 0}), 422, "invalid_request")
    _error(httpx.get(f"{url}/v1/search", params={"q": "补助", "mode": "sql"}), 400, "bad_mode")
    assert "问题为空" in _error(httpx.get(f"{url}/v1/search", params={"q": " \t "}), 400, "empty_query")
    _error(httpx.get(f"{url}/v1/nothing"), 404, "not_found")
    _error(httpx.delete(f"{url}/v1/search"), 405, "method_not_allowed")


def test_ask_json_answer_with_citations(api):
    url, _ = api
    r = httpx.post(f"{url}/v1/ask", json={"question": SUBSIDY_Q}, timeout=300)
    body = r.json()
    assert r.status_code == 200 and not body["abstained"] and body["model"] == "extractive"
    assert "100元" in body["answer"] and "[1]" in body["answer"]
    assert body["citations"][0]["para"] == SUBSIDY_PARA and "每人每天100元" in body["citations"][0]["quote"]
    follow = httpx.post(f"{url}/v1/ask", json={"question": "那陇南市呢？", "history": [[SUBSIDY_Q, body["answer"]]]},
                        timeout=300).json()
    assert follow["standalone"] and "陇南" in follow["standalone"]


def test_ask_stream_sends_evidence_then_tokens_then_final(api):
    url, _ = api
    with httpx.stream("POST", f"{url}/v1/ask", json={"question": SUBSIDY_Q, "stream": True}, timeout=300) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = _sse(r.read().decode())
    kinds = [k for k, _ in events if k in ("evidence", "token", "final")]
    assert kinds[0] == "evidence" and kinds[-1] == "final" and "token" in kinds
    assert kinds.index("evidence") < kinds.index("token") < kinds.index("final")
    evidence = next(d for k, d in events if k == "evidence")["passages"]
    assert any(p["para"] == SUBSIDY_PARA for p in evidence)
    final = events[-1][1]
    assert "100元" in final["answer"] and final["citations"][0]["para"] == SUBSIDY_PARA


def test_ask_stream_delivers_each_event_as_it_happens(api, monkeypatch):
    """The service's real steps, held after the evidence until the client has read it: a server that
    collected the steps before sending would never deliver it, and the request would time out."""
    url, service = api
    seen_evidence = threading.Event()
    real = service.stream

    def held(*args, **kwargs):
        for step in real(*args, **kwargs):
            yield step
            if step.kind == "evidence":
                assert seen_evidence.wait(60), "the client did not receive the evidence while the answer was pending"
    monkeypatch.setattr(service, "stream", held)
    kinds = []
    with httpx.stream("POST", f"{url}/v1/ask", json={"question": SUBSIDY_Q, "stream": True}, timeout=90) as r:
        for line in r.iter_lines():
            if line.startswith("event: "):
                kinds.append(line[len("event: "):])
                if kinds[-1] == "evidence":
                    seen_evidence.set()
    assert seen_evidence.is_set() and kinds[-1] == "final" and "token" in kinds[kinds.index("evidence"):]


def test_ask_bad_input_never_a_500(api):
    url, _ = api
    _error(httpx.post(f"{url}/v1/ask", content=b"{not json"), 422, "invalid_request")
    _error(httpx.post(f"{url}/v1/ask", content=b'{"question": "\xff\xfe"}',
                      headers={"content-type": "application/json"}), 400, "bad_request")
    _error(httpx.post(f"{url}/v1/ask", json={}), 422, "invalid_request")
    _error(httpx.post(f"{url}/v1/ask", json={"question": "补助", "k": 999}), 422, "invalid_request")
    assert "不支持的模型" in _error(httpx.post(f"{url}/v1/ask", json={"question": "补助", "model": "/tmp/x.gguf"}),
                                   400, "unknown_model")
    # lone surrogates and control characters inside valid JSON are cleaned, and the question answered
    r = httpx.post(f"{url}/v1/ask", content=('{"question": "定西市驻村帮扶干部的生活\\ud800补助是多少？\\u0000"}').encode(),
                   headers={"content-type": "application/json"}, timeout=300)
    assert r.status_code == 200 and r.json()["question"] == SUBSIDY_Q and "100元" in r.json()["answer"]
    empty = httpx.post(f"{url}/v1/ask", json={"question": "   "}, timeout=60).json()
    assert empty["abstained"] and empty["answer"]


def test_full_queue_is_503_busy(api):
    url, service = api
    held = []
    for _ in range(service.fast_lane.workers + service.fast_lane.queue):
        t = service.fast_lane.admit()
        held.append(t)
    try:
        assert _error(httpx.get(f"{url}/v1/search", params={"q": "补助"}), 503, "busy") == BUSY
        assert _error(httpx.post(f"{url}/v1/ask", json={"question": SUBSIDY_Q}), 503, "busy") == BUSY
        assert _error(httpx.post(f"{url}/v1/ask", json={"question": SUBSIDY_Q, "stream": True}), 503, "busy") == BUSY
        assert httpx.get(f"{url}/v1/health").status_code == 200  # status never waits
    finally:
        for t in held:
            t.release()
    assert httpx.get(f"{url}/v1/search", params={"q": "补助"}).status_code == 200


def test_documents_list_view_and_upload(api):
    url, service = api
    docs = httpx.get(f"{url}/v1/documents").json()["documents"]
    assert len(docs) == 5 and all(d["paragraphs"] > 0 for d in docs)
    one = httpx.get(f"{url}/v1/documents/{docs[0]['name']}").json()
    assert one["name"] == docs[0]["name"] and len(one["paragraphs"]) == docs[0]["paragraphs"]
    _error(httpx.get(f"{url}/v1/documents/none.txt"), 404, "no_document")

    good = "青松县村级图书室建设情况\n\n一、基本情况\n截至2023年底，青松县共建成村级图书室137个，藏书总量达到41.5万册。\n"
    files = [("files", ("青松县图书室.txt", good.encode(), "text/plain")),
             ("files", ("扫描件.txt", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)), "text/plain")),
             ("files", ("空白.md", b"  \n", "text/markdown"))]
    r = httpx.post(f"{url}/v1/documents", params={"wait": "true"}, files=files, timeout=600)
    body = r.json()
    assert r.status_code == 200, body
    assert body["accepted"] == ["青松县图书室.txt"] and body["documents_after"] == body["documents_before"] + 1
    reasons = {w["name"]: w["reason"] for w in body["rejected"]}
    assert "二进制" in reasons["扫描件.txt"] and "为空" in reasons["空白.md"]
    assert (Path(service.settings.docs_dir) / "青松县图书室.txt").read_text(encoding="utf-8") == good
    assert not (Path(service.settings.docs_dir) / "扫描件.txt").exists()
    hits = httpx.get(f"{url}/v1/search", params={"q": "青松县建成了多少个村级图书室？", "k": 1}).json()["hits"]
    assert hits[0]["doc"] == "青松县图书室.txt"
    again = httpx.post(f"{url}/v1/documents?wait=true", files=[("files", ("青松县图书室.txt", good.encode()))]).json()
    assert again["accepted"] == [] and "同名" in again["rejected"][0]["reason"] and "replace" in again["rejected"][0]["reason"]
    # replaced: the new version is indexed in the same build, the old one kept under removed/
    newer = good.replace("137个", "152个")
    r = httpx.post(f"{url}/v1/documents", params={"wait": "true", "replace": "true"},
                   files=[("files", ("青松县图书室.txt", newer.encode()))], timeout=600)
    body = r.json()
    assert r.status_code == 200 and body["accepted"] == body["replaced"] == ["青松县图书室.txt"], body
    assert body["documents_after"] == body["documents_before"] == 6
    assert (Path(service.settings.docs_dir) / "青松县图书室.txt").read_text(encoding="utf-8") == newer
    assert [p.read_text(encoding="utf-8") for p in service.settings.resolved_index_dir.glob("removed/*/青松县图书室.txt")] == [good]
    texts = [p.text for p in service.engine.index.documents["青松县图书室.txt"].paragraphs]
    assert any("152个" in t for t in texts) and not any("137个" in t for t in texts)
    big = httpx.post(f"{url}/v1/documents?wait=1", files=[("files", ("大.txt", "字".encode() * (7 * 1024 * 1024 + 1)))],
                     timeout=600).json()
    assert big["accepted"] == [] and "过大" in big["rejected"][0]["reason"]
    _error(httpx.post(f"{url}/v1/documents"), 422, "invalid_request")
    assert httpx.get(f"{url}/v1/health").json()["index"]["documents"] == 6
    # removed again: out of the index and the folder, its file kept under the index's removed/
    r = httpx.delete(f"{url}/v1/documents/青松县图书室.txt", timeout=600)
    assert r.status_code == 200 and r.json() == {"removed": ["青松县图书室.txt"], "documents_after": 5}
    assert not (Path(service.settings.docs_dir) / "青松县图书室.txt").exists()
    assert len(list(service.settings.resolved_index_dir.glob("removed/*/青松县图书室.txt"))) >= 1
    hits = httpx.get(f"{url}/v1/search", params={"q": "青松县建成了多少个村级图书室？", "k": 5}).json()["hits"]
    assert all(h["doc"] != "青松县图书室.txt" for h in hits)
    _error(httpx.delete(f"{url}/v1/documents/青松县图书室.txt"), 404, "no_document")
    # each change is in the audit log: who (face, role, client), what, the result
    audit = [(a["who"], a["action"], a["documents"], a["result"]) for a in service.audit.lines()]
    assert ("api open 127.0.0.1", "upload", ["青松县图书室.txt"], "done") in audit
    assert ("api open 127.0.0.1", "replace", ["青松县图书室.txt"], "done") in audit
    assert audit[-2:] == [("api open 127.0.0.1", "remove", ["青松县图书室.txt"], "done"),
                          ("api open 127.0.0.1", "remove", ["青松县图书室.txt"], "refused")]


BIG_DOC = "原发性肝癌诊疗指南（2024年版）.pdf"  # a real 1.5 MB PDF: ~1,000 chunks, ~2,000 texts to embed


def _poll(url: str, job: str, until, timeout: float = 900) -> list[dict]:
    """The job's states, polled every 0.2 s, up to the first for which until(state) holds."""
    seen, deadline = [], time.time() + timeout
    while time.time() < deadline:
        seen.append(httpx.get(f"{url}/v1/documents/jobs/{job}", timeout=10).json())
        if until(seen[-1]):
            return seen
        time.sleep(0.2)
    raise AssertionError(seen[-3:])


def test_upload_runs_in_the_background_with_progress_and_cancel(api):
    """POST answers 202 with a job at once; the job reports files, paragraphs and embedded chunks
    of the total; questions are answered from the previous index meanwhile; DELETE cancels and
    leaves documents and index as they were."""
    url, service = api
    docs_dir = Path(service.settings.docs_dir)
    before_docs = sorted(p.name for p in docs_dir.iterdir())
    before_index = service.engine.index.path
    t0 = time.time()
    r = httpx.post(f"{url}/v1/documents", files=[("files", (BIG_DOC, (WILD / BIG_DOC).read_bytes()))], timeout=60)
    assert r.status_code == 202, r.text
    assert time.time() - t0 < 10  # the request does not wait for parsing or embedding
    job = r.json()
    assert job["state"] in ("queued", "running") and r.headers["location"] == f"/v1/documents/jobs/{job['id']}"
    seen = _poll(url, job["id"], lambda j: j["stage"] == "embed" and j["progress"]["embedded"] > 0)
    p = seen[-1]["progress"]
    assert p["files_checked"] == p["files"] == 1 and p["paragraphs"] > 100 and p["chunks"] > 100
    assert 0 < p["embedded"] < p["to_embed"] and 0.1 < p["fraction"] < 0.95
    assert "向量化" in seen[-1]["message"]
    # meanwhile: answered from the previous index, quickly (the fast lane, not behind the build)
    t = time.time()
    hits = httpx.get(f"{url}/v1/search", params={"q": SUBSIDY_Q, "k": 1}, timeout=60).json()["hits"]
    assert hits[0]["para"] == SUBSIDY_PARA and time.time() - t < 30
    assert httpx.post(f"{url}/v1/ask", json={"question": SUBSIDY_Q}, timeout=60).json()["citations"]
    assert len(httpx.get(f"{url}/v1/documents").json()["documents"]) == len(before_docs)
    r = httpx.delete(f"{url}/v1/documents/jobs/{job['id']}")
    assert r.status_code == 200 and r.json()["id"] == job["id"]
    end = _poll(url, job["id"], lambda j: j["state"] in ("done", "failed", "cancelled"), 120)[-1]
    assert end["state"] == "cancelled" and "保持不变" in end["state_text"], end
    assert sorted(p.name for p in docs_dir.iterdir()) == before_docs
    assert service.engine.index.path == before_index
    assert (service.settings.resolved_index_dir / "CURRENT").read_text().strip() == before_index.name
    _error(httpx.get(f"{url}/v1/documents/jobs/nope"), 404, "no_job")
    _error(httpx.delete(f"{url}/v1/documents/jobs/nope"), 404, "no_job")


def test_killed_server_mid_index_loses_nothing(seed_settings, tmp_path):
    """`python -m qa serve` on a copy of the seeds, a real 1.5 MB PDF uploaded, the server killed
    (SIGKILL) while it embeds: the documents folder and every index file are byte for byte as
    before, the index loads, and the next server answers from it."""
    import signal

    from qa.bench.upload import file_tree as tree, qa_server
    from qa.retrieval.index import read_index

    copy = seed_copy(tmp_path, seed_settings)
    docs, index = copy.docs_dir, copy.index_dir

    with qa_server(docs, index, seed_settings.cache_dir, timeout_s=300) as (proc, url, _):
        docs_before, index_before = tree(docs), tree(index)
        job = httpx.post(f"{url}/v1/documents", files=[("files", (BIG_DOC, (WILD / BIG_DOC).read_bytes()))],
                         timeout=60).json()
        _poll(url, job["id"], lambda j: j["stage"] == "embed" and j["progress"]["embedded"] > 0)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
        assert proc.returncode == -signal.SIGKILL
    assert tree(docs) == docs_before  # no new file, no half-written one
    assert tree(index) == index_before  # CURRENT, manifest, every build file: unchanged
    build = index / "builds" / (index / "CURRENT").read_text().strip()
    assert read_index(build).stats()["documents"] == 5
    # the next start uses the index as it was (nothing to rebuild)
    with qa_server(docs, index, seed_settings.cache_dir, timeout_s=300) as (_, url, _):
        health = httpx.get(f"{url}/v1/health").json()
        assert health["index"]["documents"] == 5
        hits = httpx.get(f"{url}/v1/search", params={"q": SUBSIDY_Q, "k": 1}).json()["hits"]
        assert hits[0]["para"] == SUBSIDY_PARA
    assert tree(index) == index_before


def test_openai_client_against_local_v1(api):
    openai = pytest.importorskip("openai")
    url, _ = api
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="local", timeout=300, max_retries=0)
    resp = client.chat.completions.create(model="extractive", messages=[{"role": "user", "content": SUBSIDY_Q}])
    text = resp.choices[0].message.content
    assert "100元" in text and "[1]" in text and resp.choices[0].finish_reason == "stop"
    citations = resp.model_extra["citations"]
    assert citations[0]["n"] == 1 and citations[0]["para"] == SUBSIDY_PARA and "每人每天100元" in citations[0]["quote"]

    chunks = list(client.chat.completions.create(model="extractive", stream=True, messages=[
        {"role": "system", "content": "你是助手"},
        {"role": "user", "content": SUBSIDY_Q}, {"role": "assistant", "content": text},
        {"role": "user", "content": "那陇南市呢？"}]))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert chunks[-1].choices[0].finish_reason == "stop" and "[1]" in streamed
    assert chunks[-1].model_extra["citations"] and "陇南" in "".join(c["text"] for c in chunks[-1].model_extra["citations"])

    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "补助"}])
    assert e.value.status_code == 400 and "不支持的模型" in str(e.value)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="extractive", messages=[{"role": "assistant", "content": "你好"}])


def test_openai_client_streams_the_draft_then_the_verified_answer_with_the_real_model(api):
    """The OpenAI client against /v1/chat/completions with the 1.5B: the passages first, the model's
    tokens in delta.reasoning_content as they come (received at different times), then the verified
    answer in delta.content, which alone is what the client's text is made of."""
    openai = pytest.importorskip("openai")
    url, _ = api
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="local", timeout=900, max_retries=0)
    client.chat.completions.create(model="1.5b", messages=[{"role": "user", "content": "第一书记的任期多长？"}])
    t0, timed = time.perf_counter(), []
    for c in client.chat.completions.create(model="1.5b", stream=True, messages=[{"role": "user", "content": SUBSIDY_Q}]):
        timed.append((time.perf_counter() - t0, c))
    passages = [t for t, c in timed if (c.model_extra or {}).get("passages")]
    drafts = [(t, c.choices[0].delta.model_extra.get("reasoning_content")) for t, c in timed
              if c.choices and (c.choices[0].delta.model_extra or {}).get("reasoning_content")]
    content = [(t, c.choices[0].delta.content) for t, c in timed if c.choices and c.choices[0].delta.content]
    print(f"\n/v1/chat/completions 1.5B: passages {passages[0]:.2f} s, first draft token {drafts[0][0]:.2f} s, "
          f"last {drafts[-1][0]:.2f} s, verified text {content[0][0]:.2f} s")
    assert passages[0] < drafts[0][0] and drafts[-1][0] - drafts[0][0] > 0.1 and drafts[0][0] < content[0][0] - 0.1
    assert "100" in "".join(d for _, d in drafts)
    text = "".join(d for _, d in content)
    assert len(content) == 1 and "100元" in text and "[1]" in text
    assert timed[-1][1].choices[0].finish_reason == "stop" and timed[-1][1].model_extra["citations"]


def test_openapi_page_works_offline(api):
    url, _ = api
    spec = httpx.get(f"{url}/openapi.json").json()
    assert {"/v1/ask", "/v1/search", "/v1/documents", "/v1/health", "/v1/chat/completions"} <= set(spec["paths"])
    page = httpx.get(f"{url}/docs").text
    srcs = [s.split('"')[0] for s in page.split('src="')[1:]] + [s.split('"')[0] for s in page.split('href="')[1:]]
    assert srcs and all(s.startswith("/") for s in srcs), srcs  # every asset from this server
    for s in srcs:
        assert httpx.get(url + s).status_code == 200, s


def _timed_sse(r: httpx.Response, t0: float) -> list[tuple[float, str, dict]]:
    """(seconds since t0 when the client received it, event, data) for each server-sent event."""
    out, event = [], "message"
    for line in r.iter_lines():
        if line.startswith("event: "):
            event = line[len("event: "):]
        elif line.startswith("data: "):
            out.append((time.perf_counter() - t0, event, json.loads(line[len("data: "):])))
            event = "message"
    return out


def test_ask_stream_with_the_real_model(api):
    """One 1.5B answer streamed through /v1/ask (curl's view): the evidence, then the model's own
    tokens as they are generated (received at different times, the first well before the verified
    final), timestamped on the client."""
    url, _ = api
    httpx.post(f"{url}/v1/ask", json={"question": "第一书记的任期多长？", "model": "1.5b"}, timeout=900)  # loads it
    t0 = time.perf_counter()
    with httpx.stream("POST", f"{url}/v1/ask", json={"question": SUBSIDY_Q, "model": "1.5b", "stream": True},
                      timeout=900) as r:
        timed = _timed_sse(r, t0)
    events = [(k, d) for _, k, d in timed]
    at = {k: t for t, k, _ in reversed(timed)}                    # first arrival of each kind
    last_token = max(t for t, k, _ in timed if k == "token")
    print(f"\n/v1/ask 1.5B: evidence {at['evidence']:.2f} s, first token {at['token']:.2f} s, "
          f"last token {last_token:.2f} s, final {at['final']:.2f} s")
    assert at["evidence"] < at["token"] and last_token - at["token"] > 0.1 and at["token"] < at["final"] - 0.1
    final = events[-1]
    assert final[0] == "final", events[-3:]
    if final[1]["model"] == "extractive":
        pytest.fail(f"1.5B did not load: {final[1]['notices']}")
    tokens = [d["text"] for k, d in events if k == "token"]
    assert len(tokens) > 3 and "100" in "".join(tokens) and "100元" in final[1]["answer"]
    assert final[1]["citations"] and final[1]["latency_s"]["first_token"] < final[1]["latency_s"]["total"]


def test_bounded_load_has_no_errors_or_drops(api):
    """The load test in its CI form: 16 clients, searches, extractive and 1.5B answers at once."""
    from qa.bench.loadtest import run_load

    url, service = api
    mix = {"search": 28, "extractive": 28, "1.5b": 4}
    report = run_load(url, clients=16, requests=60, mix=mix)
    assert report["errors"] == 0 and report["dropped"] == 0, report
    for kind, n in mix.items():
        assert report["kinds"][kind]["ok"] == n, report
    print(json.dumps(report, ensure_ascii=False))  # the figures, in the test log (-s)


def test_uploads_and_removals_under_load_lose_no_document_and_give_no_5xx(api):
    """The mixed load of `python -m qa.bench --only load` in a CI form: 8 clients for 40 s, searches
    and extractive answers, uploads and removals in the second half; every document accepted and
    not removed is listed and on disk, every removed one is gone."""
    from qa.bench.loadtest import run_documents_load

    url, service = api
    before = len(service.engine.index.documents)
    report = run_documents_load(url, service.settings.docs_dir, clients=8, seconds=40, model="extractive")
    assert report["server_5xx"] == 0 and report["dropped_503"] == 0 and not report["error_details"], report
    assert report["lost_documents"] == [] and report["unexpected_documents"] == [], report
    assert report["uploads"]["indexed"] >= 1 and report["uploads"]["failed_jobs"] == 0, report
    assert report["uploads"]["unfinished_jobs"] == 0, report
    assert report["kinds"]["search"]["ok"] > 0 and report["kinds"]["upload"]["ok"] == report["uploads"]["sent"]
    docs = {p.name for p in Path(service.settings.docs_dir).iterdir()}
    for name in [n for n in docs if n.startswith("负载测试")]:   # leave the corpus as the other tests expect it
        assert httpx.delete(f"{url}/v1/documents/{name}", timeout=600).status_code == 200
    assert len(service.engine.index.documents) == before
    print(json.dumps(report, ensure_ascii=False))


def test_serve_command_starts_the_api(seed_settings, tmp_path):
    log = tmp_path / "serve.log"
    args = ["-m", "qa", "--docs", str(seed_settings.docs_dir), "--index-dir", str(seed_settings.resolved_index_dir),
            "serve", "--model", "extractive"]
    try:
        with child(args, "/v1/health", env={"QA_CACHE_DIR": str(seed_settings.cache_dir)}, timeout_s=300,
                   log=log) as (_, url, _):
            health = httpx.get(f"{url}/v1/health").json()
    except RuntimeError as exc:
        pytest.fail(f"{exc}\n{log.read_text(errors='replace')[-2000:]}")
    assert health["status"] == "ok" and health["index"]["documents"] == 5
    assert health["models"]["loaded"] == {"extractive": "已加载（extractive）"}
