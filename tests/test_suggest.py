"""Example questions come from the loaded corpus: each asks for a figure one of its paragraphs states."""
from pathlib import Path

import pytest

from qa.ingest.load import load_directory
from qa.text.normalize import normalize
from qa.ingest.sections import build_document
from qa.answering.suggest import example_questions, followup_demo

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("folder", ["seeds", "corpora/wild"])
def test_examples_are_about_the_loaded_documents(folder):
    raws, _ = load_directory(ROOT / folder)
    docs = [build_document(r) for r in raws]
    text = normalize(" ".join(p.text for d in docs for p in d.paragraphs))
    titles = {d.title for d in docs}
    examples = example_questions(docs)
    assert len(examples) == 4
    for q in examples:
        if q.endswith("是多少？"):
            assert q[:-4] in text, q          # the subject stands in the corpus as written
        else:
            assert q[1:q.index("》")] in titles, q


def test_examples_of_one_corpus_never_name_another():
    seeds = [build_document(r) for r in load_directory(ROOT / "seeds")[0]]
    wild = [build_document(r) for r in load_directory(ROOT / "corpora/wild")[0]]
    wild_text = normalize(" ".join(p.text for d in wild for p in d.paragraphs))
    assert not any(q[:-4] in wild_text for q in example_questions(seeds) if q.endswith("是多少？"))


def test_followup_demo_asks_two_figures_of_one_paragraph():
    wild = [build_document(r) for r in load_directory(ROOT / "corpora/wild")[0]]
    first, follow = followup_demo(wild)
    para = next(p for d in wild for p in d.paragraphs if first[:-4] in normalize(p.text))
    assert follow.startswith("那") and follow[1:-2] in normalize(para.text)
