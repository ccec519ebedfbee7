"""Stage 7–9 driver: question → (rewrite) → retrieve → gate → passages → generate → verify → Answer.

`stream()` yields events so every front end shows progress the same way:
  Event("rewrite", standalone question)       when the question was rewritten or translated
  Event("evidence", list[Passage])            as soon as retrieval is done, before any token
  Event("token", text piece)                  as the model writes
  Event("final", Answer)                      citations verified, refusal decided
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from .cite import REFUSAL, DocText, is_refusal, verify
from .llm_base import GenerationError
from .normalize import normalize, strip_controls
from .prompt import INJECTION, answer_kinds, build_messages, select_passages, sentence_score
from .rewrite import name_glossary, needs_translation, standalone_question
from .schema import Answer, Hit, Passage
from .sentences import content_tokens, numbers, sentence_spans
from .settings import Settings

MAX_QUESTION_CHARS = 500
EMPTY_QUESTION = "问题为空：请输入要查询的内容。"

# Relevance gate (no model call below it). A question is off-topic when the best passage is
# neither semantically close (dense cosine) nor shares its content words. Calibrated on the
# questions/dev.jsonl "offtopic" items versus all answerable ones; see README "Refusal".
GATE_DENSE = 0.87
GATE_COVERAGE = 0.34


@dataclass(frozen=True)
class Event:
    kind: str
    data: Any


def clean_question(question: str) -> tuple[str, list[str]]:
    notices = []
    q = " ".join(strip_controls(question or "").split())
    if len(q) > MAX_QUESTION_CHARS:
        q = q[:MAX_QUESTION_CHARS]
        notices.append(f"问题过长，只使用了前 {MAX_QUESTION_CHARS} 个字。")
    return q, notices


def coverage(question: str, hits: list[Hit]) -> float:
    """Share of the question's content words found in the top passages."""
    q = content_tokens(question)
    if not q:
        return 0.0
    found = set().union(*(content_tokens(h.chunk.context_text) for h in hits[:3])) if hits else set()
    return sum(len(t) for t in q if t in found) / sum(len(t) for t in q)


def is_relevant(question: str, hits: list[Hit]) -> bool:
    if not hits:
        return False
    top_dense = max((h.dense or 0.0) for h in hits)
    return top_dense >= GATE_DENSE or coverage(question, hits) >= GATE_COVERAGE


def extractive(question: str, passages: list[Passage], max_sentences: int = 2,
               idf: Mapping[str, float] | None = None) -> str:
    """The best supporting sentences, each with its [n]: an answer with no model at all."""
    q_tokens, q_nums, kinds = content_tokens(question), set(numbers(question)), answer_kinds(question)
    scored = []
    for rank, p in enumerate(passages):
        for s, e in sentence_spans(p.text):
            sent = p.text[s:e]
            if INJECTION.search(sent):
                continue
            scored.append((sentence_score(q_tokens, q_nums, sent, kinds, idf) - 0.05 * rank, p.n, sent))
    scored.sort(key=lambda x: -x[0])
    if not scored or scored[0][0] <= 0:
        return REFUSAL
    best = [scored[0]] + [x for x in scored[1:] if x[0] >= 0.8 * scored[0][0] and x[1] != scored[0][1]][: max_sentences - 1]
    out = []
    for _, n, sent in best:
        sent = sent.rstrip("。；;！？!?")
        out.append(f"{sent}[{n}]。")
    return "".join(out)


