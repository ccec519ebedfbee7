"""Stage 7–9 driver: question → (rewrite) → retrieve → gate → passages → generate → verify → Answer.

`stream()` yields events so every front end shows progress the same way:
  Event("rewrite", standalone question)       when the question was rewritten or translated
  Event("evidence", list[Passage])            as soon as retrieval is done, before any token
  Event("token", text piece)                  as the model writes
  Event("final", Answer)                      citations verified, refusal decided
"""
from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Mapping

from qa.verify.cite import Verified, verify
from qa.verify.claims import REFUSAL, is_refusal
from qa.verify.frame import DocText, in_frame
from qa.answering.fields import field_answer
from qa.answering.gate import Gate, load_or_calibrate, signals
from qa.generate.llm_base import GenerationError
from qa.text.normalize import normalize, strip_controls
from qa.text.guard import Figure, conflicts, instruction_spans, only_instructions
from qa.answering.prompt import build_messages, select_passages, sentence_score, window
from qa.answering.rewrite import corpus_glossary, name_numbered_documents, needs_translation, own_words, standalone_question
from qa.schema import Answer, Document, Hit, Paragraph, Passage
from qa.ingest.sections import named_by
from qa.text.sentences import answer_kinds, content_tokens, numbers, sentence_spans
from qa.settings import Settings

MAX_QUESTION_CHARS = 500
EMPTY_QUESTION = "问题为空：请输入要查询的内容。"



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


def extractive(question: str, passages: list[Passage], max_sentences: int = 2,
               idf: Mapping[str, float] | None = None) -> str:
    """The best supporting sentences, each with its [n]: an answer with no model at all."""
    q_tokens, q_nums, kinds = content_tokens(question), set(numbers(question)), answer_kinds(question)
    scored = []
    for rank, p in enumerate(passages):
        # A sentence that tells the reader what to answer is no evidence (qa/text/guard.py).
        told = instruction_spans(p.para.text)
        for s, e in sentence_spans(p.text):
            sent = p.text[s:e]
            if any(a < p.start + e and p.start + s < b for a, b in told):
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


CONFLICT_NOTE = "各资料说法不一，请核对原文。"
MAX_CONFLICT_NOTES = 2
CONFLICT_DEPTH = 4   # × top_k: how deep to look for another document's figure


def other_passages(question: str, hits: list[Hit], passages: list[Passage], paragraphs, idf=None) -> list[Passage]:
    """The best window of each retrieved paragraph the prompt had no room for, numbered after the
    passages: where another document may give the answer's figure differently."""
    seen = {p.para.id for p in passages}
    out: list[Passage] = []
    for hit in hits:
        for pid in hit.chunk.para_ids:
            if pid in seen or pid not in paragraphs:
                continue
            seen.add(pid)
            start, end, score = window(question, paragraphs[pid], idf=idf)
            if score > 0 and not only_instructions(paragraphs[pid].text, start, end):
                out.append(Passage(len(passages) + len(out) + 1, paragraphs[pid], start, end))
    return out


def show_conflicts(question: str, passages: list[Passage], raw: str, v: Verified, docs,
                   more: list[Passage] = (), translated: bool = False,
                   off: frozenset[str] = frozenset()) -> tuple[Verified, list[Passage]]:
    """When the answer states a figure that another retrieved document gives differently, the other
    figure is shown too, each with its own verified citation: 「另据[n]：…。各资料说法不一，请核对原文。」
    `more`: retrieved windows the model did not see (other_passages); one that gives the other figure
    joins the passages. Returns the verification and the passages its citations number."""
    if v.abstained:
        return v, passages
    stated = set(numbers(v.text))
    notes: list[Figure] = []
    for c in conflicts(question, [*passages, *more]):
        if not any(f.values[-1] in stated for f in c.figures):
            continue   # the answer is not about this measure
        notes += [f for f in c.figures if f.values[-1] not in stated and f not in notes]
    notes = notes[:MAX_CONFLICT_NOTES]
    if not notes:
        return v, passages
    # the windows the notes quote join the passages, numbered after them
    extra = [p for p in more if any(f.n == p.n for f in notes)]
    renumber = {p.n: len(passages) + i + 1 for i, p in enumerate(extra)}
    shown = [*passages, *(replace(p, n=renumber[p.n]) for p in extra)]
    notes = [replace(f, n=renumber.get(f.n, f.n)) for f in notes]
    base = raw.rstrip()
    if base and base[-1] not in "。！？!?":
        base += "。"   # "另据" must open a sentence of its own
    while notes:
        both = verify(base + "".join(f"另据[{f.n}]：{f.sentence.rstrip('。；;，, ')}。" for f in notes), shown, question, docs, translated, off)
        kept = [f for f in notes if any(f.n in c.citations and f.values[-1] in numbers(c.text) for c in both.claims)]
        if kept == notes and not both.abstained:
            both.text = both.text.rstrip() + CONFLICT_NOTE
            return both, shown
        notes = kept   # verification kept only some: show those, or nothing
    return v, passages


