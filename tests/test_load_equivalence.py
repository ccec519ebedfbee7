"""One document, three formats: the same paragraphs and the same answers to questions; and a
scanned page read by OCR. Fixtures: tests/fixtures/formats (made from a corpora/wild report, see
tests/fixtures/SOURCES.md)."""
import shutil
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from qa.ingest.load import load_file
from qa.text.normalize import compact, normalize

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
BASE = "2022年政府工作报告_节选"
QUESTIONS = [
    "2021年国内生产总值达到多少？",
    "疫苗全程接种覆盖率超过多少？",
    "粮食产量创历史新高是多少？",
    "地级及以上城市细颗粒物平均浓度下降了多少？",
]


def _paragraphs(path: Path) -> list[str]:
    doc = load_file(path)
    if doc.blocks:
        return [normalize(b.text) for b in doc.blocks]
    return [normalize(line) for line in doc.text.splitlines() if line.strip()]


@pytest.mark.parametrize("fmt", ["docx", "pdf"])
def test_same_document_as_txt_docx_and_pdf_gives_the_same_paragraphs(fmt):
    txt = _paragraphs(FIXTURES / f"{BASE}.txt")
    other = _paragraphs(FIXTURES / f"{BASE}.{fmt}")
    same = sum(p in set(other) for p in txt)
    assert len(txt) == 31 and same / len(txt) >= 0.95, (same, len(txt))
    assert len(other) <= len(txt) + 1


def test_pdf_blocks_carry_the_page_they_start_on():
    doc = load_file(FIXTURES / f"{BASE}.pdf")
    assert [b.page for b in doc.blocks[:3]] == [1, 1, 1] and doc.blocks[-1].page == 3
    second = next(b for b in doc.blocks if b.text.startswith("二、2022年经济社会发展总体要求和政策取向"))
    assert second.page == 3


def test_same_top_hit_whatever_the_format(tmp_path, qa_cache_dir):
    from qa.retrieval.engine import Engine
    from qa.settings import Settings

    tops = {}
    for fmt in ("txt", "docx", "pdf"):
        docs = tmp_path / fmt
        docs.mkdir()
        shutil.copy(FIXTURES / f"{BASE}.{fmt}", docs)
        engine = Engine.open(Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=tmp_path / f"index-{fmt}"))
        tops[fmt] = [compact(engine.search(q, k=1)[0].chunk.text) for q in QUESTIONS]
    assert tops["docx"] == tops["txt"] and tops["pdf"] == tops["txt"]
    assert "114万亿元" in tops["txt"][0] and "85%" in tops["txt"][1]


@pytest.fixture(scope="module")
def ocr_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("ocr-cache")


@pytest.fixture(scope="module")
def scanned(ocr_cache):
    return load_file(FIXTURES / f"{BASE}_扫描第1页.pdf", ocr_cache)


def test_image_only_pdf_page_is_read_by_ocr_with_90_percent_accuracy(scanned):
    truth = compact("".join(b.text for b in load_file(FIXTURES / f"{BASE}.pdf").blocks if b.page == 1))
    read = compact("".join(b.text for b in scanned.blocks))
    accuracy = SequenceMatcher(None, truth, read, autojunk=False).ratio()
    assert accuracy >= 0.90, accuracy
    assert all(b.ocr and b.page == 1 for b in scanned.blocks)
    assert scanned.warnings == ("第 1 页没有文字层，已用 OCR 识别，文字可能有误，请核对原件",)
    # OCR lines are joined into paragraphs as text-layer lines are
    assert scanned.blocks[3].text == "现在，我代表国务院，向大会报告政府工作，请予审议，并请全国政协委员提出意见。"


def test_ocr_result_is_kept_by_file_hash_and_reused(scanned, ocr_cache):
    import json

    files = list(ocr_cache.iterdir())
    assert [f.name.endswith("-p1-200dpi.json") for f in files] == [True]
    lines = json.loads(files[0].read_text(encoding="utf-8"))
    assert lines[0]["text"] == "2022年政府工作报告（全文）" and lines[0]["ocr"] is True
    # what the cache says is what a second load returns: the page is not OCR'd again
    lines[0]["text"] = "缓存中的标题"
    files[0].write_text(json.dumps(lines, ensure_ascii=False), encoding="utf-8")
    again = load_file(FIXTURES / f"{BASE}_扫描第1页.pdf", ocr_cache)
    assert again.blocks[0].text == "缓存中的标题" and again.blocks[1:] == scanned.blocks[1:]


def test_ocr_paragraphs_say_so_in_their_citation(scanned):
    from qa.ingest.sections import build_document
    from qa.verify.cite import verify
    from qa.schema import Passage

    doc = build_document(scanned)
    body = [p for p in doc.paragraphs if p.kind == "body"]
    assert body and all(p.ocr and p.page == 1 for p in body)
    para = next(p for p in body if "向大会报告政府工作" in p.text)
    v = verify("我代表国务院向大会报告政府工作[1]。", [Passage(1, para, 0, len(para.text))])
    assert v.citations[0].ocr and v.citations[0].page == 1
    text_doc = build_document(load_file(FIXTURES / f"{BASE}.txt"))
    assert not any(p.ocr for p in text_doc.paragraphs)
