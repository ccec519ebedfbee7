"""Generate stage, shared by every backend: the chat template, token counting, stop tokens, timing.

Backends (qa/generate/llm_llamacpp.py, qa/generate/llm_transformers.py, qa/generate/llm_openai.py) differ only in how they turn
token ids into more token ids; the prompt text comes from one renderer of the model's own Jinja chat
template, so the same messages give the same tokens whichever backend runs them.
No torch or llama.cpp import here: qa/answering/answer.py imports GenerationError from this module.
"""
from __future__ import annotations

import codecs
import json
import threading
from dataclasses import dataclass
from typing import Callable, Iterator

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


class ModelError(RuntimeError):
    """Weights missing/corrupt or not loadable; the message says how to fix it (中文 + English)."""


class GenerationError(RuntimeError):
    """Generation failed after the model was loaded (server down, timeout, HTTP error, broken stream).

    The message is a complete Chinese sentence for the user; the answerer falls back to extractive mode."""


# Prompts are ~1,000 tokens at most (passage budget + system prompt) plus 120 new tokens; a follow-up
# rewrite adds a little. 4096 leaves room (~115 MB of f16 KV for the 1.5B on llama.cpp).
DEFAULT_CTX = 4096


@dataclass
class GenStats:
    prompt_tokens: int = 0
    reused_tokens: int = 0  # prompt tokens whose KV came from the previous call
    new_tokens: int = 0
    first_token_s: float = 0.0
    total_s: float = 0.0


# ChatML turn ends; GGUF metadata may name only one of them as EOS.
TURN_END_TOKENS = ("<|im_end|>", "<|endoftext|>")


def _raise(msg: str) -> None:
    raise TemplateError(msg)


class ChatTemplate:
    """The model's Jinja chat template rendered the way transformers' apply_chat_template renders it
    (sandboxed, trim_blocks/lstrip_blocks, loop controls, tojson, raise_exception)."""

    def __init__(self, source: str, bos_token: str = "", eos_token: str = "") -> None:
        if not source:
            raise ModelError("模型没有内置对话模板 / the model has no chat template")
        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
        env.filters["tojson"] = lambda x, indent=None, **_: json.dumps(x, ensure_ascii=False, indent=indent)
        env.globals["raise_exception"] = _raise
        self.source = source
        self._tpl = env.from_string(source)
        self._special = {"bos_token": bos_token, "eos_token": eos_token}

    def render(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        return self._tpl.render(messages=messages, add_generation_prompt=add_generation_prompt, tools=None,
                                **self._special)


class Utf8Stream:
    """Bytes of successive tokens → text, holding back a partial UTF-8 sequence (a CJK character is
    often split over two byte-level BPE tokens)."""

    def __init__(self) -> None:
        self._dec = codecs.getincrementaldecoder("utf-8")("replace")
        self.text = ""

    def feed(self, data: bytes) -> str:
        piece = self._dec.decode(data)
        self.text += piece
        return piece


class BaseGenerator:
    """What qa/answering/answer.py and qa/answering/rewrite.py use: name, count_tokens, stream_chat, chat, last, reset_cache.

    Subclasses set `template` and implement `encode` (text → ids, special markers parsed) and `_stream`."""

    name: str
    template: ChatTemplate
    load_seconds: float = 0.0
    from_cache: bool = True
    # Reuse the KV of the longest token prefix shared with the previous call (the fixed system prompt,
    # or the same passages on a follow-up question): prefill dominates CPU latency.
    reuse_prefix: bool = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.last = GenStats()
        self._lock = threading.Lock()

    # -- tokens
    def encode(self, text: str, special: bool = True) -> list[int]:
        raise NotImplementedError

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text, special=False))

    def prompt_text(self, messages: list[dict]) -> str:
        return self.template.render(messages)

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        return self.encode(self.prompt_text(messages))

    def system_turn(self, messages: list[dict], ids: list[int]) -> int:
        """How many leading tokens of `ids` are the system turn alone (0 when there is none or the
        template does not render it as a prefix): what stays the same from call to call."""
        if not messages or messages[0].get("role") != "system":
            return 0
        turn = self.encode(self.template.render(messages[:1], add_generation_prompt=False))
        return len(turn) if 0 < len(turn) < len(ids) and ids[:len(turn)] == turn else 0

    def count_prompt_tokens(self, messages: list[dict]) -> int:
        return len(self.prompt_ids(messages))

    def stop_ids(self, eos_ids: list[int | None]) -> frozenset[int]:
        """EOS ids the model declares plus the ChatML turn ends when they are single tokens."""
        ids = {i for i in eos_ids if i is not None and i >= 0}
        for t in TURN_END_TOKENS:
            enc = self.encode(t)
            if len(enc) == 1:
                ids.add(enc[0])
        return frozenset(ids)

    # -- generation
    def stream_chat(self, messages: list[dict], max_new_tokens: int = 256,
                    stop: Callable[[str], bool] | None = None) -> Iterator[str]:
        """Greedy decode; yields text pieces. `stop(text_so_far)` returning True ends generation early."""
        raise NotImplementedError

    def chat(self, messages: list[dict], max_new_tokens: int = 256, stop: Callable[[str], bool] | None = None) -> str:
        return "".join(self.stream_chat(messages, max_new_tokens, stop))

    def reset_cache(self) -> None:
        pass

    def close(self) -> None:
        pass


def common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n
