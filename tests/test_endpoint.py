"""An OpenAI-compatible server as the generator: llama.cpp's own server (python -m llama_cpp.server) with
the packaged 0.5B GGUF, started on 127.0.0.1 for real, answering through the normal Answerer; then the
same server down, stalled (SIGSTOP) and killed mid-answer. Every failure ends with a Chinese notice and
the extractive answer, within the configured timeouts."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from qa.answering.answer import Answerer
from qa.generate.llm import ensure_gguf, load_generator
from qa.generate.llm_base import GenerationError
from qa.generate.llm_openai import delta_of, parse_sse_line
from qa.bench.server import free_port

pytest.importorskip("llama_cpp.server", reason="llama-cpp-python[server] is a test dependency")

QUESTION = "定西市驻村帮扶干部的生活补助是多少？"
ALIAS = "qwen-0.5b-packaged"


class Server:
    """python -m llama_cpp.server on a free local port, waited for until /v1/models answers."""

    def __init__(self, gguf: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._log = open(log, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", ALIAS,
             "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", "4096", "--n_threads", "2",
             "--n_threads_batch", "2", "--verbose", "false"],
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited {self.proc.returncode}: {log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/models", timeout=2, trust_env=False).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError("llama_cpp.server did not start in 180 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


@pytest.fixture(scope="module")
def gguf(qa_cache_dir: Path) -> Path:
    return ensure_gguf("0.5b", qa_cache_dir)


@pytest.fixture(scope="module")
def server(gguf: Path, tmp_path_factory):
    s = Server(gguf, tmp_path_factory.mktemp("server") / "server.log")
    yield s
    s.stop()


def _answerer(engine, url: str, **timeouts) -> Answerer:
    settings = engine.settings.with_(llm=url, llm_model_name="", **timeouts)
    gen = load_generator(url, settings.cache_dir, settings.threads, settings)
    return Answerer(engine, gen, settings)


@pytest.fixture(scope="module")
def extractive_answer(seed_engine):
    return Answerer(seed_engine, None).answer(QUESTION)


def test_server_streams_an_answer_with_citations(server, seed_engine, gguf) -> None:
    a = _answerer(seed_engine, server.url)
    events = list(a.stream(QUESTION))
    kinds = [e.kind for e in events]
    assert kinds[0] == "evidence" and kinds[-1] == "final" and kinds.count("token") >= 3  # streamed
    ans = events[-1].data
    assert a.generator.model == ALIAS  # no QA_LLM_MODEL_NAME: the server's first model
    assert not ans.notices, ans.notices
    raw = "".join(e.data for e in events if e.kind == "token")
    assert ans.raw == raw
    # Same weights, same greedy decoding and the same chat template: the server writes what the local
    # llama.cpp backend writes for the identical prompt, and verification cites the seed paragraph.
    local = load_generator("0.5b", seed_engine.settings.cache_dir, 2)
    try:
        from qa.answering.prompt import build_messages

        # The passages the model read are those of the evidence event (a conflict check may add more
        # to the final answer's passages afterwards).
        # Server and local runs batch the prompt differently, so a near-tie between two markers may
        # go either way; the words must be the same.
        shown = events[0].data
        unmarked = re.compile(r"\[\d+\]")
        assert unmarked.sub("", local.chat(build_messages(QUESTION, shown), a.max_new_tokens)) == unmarked.sub("", raw)
    finally:
        local.close()
    assert not ans.abstained and "100元" in ans.text
    assert any(c.para.startswith("000_2fea3bba8e0420ec.txt#") and "每人每天100元" in c.quote for c in ans.citations)
    assert ans.latency["prompt_tokens"] > 200  # the passages and system prompt travelled


def test_model_name_setting_is_sent(server, seed_engine) -> None:
    a = _answerer(seed_engine, server.url)
    a.generator.model = ALIAS
    assert "2" in a.generator.chat([{"role": "user", "content": "1+1=?只写数字"}], 5)


def test_server_down_gives_notice_and_extractive_answer(seed_engine, extractive_answer) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    a = _answerer(seed_engine, url, llm_connect_timeout=2.0)
    t = time.monotonic()
    ans = a.answer(QUESTION)
    assert time.monotonic() - t < 10
    assert any("无法连接模型服务" in n and "摘录" in n for n in ans.notices), ans.notices
    assert ans.text == extractive_answer.text and ans.citations == extractive_answer.citations


def test_http_error_gives_notice_and_extractive_answer(server, seed_engine, extractive_answer) -> None:
    a = _answerer(seed_engine, server.url.replace("/v1", "/no-such-api/v1"))
    a.generator.model = ALIAS  # skip /models, which would fail the same way
    ans = a.answer(QUESTION)
    assert any("HTTP 404" in n for n in ans.notices), ans.notices
    assert ans.text == extractive_answer.text


def test_stalled_server_times_out(gguf, seed_engine, extractive_answer, tmp_path) -> None:
    s = Server(gguf, tmp_path / "server.log")
    try:
        a = _answerer(seed_engine, s.url, llm_read_timeout=3.0)
        a.generator.model = ALIAS
        s.proc.send_signal(signal.SIGSTOP)  # accepts connections (kernel backlog) but never answers
        t = time.monotonic()
        ans = a.answer(QUESTION)
        assert time.monotonic() - t < 20
        assert any("秒内没有响应" in n for n in ans.notices), ans.notices
        assert ans.text == extractive_answer.text
    finally:
        s.stop()


def test_server_killed_mid_answer(gguf, seed_engine, extractive_answer, tmp_path) -> None:
    s = Server(gguf, tmp_path / "server.log")
    try:
        # A long read timeout: the answer must end because the connection broke, not because it timed out.
        a = _answerer(seed_engine, s.url, llm_read_timeout=300.0)
        tokens, killed_at, final = 0, None, None
        for ev in a.stream(QUESTION):
            if ev.kind == "token":
                tokens += 1
                if tokens == 1:
                    s.proc.kill()
                    killed_at = time.monotonic()
            elif ev.kind == "final":
                final = ev.data
        assert tokens >= 1 and killed_at is not None
        assert time.monotonic() - killed_at < 15
        assert any("连接中断" in n or "无法连接" in n for n in final.notices), final.notices
        assert final.text == extractive_answer.text
    finally:
        s.stop()


def test_stream_parser_rejects_malformed_lines() -> None:
    assert parse_sse_line("") is None and parse_sse_line(": keep-alive") is None
    assert parse_sse_line("data: [DONE]") == {"done": True}
    ev = parse_sse_line('data: {"choices":[{"delta":{"content":"补助"},"finish_reason":null}]}')
    assert delta_of(ev) == ("补助", None)
    for bad in ("<html>502 Bad Gateway</html>", "data: {not json", "data: [1, 2]",
                'data: {"error": {"message": "model not loaded"}}'):
        with pytest.raises(GenerationError):
            parse_sse_line(bad)
    for bad_event in ({"object": "x"}, {"choices": [{"delta": "text"}]}, {"choices": [{"delta": {"content": 5}}]}):
        with pytest.raises(GenerationError):
            delta_of(bad_event)
