"""Who may use the HTTP API (qa/serve/access.py): the rules as a pure function, then attacks on a real
uvicorn server with keys set (a copy of the seeds, extractive answers)."""
from __future__ import annotations

import re
import threading

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
    from qa.serve.api import create_app
    from qa.serve.chat import ChatService
    from qa.retrieval.engine import Engine
    from qa.bench.server import in_thread
    from tests.conftest import seed_copy

    settings = seed_copy(tmp_path_factory.mktemp("keyed"), seed_settings, llm="extractive",
                         api_key=READ, admin_key=ADMIN)
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
