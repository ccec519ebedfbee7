"""Who may use the HTTP API (qa/serve/access.py): the rules as a pure function, then attacks on a real
uvicorn server with keys set (a copy of the seeds, extractive answers)."""
from __future__ import annotations

import re
import threading
import time

import httpx
import pytest

from qa.serve.access import Policy, bind_refusal, check, host_name

READ, ADMIN = "read-key-1", "admin-key-2"


@pytest.mark.parametrize("value, host", [("127.0.0.1:8000", "127.0.0.1"), ("[::1]:8000", "::1"), ("::1", "::1"),
                                         ("LocalHost", "localhost"), ("qa.example.org", "qa.example.org")])
def test_host_name_drops_the_port(value, host):
    assert host_name(value) == host


@pytest.mark.parametrize("policy, method, path, headers, code", [
    # loopback server without keys: the user's own tools pass, other sites' pages do not
    (Policy.of(), "GET", "/v1/search", {"host": "127.0.0.1:8000"}, None),
    (Policy.of(), "GET", "/v1/search", {"host": "localhost:8000", "origin": "http://127.0.0.1:7860"}, None),
    (Policy.of(), "POST", "/v1/documents", {"host": "127.0.0.1:8000", "origin": "http://evil.example"}, "origin_not_allowed"),
    (Policy.of(), "POST", "/v1/ask", {"host": "127.0.0.1:8000", "origin": "null"}, "origin_not_allowed"),
    (Policy.of(), "POST", "/v1/ask", {"host": "evil.example:8000", "origin": "http://evil.example:8000"}, "host_not_allowed"),
    (Policy.of(allowed_origins="https://portal.example.org"), "POST", "/v1/ask",
     {"host": "127.0.0.1:8000", "origin": "https://portal.example.org"}, None),
    # keys: reading takes either key, changing documents the admin key
    (Policy.of(READ, ADMIN), "GET", "/v1/search", {"host": "127.0.0.1"}, "unauthorized"),
    (Policy.of(READ, ADMIN), "GET", "/v1/search", {"host": "127.0.0.1", "authorization": "Bearer wrong"}, "unauthorized"),
    (Policy.of(READ, ADMIN), "GET", "/v1/search", {"host": "127.0.0.1", "authorization": f"Basic {READ}"}, "unauthorized"),
    (Policy.of(READ, ADMIN), "GET", "/v1/search", {"host": "127.0.0.1", "authorization": f"Bearer {READ}"}, None),
    (Policy.of(READ, ADMIN), "GET", "/v1/search", {"host": "127.0.0.1", "authorization": f"bearer {ADMIN}"}, None),
    (Policy.of(READ, ADMIN), "POST", "/v1/documents", {"host": "127.0.0.1", "authorization": f"Bearer {READ}"}, "admin_required"),
    (Policy.of(READ, ADMIN), "DELETE", "/v1/documents/jobs/x", {"host": "127.0.0.1", "authorization": f"Bearer {READ}"}, "admin_required"),
    (Policy.of(READ, ADMIN), "POST", "/v1/documents", {"host": "127.0.0.1", "authorization": f"Bearer {ADMIN}"}, None),
    (Policy.of(READ), "POST", "/v1/documents", {"host": "127.0.0.1", "authorization": f"Bearer {READ}"}, None),
    (Policy.of(READ, ADMIN), "GET", "/docs", {"host": "127.0.0.1"}, None),   # the OpenAPI page holds no data
    # beyond the loopback: any Host name, the key decides
    (Policy.of(READ, bind_host="0.0.0.0"), "GET", "/v1/search", {"host": "qa.lan:8000", "authorization": f"Bearer {READ}"}, None),
    (Policy.of(READ, bind_host="0.0.0.0", allowed_hosts="qa.lan"), "GET", "/v1/search",
     {"host": "other.lan", "authorization": f"Bearer {READ}"}, "host_not_allowed"),
])
def test_access_rules(policy, method, path, headers, code):
    denial = check(policy, method, path, headers)
    assert (denial.code if denial else None) == code


