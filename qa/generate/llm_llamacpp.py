"""Generate stage, llama.cpp backend (the optional extra [llamacpp]): llama-cpp-python runs the packaged
Q4_K_M GGUF as is; the default where the CPU lacks AVX-512 (qa/generate/llm.py engine_of).

Decoding a 1B-class model on a CPU is bound by memory bandwidth, so reading 4-6 bit weights instead of a
dequantized bf16 copy is the lever: no conversion, no second copy on disk, ~1.3 GB resident for
the 1.5B. Greedy decoding; llama.cpp keeps the KV of the previous call and `Llama.generate` re-uses
its longest shared token prefix (the fixed system prompt is ~230 tokens), like the transformers backend.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

from qa.generate.llm_base import (DEFAULT_CTX, BaseGenerator, ChatTemplate, GenerationError, GenStats, ModelError,
                                  Utf8Stream, common_prefix)

# System prompts whose KV state is kept: the answer's and the follow-up rewrite's (qa/answering/prompt.py,
# qa/answering/rewrite.py), plus one spare.
SYSTEM_STATES = 3


def _import_llama():
    try:
        from llama_cpp import Llama
    except ImportError as e:  # a failed compile during pip install leaves no module
        raise ModelError("未安装 llama-cpp-python（安装时编译失败？）请按 README 的安装命令重新安装 / "
                         f"llama-cpp-python is not installed: {e}") from e
    return Llama


def template_of(llm) -> ChatTemplate:
    meta = llm.metadata
    vocab = {"bos": meta.get("tokenizer.ggml.bos_token_id"), "eos": meta.get("tokenizer.ggml.eos_token_id")}
    special = {k: llm.detokenize([int(v)], special=True).decode("utf-8", "replace") if v is not None else ""
               for k, v in vocab.items()}
    return ChatTemplate(meta.get("tokenizer.chat_template", ""), special["bos"], special["eos"])


def encode_with(llm, text: str, special: bool = True) -> list[int]:
    return llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)


class LlamaCppGenerator(BaseGenerator):
    def __init__(self, name: str, path: Path, threads: int, n_ctx: int = DEFAULT_CTX) -> None:
        super().__init__(name)
        Llama = _import_llama()
        try:
            # use_mmap=False: llama.cpp repacks the Q4_K weights for AVX2 into its own buffers, so a mapped
            # file stayed resident beside them (1.9 GB RSS for the 1.5B); read once, it is 1.3 GB.
            self.llm = Llama(model_path=str(path), n_ctx=n_ctx, n_batch=512, n_threads=threads,
                             n_threads_batch=threads, use_mmap=False, verbose=False)
        except Exception as e:
            raise ModelError(f"llama.cpp 无法加载模型 / llama.cpp cannot load {path}: {e}") from e
        self.model_id = str(path)
        self.n_ctx = n_ctx
        self.template = template_of(self.llm)
        self._eos = self.stop_ids([self.llm.token_eos()])
        self._states: dict[tuple[int, ...], object] = {}   # system turn tokens → llama.cpp state

    def encode(self, text: str, special: bool = True) -> list[int]:
        return encode_with(self.llm, text, special)

    def stream_chat(self, messages: list[dict], max_new_tokens: int = 256,
                    stop: Callable[[str], bool] | None = None) -> Iterator[str]:
        t0 = time.perf_counter()
        ids = self.prompt_ids(messages)
        if len(ids) + max_new_tokens > self.n_ctx:
            raise GenerationError(f"提问内容过长（{len(ids)} 个词元），超出模型上下文 {self.n_ctx}。")
        stats = GenStats(prompt_tokens=len(ids))
        # One llama.cpp context: calls are serialized (a page with two tabs waits rather than corrupting the KV).
        with self._lock:
            llm = self.llm
            fresh = 0   # system-turn tokens prefilled by _restore_system_turn in this call
            if not self.reuse_prefix:
                llm.reset()
            else:
                fresh = self._restore_system_turn(messages, ids)
            # Same rule as Llama.generate: the shared prefix is kept, minus one token if nothing else is new.
            n = common_prefix(list(llm._input_ids), ids) if llm.n_tokens else 0
            stats.reused_tokens = (n - 1 if n == len(ids) else n) - fresh
            out = Utf8Stream()
            tokens = llm.generate(ids, top_k=1, top_p=1.0, min_p=0.0, typical_p=1.0, temp=0.0, repeat_penalty=1.0)
            try:
                for tid in tokens:
                    if stats.new_tokens == 0:
                        stats.first_token_s = time.perf_counter() - t0
                    if tid in self._eos:
                        break
                    stats.new_tokens += 1
                    piece = out.feed(llm.detokenize([tid]))
                    if piece:
                        yield piece
                    if stats.new_tokens >= max_new_tokens or (stop is not None and stop(out.text)):
                        break
            finally:
                tokens.close()
                stats.total_s = time.perf_counter() - t0
                self.last = stats

    def _restore_system_turn(self, messages: list[dict], ids: list[int]) -> int:
        """llama.cpp keeps the KV of the last call only. A follow-up or English question is first
        rewritten under another system prompt, which used to evict the answer's: ~270 tokens
        prefilled again (~3 s on 2 cores). The KV state right after each system turn (~8 MB) is kept,
        at most SYSTEM_STATES of them, and loaded when the context holds another prefix. Returns
        the number of tokens it prefilled itself."""
        n_sys = self.system_turn(messages, ids)
        if not n_sys:
            return 0
        key = tuple(ids[:n_sys])
        llm = self.llm
        if llm.n_tokens >= n_sys and common_prefix(list(llm._input_ids[:n_sys]), ids) == n_sys:
            if key not in self._states:   # e.g. the first call: keep its system turn for later
                self._remember(key, n_sys)
            return 0
        state = self._states.pop(key, None)
        if state is None:
            llm.reset()
            self._remember(key, n_sys)
            return n_sys
        self._states[key] = state      # most recently used last
        llm.load_state(state)
        return 0

    def _remember(self, key: tuple[int, ...], n_sys: int) -> None:
        llm = self.llm
        if llm.n_tokens > n_sys:         # keep only the system turn in the saved state
            llm.n_tokens = n_sys
            llm._ctx.kv_cache_seq_rm(-1, n_sys, -1)
        elif llm.n_tokens < n_sys:
            llm.eval(list(key[llm.n_tokens:]))
        self._states[key] = llm.save_state()
        while len(self._states) > SYSTEM_STATES:
            self._states.pop(next(iter(self._states)))

    def reset_cache(self) -> None:
        with self._lock:
            self.llm.reset()
            self._states.clear()

    def close(self) -> None:
        self.llm.close()