class Answerer:
    def __init__(self, engine, generator=None, settings: Settings | None = None,
                 budget_tokens: int = 360, max_new_tokens: int = 120, notice: str | None = None):
        self.engine = engine
        self.generator = generator
        self.settings = settings or engine.settings
        self.budget_tokens = budget_tokens
        self.max_new_tokens = max_new_tokens
        self.load_notice = notice

    def _docs(self) -> dict[str, DocText]:
        index = self.engine.index
        if getattr(self, "_docs_for", None) is not index:  # rebuilt after an upload
            self._docs_cache = {
                name: DocText(normalize(" ".join([d.title, *(p.text for p in d.paragraphs if p.kind == "meta")])),
                              normalize(" ".join([d.title, *(p.text for p in d.paragraphs)])))
                for name, d in index.documents.items()
            }
            self._docs_for = index
        return self._docs_cache

    def _glossary(self) -> dict[str, str]:
        index = self.engine.index
        if getattr(self, "_glossary_for", None) is not index:
            self._glossary_cache = name_glossary(p.text for d in index.documents.values() for p in d.paragraphs)
            self._glossary_for = index
        return self._glossary_cache

    @property
    def model_name(self) -> str:
        return self.generator.name if self.generator is not None else "extractive"

    def _count(self, text: str) -> int:
        if self.generator is not None:
            return self.generator.count_tokens(text)
        return 1  # no prompt to keep small: max_passages alone bounds extractive mode

    def _chat(self, messages: list[dict], max_new: int) -> str:
        try:
            return self.generator.chat(messages, max_new)
        except GenerationError:  # the rewrite falls back to its rules; the answer step reports the failure
            return ""

    def stream(self, question: str, history: list[tuple[str, str]] | None = None,
               k: int | None = None) -> Iterator[Event]:
        t0 = time.perf_counter()
        history = history or []
        q, notices = clean_question(question)
        if self.load_notice:
            notices.insert(0, self.load_notice)
        ans = Answer(question=q, text="", abstained=True, notices=notices, model=self.model_name)
        if not q:
            ans.text = EMPTY_QUESTION
            yield Event("final", ans)
            return
        chat = self._chat if self.generator is not None else None
        glossary = self._glossary() if chat is not None and needs_translation(q) else None
        standalone = standalone_question(q, history, chat, glossary)
        if standalone:
            ans.standalone = standalone
            yield Event("rewrite", standalone)
        query = standalone or q
        t_rw = time.perf_counter()
        hits = self.engine.search(query, k=k or self.settings.top_k)
        ans.hits = hits
        paragraphs = self.engine.index.paragraphs
        idf = self.engine.retriever.bm25.idf
        passages = select_passages(query, hits, paragraphs, self.budget_tokens, self._count, idf=idf)
        ans.passages = passages
        t_ret = time.perf_counter()
        ans.latency.update(rewrite=round(t_rw - t0, 3), retrieve=round(t_ret - t_rw, 3))
        yield Event("evidence", passages)

        if not is_relevant(query, hits):
            ans.text = REFUSAL
            ans.latency["total"] = round(time.perf_counter() - t0, 3)
            yield Event("final", ans)
            return

        if self.generator is None:
            raw = extractive(query, passages, idf=idf)
            ans.latency["first_token"] = round(time.perf_counter() - t0, 3)
            yield Event("token", raw)
        else:
            pieces = []
            messages = build_messages(query, passages)
            first = None
            try:
                for piece in self.generator.stream_chat(messages, self.max_new_tokens, stop=_stop):
                    if first is None:
                        first = time.perf_counter()
                        ans.latency["first_token"] = round(first - t0, 3)
                    pieces.append(piece)
                    yield Event("token", piece)
                raw = "".join(pieces)
            except GenerationError as exc:  # remote server down, timed out or cut off: answer from the passages
                ans.notices.append(f"{exc}已改用摘录模式（直接摘录原文句子）。")
                raw = extractive(query, passages, idf=idf)
            ans.latency["prompt_tokens"] = self.generator.last.prompt_tokens
            ans.latency["new_tokens"] = self.generator.last.new_tokens

        ans.raw = raw
        if is_refusal(raw):
            ans.text, ans.abstained = REFUSAL, True
        else:
            v = verify(raw, passages, query, self._docs())
            ans.text, ans.abstained = v.text, v.abstained
            ans.citations, ans.claims, ans.repairs = v.citations, v.claims, v.repairs
        ans.latency["total"] = round(time.perf_counter() - t0, 3)
        yield Event("final", ans)

    def answer(self, question: str, history: list[tuple[str, str]] | None = None, k: int | None = None) -> Answer:
        final = None
        for ev in self.stream(question, history, k):
            if ev.kind == "final":
                final = ev.data
        return final


def _stop(text: str) -> bool:
    # Answers are one to three sentences: a blank line or a fourth sentence means it is rambling.
    return "\n\n" in text.strip() or len(re.findall(r"[。！？!?]", text)) >= 4
