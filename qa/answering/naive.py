"""The naive loop the pipeline is measured against (python -m qa.eval --baseline naive).

Same retrieval and the same token budget of passages as the pipeline (every retrieved paragraph,
none hidden by the question's frame), a plain prompt, the model's text as the answer with its [n]
markers taken at their word: no rewrite, no gate, no recorded fields, no verification, no conflicts.
What the pipeline does better or worse than this on the same questions is what its checks are worth.
"""
from __future__ import annotations

import time

from qa.answering.answer import Answerer, clean_question
from qa.text.sentences import best_sentence
from qa.verify.claims import REFUSAL, is_refusal, parse_claims
from qa.generate.llm_base import GenerationError
from qa.answering.prompt import render_passage
from qa.schema import Answer, Citation

PLAIN_SYSTEM = ("请根据用户给出的编号资料回答问题，并在句末用方括号标出所依据的资料编号，如[1]。"
                "资料中没有答案时，回答：文档中没有找到相关信息。")


def plain_messages(question: str, passages) -> list[dict]:
    context = "\n".join(render_passage(p) for p in passages)
    return [{"role": "system", "content": PLAIN_SYSTEM},
            {"role": "user", "content": f"资料：\n{context}\n\n问题：{question}"}]


class NaiveAnswerer:
    """Answers as a plain retrieve-and-generate loop, with the pipeline's retrieval and model."""

    def __init__(self, answerer: Answerer):
        if answerer.generator is None:
            raise ValueError("朴素基线需要一个生成模型（不能是 extractive）")
        self.base = answerer

    @property
    def model_name(self) -> str:
        return f"naive:{self.base.model_name}"

    def answer(self, question: str, history: list[tuple[str, str]] | None = None, k: int | None = None) -> Answer:
        t0 = time.perf_counter()
        base = self.base
        q, notices = clean_question(question)
        ans = Answer(question=q, text=REFUSAL, abstained=True, notices=notices, model=self.model_name)
        hits = base.engine.search(q, k=k or base.settings.top_k) if q else []
        passages = base.passages(q, hits, framed=False) if hits else []
        ans.hits, ans.passages = hits, passages
        if not passages:
            return ans
        try:
            raw = base.generator.chat(plain_messages(q, passages), base.max_new_tokens)
        except GenerationError as exc:
            ans.notices.append(str(exc))
            return ans
        ans.latency["first_token"] = round(time.perf_counter() - t0, 3)   # not streamed: the whole answer
        ans.latency["prompt_tokens"] = base.generator.last.prompt_tokens
        ans.latency["new_tokens"] = base.generator.last.new_tokens
        ans.raw = raw.strip()
        ans.abstained = not ans.raw or is_refusal(ans.raw)
        ans.text = REFUSAL if ans.abstained else ans.raw
        if not ans.abstained:
            by_n = {p.n: p for p in passages}
            for claim in parse_claims(ans.raw):
                for n in claim.markers:
                    if n in by_n and all(c.n != n for c in ans.citations):
                        para = by_n[n].para
                        ans.citations.append(Citation(n, para.doc, para.id, para.section_path, para.title, para.text,
                                                      best_sentence(claim.text, para.text), para.lines, para.page, para.ocr))
        ans.latency["total"] = round(time.perf_counter() - t0, 3)
        return ans