def test_a_server_beyond_the_loopback_needs_a_key():
    assert bind_refusal("127.0.0.1", "", "") is None and bind_refusal("::1", "", "") is None
    assert "QA_API_KEY" in bind_refusal("0.0.0.0", "", "")
    assert bind_refusal("0.0.0.0", READ, "") is None
    from qa.serve.cli import main
    assert main(["serve", "--host", "0.0.0.0"]) == 2   # refused before any index or model is opened


@pytest.fixture(scope="module")
def keyed_api(tmp_path_factory, seed_settings, seed_engine):
    yield from _served(tmp_path_factory.mktemp("keyed"), seed_settings, api_key=READ, admin_key=ADMIN)


def _served(base, seed_settings, **overrides):
    """(url, documents folder) of the API on a real uvicorn server over a copy of the seeds
    (extractive answers), with the given settings."""
    from qa.serve.api import create_app
    from qa.serve.chat import ChatService
    from qa.retrieval.engine import Engine
    from qa.bench.server import in_thread
    from tests.conftest import seed_copy

    settings = seed_copy(base, seed_settings, llm="extractive", **overrides)
    ready = threading.Event()
    with in_thread(create_app(ChatService(settings, Engine.open(settings)), ready=ready), ready) as url:
        yield url, settings.docs_dir


def test_attacks_on_a_keyed_server_are_refused_before_the_body_and_change_nothing(keyed_api):
    url, docs = keyed_api
    before = sorted(p.name for p in docs.iterdir())
    files = {"files": ("攻击.txt", "第一条 测试文本。".encode(), "text/plain")}
    attempts = [
        httpx.get(f"{url}/v1/search", params={"q": "生活补助"}),
        httpx.post(f"{url}/v1/ask", json={"question": "生活补助是多少？"}, headers={"Authorization": "Bearer nope"}),
        httpx.post(f"{url}/v1/documents", files=files, headers={"Authorization": f"Bearer {READ}"}),
        httpx.post(f"{url}/v1/documents", files=files,
                   headers={"Authorization": f"Bearer {ADMIN}", "Origin": "http://evil.example"}),
        httpx.post(f"{url}/v1/ask", json={"question": "生活补助是多少？"},
                   headers={"Authorization": f"Bearer {READ}", "Host": "evil.example"}),
    ]
    assert [(r.status_code, r.json()["error"]["code"]) for r in attempts] == [
        (401, "unauthorized"), (401, "unauthorized"), (403, "admin_required"), (403, "origin_not_allowed"),
        (403, "host_not_allowed")]
    assert attempts[0].headers["www-authenticate"] == "Bearer"
    for r in attempts:   # a message in Chinese and English; no path, no traceback
        msg = r.json()["error"]["message"]
        zh, _, en = msg.rpartition("/ ")
        assert re.search(r"[\u4e00-\u9fff]", zh) and re.fullmatch(r"[A-Za-z ,-]+", en)
        assert "Traceback" not in r.text and str(docs) not in r.text
    assert sorted(p.name for p in docs.iterdir()) == before
    ok = httpx.get(f"{url}/v1/search", params={"q": "生活补助"}, headers={"Authorization": f"Bearer {READ}"})
    assert ok.status_code == 200 and ok.json()["hits"]
    assert httpx.get(f"{url}/docs").status_code == 200


@pytest.mark.parametrize("method, path, length, code", [
    ("POST", "/v1/ask", "2000", None), ("POST", "/v1/ask", str((1 << 20) + 1), "too_large"),
    ("POST", "/v1/documents", str(50 << 20), None), ("POST", "/v1/documents", str(200 << 20), "too_large"),
    ("POST", "/v1/ask", "-5", "bad_request"), ("POST", "/v1/ask", "12abc", "bad_request"),
    ("POST", "/v1/ask", None, None),   # no length: counted as it arrives (the server test below)
])
def test_body_size_is_judged_from_its_declared_length(method, path, length, code):
    from dataclasses import replace

    from qa.serve.access import size_denial
    policy = replace(Policy.of(), max_upload_body=101 << 20)
    headers = {} if length is None else {"content-length": length}
    denial = size_denial(policy, method, path, headers)
    assert (denial.code if denial else None) == code