def with_paragraph(passages: list[Passage], para: Paragraph) -> tuple[list[Passage], int]:
    """The passages with the whole of para among them, and its number."""
    for p in passages:
        if p.para.id == para.id:
            return [replace(q, start=0, end=len(para.text)) if q.para.id == para.id else q for q in passages], p.n
    n = max((p.n for p in passages), default=0) + 1
    return [*passages, Passage(n, para, 0, len(para.text))], n


class Answerer:
    def __init__(self, engine, generator=None, settings: Settings | None = None,
                 budget_tokens: int = 360, max_new_tokens: int = 120, notice: str | None = None):
        self.engine = engine
        self.generator = generator
        self.settings = settings or engine.settings
        self.budget_tokens = budget_tokens
        self.max_new_tokens = max_new_tokens
        self.load_notice = notice
        # Calibrating the gate of a new build takes seconds of CPU: one thread does it, the others
        # use the previous gate meanwhile, or wait for the first (many questions arrive at once).
        self._gate_lock = threading.Lock()

    def _docs(self) -> dict[str, DocText]:
        index = self.engine.index
        if getattr(self, "_docs_for", None) is not index:  # rebuilt after an upload or a removal
            # A document the build kept unchanged is the same object: its DocText is reused, so a
            # switch costs the new documents' text only, not the whole corpus's.
            old = getattr(self, "_docs_of", {})
            self._docs_of = {name: old[name] if name in old and old[name][0] is d else (d, _doc_text(name, d))
                             for name, d in index.documents.items()}
            self._docs_cache = {name: dt for name, (_, dt) in self._docs_of.items()}
            self._docs_for = index
        return self._docs_cache

    def passages(self, query: str, hits: list[Hit], count: Callable[[str], int] | None = None,
                 framed: bool = True, calendar: bool = True) -> list[Passage]:
        """What the generator reads: windows of the hits' paragraphs within the token budget (tokens
        counted by count, default the generator's), only of paragraphs inside the question's frame
        (qa/verify/frame.py in_frame) unless framed is False; calendar: a year the question names frames it too."""
        docs = self._docs()
        admits = (lambda p: p.doc not in docs or in_frame(query, p, docs[p.doc], calendar)) if framed else None
        return select_passages(query, hits, self.engine.index.paragraphs, self.budget_tokens, count or self._count,
                               idf=self.engine.retriever.bm25.idf, admits=admits)

    def gate(self) -> Gate:
        """The relevance gate of the current index and embedding model (calibrated once, stored
        with the index build). While one thread calibrates a new build's gate, the others go on
        with the previous build's (one upload moves the thresholds little) instead of waiting."""
        index = self.engine.index
        if getattr(self, "_gate_for", None) is index:
            return self._gate_cache
        previous = getattr(self, "_gate_cache", None)
        if not self._gate_lock.acquire(blocking=previous is None):
            return previous
        try:
            if getattr(self, "_gate_for", None) is not index:
                paragraphs = [p for d in index.documents.values() for p in d.paragraphs]
                self._gate_cache = load_or_calibrate(index.path, self.engine.retriever, paragraphs,
                                                     self.engine.encoder.model_id, self.settings.top_k)
                self._gate_for = index
            return self._gate_cache
        finally:
            self._gate_lock.release()

    def _glossary(self) -> dict[str, str]:
        index = self.engine.index
        if getattr(self, "_glossary_for", None) is not index:
            self._glossary_cache = corpus_glossary(index.documents.values())
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
        standalone = name_numbered_documents(standalone or q, self.engine.index.documents) or standalone
        if standalone:
            ans.standalone = standalone
            yield Event("rewrite", standalone)
        query = standalone or q
        t_rw = time.perf_counter()
        hits = self.engine.search(query, k=k or self.settings.top_k, also=own_words(q, query))
        ans.hits = hits
        idf = self.engine.retriever.bm25.idf
        off = self.settings.checks_off
        passages = self.passages(query, hits, framed="frame" not in off, calendar="calendar" not in off)
        # Nothing inside the question's frame is refused below; the nearest passages are still
        # offered as places to look.
        ans.passages = passages or self.passages(query, hits, framed=False)
        t_ret = time.perf_counter()
        ans.latency.update(rewrite=round(t_rw - t0, 3), retrieve=round(t_ret - t_rw, 3))
        yield Event("evidence", ans.passages)

        on_topic = bool(hits) and ("gate" in off or self.gate().passes(*signals(query, hits, needs_translation(q))))
        recorded = self.recorded(query, hits, passages) if on_topic and "fields" not in off else None
        # No passage inside the question's frame (a place no document is about): nothing to answer from.
        if not on_topic or (not passages and recorded is None):
            ans.text = REFUSAL
            ans.latency["total"] = round(time.perf_counter() - t0, 3)
            yield Event("final", ans)
            return

        if recorded is not None:
            passages, raw = recorded
            ans.passages = passages
            ans.latency["first_token"] = round(time.perf_counter() - t0, 3)
            yield Event("token", raw)
        elif self.generator is None:
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

        self.check(ans, query, raw, passages, k)
        ans.latency["total"] = round(time.perf_counter() - t0, 3)
        yield Event("final", ans)

    def recorded(self, query: str, hits: list[Hit], passages: list[Passage]) -> tuple[list[Passage], str] | None:
        """A field the document records (发文字号, 成文日期…), as the answer's raw text cited to the
        paragraph of the text that states it, if any, and to the metadata paragraph; both join the
        passages. None when the question asks for none."""
        field = field_answer(query, hits, self.engine.index.documents,
                             texts={name: d.text for name, d in self._docs().items()})
        if field is None:
            return None
        passages, n = with_paragraph(passages, field.para)
        marks = f"[{n}]"
        if field.source is not None:   # the document's own sentence first; verification keeps what supports
            passages, m = with_paragraph(passages, field.source)
            marks = f"[{m}]" + marks
        return passages, f"{field.text[:-1]}{marks}。"

    def check(self, ans: Answer, query: str, raw: str, passages: list[Passage], k: int | None = None) -> Answer:
        """Verify the model's raw text against the passages it read and fill ans (text, citations,
        claims, what was deleted or marked); the same step replays a recorded answer (tools/reverify.py)."""
        ans.raw = raw
        if is_refusal(raw):
            ans.text, ans.abstained = REFUSAL, True
            return ans
        translated = needs_translation(ans.question)   # query is then our translation of it
        off = self.settings.checks_off
        v = verify(raw, passages, query, self._docs(), translated, off)
        ans.passages = passages
        if "conflicts" not in off:
            # Another document may give the stated figure differently, below the top k: look deeper.
            wide = self.engine.search(query, k=CONFLICT_DEPTH * (k or self.settings.top_k)) if numbers(v.text) else []
            more = other_passages(query, wide, passages, self.engine.index.paragraphs, self.engine.retriever.bm25.idf)
            v, ans.passages = show_conflicts(query, passages, raw, v, self._docs(), more, translated, off)
        ans.text, ans.abstained = v.text, v.abstained
        ans.citations, ans.claims, ans.repairs = v.citations, v.claims, v.repairs
        ans.deleted, ans.marked = v.deleted, v.marked
        return ans

    def replay(self, question: str, query: str, raw: str, k: int | None = None,
               count: Callable[[str], int] | None = None) -> Answer:
        """A recorded raw answer checked again as stream() would check it now: the same retrieval,
        passages and recorded field under the current settings, then check() (tools/reverify.py,
        tools/ablate.py). The gate is not asked again: a recorded raw answer had passed it."""
        off = self.settings.checks_off
        hits = self.engine.search(query, k=k or self.settings.top_k)
        # The passages as recorded runs selected them (their markers number these); a named year's
        # frame is judged again by verification (cite.support).
        passages = self.passages(query, hits, count, framed="frame" not in off, calendar=False)
        recorded = self.recorded(query, hits, passages) if "fields" not in off else None
        if recorded is not None:
            passages, raw = recorded
        return self.check(Answer(question=question, text="", abstained=True, hits=hits), query, raw, passages, k)

    def answer(self, question: str, history: list[tuple[str, str]] | None = None, k: int | None = None) -> Answer:
        final = None
        for ev in self.stream(question, history, k):
            if ev.kind == "final":
                final = ev.data
        return final


def _doc_text(name: str, d: Document) -> DocText:
    """What a document is about, for the frame and the checks: title, metadata and file name; text;
    section headings."""
    return DocText(normalize(" ".join([d.title, *(p.text for p in d.paragraphs if p.kind == "meta"), named_by(name)])),
                   normalize(" ".join([d.title, *(p.text for p in d.paragraphs)])),
                   normalize(" ".join(dict.fromkeys(h for p in d.paragraphs for h in p.section))))


def _stop(text: str) -> bool:
    # Answers are one to three sentences: a blank line or a fourth sentence means it is rambling.
    return "\n\n" in text.strip() or len(re.findall(r"[。！？!?]", text)) >= 4
