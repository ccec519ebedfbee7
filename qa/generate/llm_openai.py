"""Generate stage, remote backend: any OpenAI-compatible chat server (vLLM, llama.cpp server, Ollama,
SGLang, TGI…) given as http(s)://HOST/…/v1.

Retrieval, the prompt, verification and citations stay local and unchanged; only the messages travel.
Passages are budgeted with the packaged Qwen tokenizer (vocabulary only, no weights), so the prompt is the
one the local models get. Every failure (refused, timeout, HTTP error, broken or malformed stream)
raises GenerationError with a Chinese sentence, and the answerer falls back to extractive mode.
"""
from __future__ import annotations

import json
import time
from typing import Callable, Iterator

import httpx

from qa.generate.llm_base import BaseGenerator, GenerationError, GenStats


def parse_sse_line(line: str) -> dict | None:
    """One line of a chat-completions event stream → the event object; None for blank/comment/keep-alive
    lines; {"done": True} for the terminator. A line that is not valid SSE JSON raises GenerationError."""
    line = line.strip()
    if not line or line.startswith(":") or line.startswith(("event:", "id:", "retry:")):
        return None
    if not line.startswith("data:"):
        raise GenerationError(f"模型服务返回的数据格式不正确（不是事件流）：{line[:80]}")
    data = line[5:].strip()
    if data == "[DONE]":
        return {"done": True}
    try:
        event = json.loads(data)
    except ValueError:
        raise GenerationError(f"模型服务返回的数据格式不正确（无法解析）：{data[:80]}") from None
    if not isinstance(event, dict):
        raise GenerationError(f"模型服务返回的数据格式不正确：{data[:80]}")
    if "error" in event:
        err = event["error"]
        msg = err.get("message") if isinstance(err, dict) else err
        raise GenerationError(f"模型服务报告错误：{str(msg)[:200]}")
    return event


def delta_of(event: dict) -> tuple[str, str | None]:
    """(content piece, finish_reason) of one chat.completion.chunk."""
    choices = event.get("choices")
    if not isinstance(choices, list):
        raise GenerationError("模型服务返回的数据格式不正确（缺少 choices）。")
    if not choices:  # a usage-only chunk
        return "", None
    c = choices[0]
    delta = c.get("delta") or {}
    if not isinstance(delta, dict):
        raise GenerationError("模型服务返回的数据格式不正确（delta 不是对象）。")
    content = delta.get("content") or ""
    if not isinstance(content, str):
        raise GenerationError("模型服务返回的数据格式不正确（content 不是文本）。")
    return content, c.get("finish_reason")


class OpenAIGenerator(BaseGenerator):
    def __init__(self, base_url: str, vocab, model: str = "", api_key: str = "",
                 connect_timeout: float = 5.0, read_timeout: float = 60.0, total_timeout: float = 180.0) -> None:
        super().__init__(base_url)
        self.base_url = base_url.rstrip("/")
        self.model_id = self.base_url
        self._vocab = vocab      # qa.generate.vocab.Vocab: the packaged model's tokenizer and chat template
        self.template = vocab.template
        self.model = model
        self.total_timeout = total_timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # trust_env=False: a proxy from the environment must not see a local server's traffic.
        self._client = httpx.Client(headers=headers, trust_env=False, timeout=httpx.Timeout(
            connect=connect_timeout, read=read_timeout, write=connect_timeout, pool=connect_timeout))
        self._timeouts = (connect_timeout, read_timeout)

    def encode(self, text: str, special: bool = True) -> list[int]:
        return self._vocab.encode(text, special)

    def _fail(self, exc: Exception) -> GenerationError:
        where = self.base_url
        if isinstance(exc, httpx.ConnectTimeout):
            return GenerationError(f"连接模型服务 {where} 超时（{self._timeouts[0]:g} 秒）。")
        if isinstance(exc, httpx.ConnectError):
            return GenerationError(f"无法连接模型服务 {where}：服务未启动或地址有误。")
        if isinstance(exc, httpx.TimeoutException):
            return GenerationError(f"模型服务 {where} 在 {self._timeouts[1]:g} 秒内没有响应。")
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            return GenerationError(f"与模型服务 {where} 的连接中断，回答没有完成。")
        return GenerationError(f"调用模型服务 {where} 失败：{type(exc).__name__}。")

    def _model_name(self) -> str:
        """QA_LLM_MODEL_NAME, else the server's first model (asked once, on first use: the server may start later)."""
        if not self.model:
            try:
                r = self._client.get(f"{self.base_url}/models")
            except httpx.HTTPError as e:
                raise self._fail(e) from e
            try:
                r.raise_for_status()
                self.model = str(r.json()["data"][0]["id"])
            except (httpx.HTTPStatusError, ValueError, KeyError, IndexError, TypeError) as e:
                raise GenerationError(f"模型服务 {self.base_url} 没有列出可用模型（HTTP {r.status_code}），"
                                      "请用 QA_LLM_MODEL_NAME 指定模型名。") from e
        return self.model

    def stream_chat(self, messages: list[dict], max_new_tokens: int = 256,
                    stop: Callable[[str], bool] | None = None) -> Iterator[str]:
        t0 = time.perf_counter()
        stats = GenStats(prompt_tokens=self.count_prompt_tokens(messages))
        self.last = stats
        body = {"model": self._model_name(), "messages": messages, "stream": True, "max_tokens": max_new_tokens,
                "temperature": 0, "top_p": 1, "seed": 0}
        deadline = time.monotonic() + self.total_timeout
        text, finished = "", False
        try:
            with self._client.stream("POST", f"{self.base_url}/chat/completions", json=body) as r:
                if r.status_code != 200:
                    detail = r.read().decode("utf-8", "replace")[:200]
                    raise GenerationError(f"模型服务返回错误 HTTP {r.status_code}：{detail}")
                for line in r.iter_lines():
                    if time.monotonic() > deadline:
                        raise GenerationError(f"模型服务 {self.base_url} 在 {self.total_timeout:g} 秒内没有答完。")
                    event = parse_sse_line(line)
                    if event is None:
                        continue
                    if event.get("done"):
                        finished = True
                        break
                    piece, reason = delta_of(event)
                    if piece:
                        if not text:
                            stats.first_token_s = time.perf_counter() - t0
                        text += piece
                        stats.new_tokens += 1  # one chunk ≈ one token on the servers we know
                        yield piece
                        if stop is not None and stop(text):
                            finished = True
                            break
                    if reason is not None:
                        finished = True  # some servers end with finish_reason and no [DONE]
                        if reason not in ("stop", "length"):
                            raise GenerationError(f"模型服务中止了回答（{reason}）。")
        except httpx.HTTPError as e:
            if not finished:  # a connection dropped after the answer ended loses nothing
                raise self._fail(e) from e
        finally:
            stats.total_s = time.perf_counter() - t0
        if not finished:
            raise GenerationError(f"与模型服务 {self.base_url} 的连接中断，回答没有完成。")

    def close(self) -> None:
        self._client.close()