def test_oversized_bodies_are_refused_before_they_are_read(keyed_api):
    url, docs = keyed_api
    auth = {"Authorization": f"Bearer {ADMIN}"}
    question = {"question": "生活补助是多少？", "history": [["问" * 2000, "答" * 2000]] * 200}   # ≈ 2.4 MB of JSON

    declared = httpx.post(f"{url}/v1/ask", json=question, headers=auth)

    def chunks():   # no Content-Length: sent chunked, cut off at the limit
        body = __import__("json").dumps(question).encode()
        for i in range(0, len(body), 64 << 10):
            yield body[i:i + (64 << 10)]
    streamed = httpx.post(f"{url}/v1/ask", content=chunks(), headers={**auth, "Content-Type": "application/json"})
    assert [(r.status_code, r.json()["error"]["code"]) for r in (declared, streamed)] == [(413, "too_large")] * 2
    assert "1 MB" in declared.json()["error"]["message"]
    small = httpx.post(f"{url}/v1/ask", json={"question": "生活补助是多少？"}, headers=auth, timeout=300)
    assert small.status_code == 200 and small.json()["answer"]


def test_roles_of_keys_for_the_audit_log_and_the_page_login():
    from qa.serve.access import role_of
    from qa.serve.page_guard import PageAccess

    keyed = Policy.of(READ, ADMIN)
    assert [role_of(keyed, {"authorization": f"Bearer {k}"}) for k in (ADMIN, READ)] == ["admin", "reader"]
    assert role_of(Policy.of(), {}) == "open"
    assert role_of(Policy.of(READ), {"authorization": f"Bearer {READ}"}) == "admin"   # no admin key: any key may
    page = PageAccess(keyed)
    assert [page.login(u, k) for u, k in [("张三", READ), ("张三", ADMIN), ("admin", ADMIN), ("admin", READ),
                                         ("张三", "nope"), ("张三", "")]] == [True, True, True, False, False, False]
    assert (page.may_change_documents("admin"), page.may_change_documents("张三"), page.may_change_documents(None)) \
        == (True, False, False)
    assert PageAccess(Policy.of(READ)).may_change_documents("张三") and PageAccess(Policy.of()).may_change_documents(None)


def test_a_client_gets_its_burst_then_waits_for_the_refill():
    from qa.serve.access import RateLimiter

    now = [100.0]
    limiter = RateLimiter(60, clock=lambda: now[0])      # one a second, a burst of 6
    assert [limiter.take("a") for _ in range(6)] == [0.0] * 6
    assert limiter.take("a") == pytest.approx(1.0)       # the 7th waits a second
    assert limiter.take("b") == 0.0                      # another client has its own bucket
    now[0] += 2.5
    assert [limiter.take("a") > 0 for _ in range(3)] == [False, False, True]
    assert RateLimiter(0).take("a") == 0.0               # 0: no limit


def test_a_client_is_its_key_and_its_address():
    from qa.serve.access import client_id

    one = client_id({"authorization": f"Bearer {READ}"}, "10.0.0.5")
    assert one != client_id({"authorization": f"Bearer {ADMIN}"}, "10.0.0.5")
    assert one != client_id({"authorization": f"Bearer {READ}"}, "10.0.0.6")
    assert one == client_id({"authorization": f"Bearer {READ}"}, "10.0.0.5") and READ not in one
    assert client_id({}, "10.0.0.5") == "10.0.0.5|-"
    assert client_id({"authorization": f"Bearer {READ}"}, "10.0.0.5", keyed=False) == "10.0.0.5|-"


@pytest.fixture(scope="module")
def limited_api(tmp_path_factory, seed_settings, seed_engine):
    """A server with tight limits: 120 requests a minute (a burst of 12), one upload job per client,
    `wait=true` answered after 0.05 s."""
    yield from _served(tmp_path_factory.mktemp("limited"), seed_settings, api_key=f"{READ},{ADMIN}", rate_limit=120,
                       upload_jobs_per_client=1, upload_wait_s=0.05)


