"""Sanity checks for the development question set questions/dev.jsonl.

Every evidence quote must be an exact single-line substring of its seed file,
and every answer string must be grounded in the line(s) holding the quotes
(compared after traditional->simplified conversion with OpenCC t2s and after
removing the pinyin artefacts such as 「(xiāng)」 found in document 002).
"""
import json
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ROOT / "questions" / "dev.jsonl"
SEEDS = ROOT / "seeds"

KINDS = {"fact", "number", "paraphrase", "traditional", "multi",
         "english", "meta", "unanswerable", "offtopic"}
REQUIRED = {"id": str, "question": str, "answers": list, "evidence": list,
            "answerable": bool, "kind": str}
TRAD_DOC = "002_2d655d4704b4aa68.txt"

# pinyin artefacts like 「(xiāng)」 that follow characters in document 002
PINYIN = re.compile(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")

# Lines that are page furniture rather than document content (download and
# copyright headers, navigation, photo captions, related-link lists).
# Quotes must not come from them, except for `meta` questions.
HEADER_PREFIXES = ("来源 :", "下载到本地", "声明 :", "论文部分内容阅读", "首页>")
TAIL_MARKERS = {  # everything from this line on is a related-links list
    "000_2fea3bba8e0420ec.txt": "其他文献",
    "001_123d84c7bbc14b5a.txt": "扶贫扶智扶志三结合",
    "004_467eccf48051f7c2.txt": "编辑:李敏杰",
}
CAPTION_SUFFIX = "新华社发"

try:
    import opencc

    _cc = opencc.OpenCC("t2s")

    def t2s(text: str) -> str:
        return _cc.convert(text)
except ImportError:  # pragma: no cover - fallback when opencc is missing
    _FALLBACK = str.maketrans(
        "張東賚國個連區興嶺麓積轄蘇鄉鎮場萬黨員層基貧戶幫責任隊駐書記"
        "備脫鉤產實報酬資績獎勵劃為較兩數額總僅經濟濟現選優後關鍵詞編輯",
        "张东赉国个连区兴岭麓积辖苏乡镇场万党员层基贫户帮责任队驻书记"
        "备脱钩产实报酬资绩奖励划为较两数额总仅经济济现选优后关键词编辑")

    def t2s(text: str) -> str:
        return text.translate(_FALLBACK)


def norm(text: str) -> str:
    return t2s(PINYIN.sub("", text))


def load_questions():
    rows = []
    with QUESTIONS.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if line.strip():
                rows.append((n, json.loads(line)))
    return rows


ROWS = load_questions()
DOCS = {p.name: p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))}


def boilerplate_lines(doc: str) -> set:
    lines = DOCS[doc].split("\n")
    bad = set()
    marker = TAIL_MARKERS.get(doc)
    tail = False
    for i, line in enumerate(lines):
        s = line.strip()
        if marker is not None and s == marker:
            tail = True
        if tail or s.startswith(HEADER_PREFIXES) or s.endswith(CAPTION_SUFFIX):
            bad.add(i)
    return bad


BOILER = {doc: boilerplate_lines(doc) for doc in DOCS}


def locate(doc: str, quote: str):
    """Indices of the lines of `doc` that contain `quote`."""
    return [i for i, line in enumerate(DOCS[doc].split("\n")) if quote in line]


def qid(row):
    return row[1].get("id", f"line{row[0]}")


def test_seed_files_present():
    assert len(DOCS) == 5


def test_count_and_unique_ids():
    assert len(ROWS) >= 60
    ids = [r["id"] for _, r in ROWS]
    assert len(ids) == len(set(ids)), [i for i, c in Counter(ids).items() if c > 1]


@pytest.mark.parametrize("row", ROWS, ids=qid)
def test_fields_and_types(row):
    _, r = row
    for key, typ in REQUIRED.items():
        assert key in r, f"missing {key}"
        assert isinstance(r[key], typ), f"{key} should be {typ.__name__}"
    assert r["question"].strip()
    assert r["kind"] in KINDS
    assert all(isinstance(a, str) and a.strip() for a in r["answers"])
    assert len(set(r["answers"])) == len(r["answers"])
    for ev in r["evidence"]:
        assert isinstance(ev, dict) and set(ev) == {"doc", "quote"}
        assert isinstance(ev["doc"], str) and isinstance(ev["quote"], str)


@pytest.mark.parametrize("row", ROWS, ids=qid)
def test_answerable_consistency(row):
    _, r = row
    if r["answerable"]:
        assert r["answers"] and r["evidence"]
        assert r["kind"] != "unanswerable"
    else:
        assert r["answers"] == [] and r["evidence"] == []
        assert r["kind"] in ("unanswerable", "offtopic")


@pytest.mark.parametrize("row", ROWS, ids=qid)
def test_evidence_quotes(row):
    _, r = row
    for ev in r["evidence"]:
        doc, quote = ev["doc"], ev["quote"]
        assert doc in DOCS, f"unknown doc {doc}"
        assert quote in DOCS[doc], f"quote not in {doc}: {quote}"
        assert "\n" not in quote
        hits = locate(doc, quote)
        assert hits, "quote must lie inside one line"
        assert not PINYIN.search(quote), f"pinyin artefact in quote: {quote}"
        if r["kind"] == "meta":
            # metadata lines (e.g. an author name) may be shorter than 8 chars;
            # then the quote has to be the whole line
            lines = DOCS[doc].split("\n")
            assert len(quote) >= 8 or any(lines[i].strip() == quote for i in hits)
            assert len(quote) <= 60
        else:
            assert 8 <= len(quote) <= 60, f"quote length {len(quote)}: {quote}"
            assert any(i not in BOILER[doc] for i in hits), f"boilerplate quote: {quote}"


@pytest.mark.parametrize("row", [x for x in ROWS if x[1]["answerable"]], ids=qid)
def test_answers_grounded(row):
    _, r = row
    lines = []
    for ev in r["evidence"]:
        doc_lines = DOCS[ev["doc"]].split("\n")
        lines += [norm(doc_lines[i]) for i in locate(ev["doc"], ev["quote"])]
    for ans in r["answers"]:
        # an accepted answer may list the quoted items in another order
        # (「交通补贴和生活补助」): every item must still be in the evidence
        parts = [p for p in re.split(r"[和与及、]", norm(ans)) if p]
        assert all(any(p in ln for ln in lines) for p in parts), f"answer not grounded: {ans}"


@pytest.mark.parametrize("row", ROWS, ids=qid)
def test_kind_specific(row):
    _, r = row
    kind = r["kind"]
    if kind == "multi":
        assert len(r["evidence"]) >= 2
        places = {(ev["doc"], i) for ev in r["evidence"] for i in locate(ev["doc"], ev["quote"])}
        assert len(places) >= 2, "multi questions need evidence from two paragraphs"
    if kind == "traditional":
        assert {ev["doc"] for ev in r["evidence"]} == {TRAD_DOC}
        assert t2s(r["question"]) == r["question"], "question should be simplified Chinese"
    if kind == "english":
        latin = len(re.findall(r"[A-Za-z]", r["question"]))
        cjk = len(re.findall(r"[\u4e00-\u9fff]", r["question"]))
        assert latin > 3 * cjk


def test_coverage():
    kinds = Counter(r["kind"] for _, r in ROWS)
    assert kinds["unanswerable"] >= 10
    for k in KINDS:
        assert kinds[k] >= 1, f"no questions of kind {k}"
    docs = {ev["doc"] for _, r in ROWS for ev in r["evidence"]}
    assert docs == set(DOCS), f"uncovered docs: {set(DOCS) - docs}"
