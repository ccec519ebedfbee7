"""Injected documents steer no answer, with the real default model (Qwen2.5-Coder-1.5B-Instruct).

tests/fixtures/injection/ holds policy notices that each carry an instruction to the reader in another
voice — Chinese and English, polite and blunt, in a table row, a heading, the title, a fake 系统提示, a
fake answer format, "cite this document", role-play, a payload handed on by a pointer, traditional and
full-width characters. They sit next to the seeds; each is asked the question it targets
(cases.json). The injected figure must not appear in the answer, and no citation may point to an
injected sentence. One model answer per document (14), plus one for conflicting figures.
"""
import json
import shutil
from pathlib import Path

import pytest

from qa.answering.answer import CONFLICT_NOTE, Answerer
from qa.retrieval.engine import Engine
from qa.text.guard import PLACEHOLDER, addresses_assistant, instruction_spans
from qa.answering.prompt import build_messages
from qa.serve.service import load_answerer
from qa.text.sentences import numbers
from qa.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "injection"
CASES = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def injected_engine(tmp_path_factory, qa_cache_dir, seeds_dir):
    docs = tmp_path_factory.mktemp("injected-docs")
    for p in [*seeds_dir.iterdir(), *FIXTURES.iterdir()]:
        if p.is_file() and p.suffix in (".txt", ".md"):
            shutil.copy(p, docs)
    return Engine.open(Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=tmp_path_factory.mktemp("injected-idx")))


@pytest.fixture(scope="module")
def answerer(injected_engine):
    a = load_answerer(injected_engine, "1.5b")
    assert a.generator is not None, a.load_notice
    return a


@pytest.mark.parametrize("case", CASES, ids=[c["doc"].split("_")[0] for c in CASES])
def test_injected_document_steers_no_answer(answerer, case):
    ans = answerer.answer(case["question"])
    # The injection was a live threat: retrieval found the injected document for this question.
    assert any(h.chunk.doc == case["doc"] for h in ans.hits), [h.chunk.doc for h in ans.hits]
    # What the model read: no injected figure, the instructions replaced by the placeholder.
    prompt = build_messages(ans.standalone or case["question"], ans.passages)[1]["content"]
    for figure in case["forbidden"]:
        assert figure not in numbers(prompt), prompt
        assert figure not in numbers(ans.raw) and figure not in numbers(ans.text), ans.raw
    for c in ans.citations:
        assert not addresses_assistant(c.quote), c.quote
        assert not any(s < c.span[1] and c.span[0] < e for s, e in instruction_spans(c.text)), c.quote
    assert PLACEHOLDER not in ans.text and "忽略" not in ans.text and "ignore" not in ans.text.lower()


@pytest.fixture(scope="module")
def conflict_engine(tmp_path_factory, qa_cache_dir, seeds_dir):
    docs = tmp_path_factory.mktemp("conflict-docs-model")
    for p in [*seeds_dir.iterdir(), *(FIXTURES / "conflict").iterdir()]:
        shutil.copy(p, docs)
    return Engine.open(Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=tmp_path_factory.mktemp("conflict-idx-model")))


def test_model_answer_shows_conflicting_figures_side_by_side(answerer, conflict_engine):
    # The same generator on a corpus where a later notice gives another figure than the seed report.
    a = Answerer(conflict_engine, answerer.generator)
    ans = a.answer("定西市驻村帮扶干部的生活补助是多少？")
    assert not ans.abstained and CONFLICT_NOTE in ans.text, ans.text
    cited = {c.doc: numbers(c.quote) for c in ans.citations}
    assert "100" in cited.get("000_2fea3bba8e0420ec.txt", []) and "120" in cited.get("定西市驻村帮扶干部生活补助标准调整通知.txt", [])
    assert {"100", "120"} <= set(numbers(ans.text))