def _auth(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def test_a_client_over_its_rate_gets_429_with_retry_after_and_others_go_on(limited_api):
    url, _ = limited_api
    codes = [httpx.get(f"{url}/v1/health", headers=_auth(READ)) for _ in range(20)]
    refused = [r for r in codes if r.status_code == 429]
    assert 12 <= sum(r.status_code == 200 for r in codes) < 20 and refused
    body = refused[0].json()["error"]
    assert body["code"] == "rate_limited" and body["type"] == "rate_limit_error"
    assert int(refused[0].headers["retry-after"]) >= 1 and "请求过于频繁" in body["message"]
    assert httpx.get(f"{url}/v1/health", headers=_auth(ADMIN)).status_code == 200   # another client
    time.sleep(int(refused[0].headers["retry-after"]))
    assert httpx.get(f"{url}/v1/health", headers=_auth(READ)).status_code == 200


def test_uploads_wait_at_most_the_set_time_and_queue_one_job_per_client(limited_api):
    url, docs = limited_api
    time.sleep(2)   # the previous test's burst refills
    text = "\n".join(f"第{i}条 某乡第{i}个村今年新建水渠{i * 2}公里。" for i in range(1, 30)).encode()
    first = httpx.post(f"{url}/v1/documents", params={"wait": "true"}, headers=_auth(READ),
                       files={"files": ("水渠甲.txt", text, "text/plain")}, timeout=60)
    # still indexing after 0.05 s: 202 with the job to poll, not a request held open
    assert first.status_code == 202 and "仍在建立" in first.json()["note"]
    second = httpx.post(f"{url}/v1/documents", headers=_auth(READ),
                        files={"files": ("水渠乙.txt", text.replace("水渠".encode(), "堤坝".encode()), "text/plain")})
    assert second.status_code == 429 and second.json()["error"]["code"] == "too_many_jobs"
    other = httpx.post(f"{url}/v1/documents", headers=_auth(ADMIN),
                       files={"files": ("水渠丙.txt", text.replace("水渠".encode(), "桥梁".encode()), "text/plain")})
    assert other.status_code == 202                      # another client has its own queue
    for job in (first.json()["id"], other.json()["id"]):
        for _ in range(600):
            state = httpx.get(f"{url}/v1/documents/jobs/{job}", headers=_auth(ADMIN)).json()["state"]
            if state in ("done", "failed", "cancelled"):
                break
            time.sleep(0.5)
        assert state == "done"
    assert {"水渠甲.txt", "水渠丙.txt"} <= {p.name for p in docs.iterdir()}
    assert "水渠乙.txt" not in {p.name for p in docs.iterdir()}


def test_a_history_longer_than_the_limit_is_refused_with_a_message(limited_api):
    from qa.serve.chat import MAX_HISTORY_TURNS

    url, _ = limited_api
    turns = [["上一个问题？", "上一个回答。"]] * (MAX_HISTORY_TURNS + 1)
    ask = httpx.post(f"{url}/v1/ask", json={"question": "生活补助是多少？", "history": turns}, headers=_auth(ADMIN))
    messages = [{"role": r, "content": c} for t in turns for r, c in zip(("user", "assistant"), t)]
    chat = httpx.post(f"{url}/v1/chat/completions", headers=_auth(ADMIN),
                      json={"messages": messages + [{"role": "user", "content": "生活补助是多少？"}]})
    for r in (ask, chat):
        assert r.status_code == 400 and r.json()["error"]["code"] == "history_too_long"
        assert f"最多 {MAX_HISTORY_TURNS} 轮" in r.json()["error"]["message"]
    ok = httpx.post(f"{url}/v1/ask", json={"question": "生活补助是多少？", "history": turns[:2]}, headers=_auth(ADMIN),
                    timeout=300)
    assert ok.status_code == 200
