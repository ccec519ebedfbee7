"""PDF loader on the four real PDFs of corpora/wild (text layer), and hostile bytes."""
import re
from pathlib import Path

import pytest

from qa.ingest.load import RawBlock, RejectedFile, load_bytes, load_file

from tests.conftest import WILD
AI = WILD / "国务院关于深入实施人工智能+行动的意见（国发〔2025〕11号）_网页打印版.pdf"
BEIJING = WILD / "2024年北京市政府工作报告.pdf"
COVID = WILD / "新型冠状病毒肺炎诊疗方案（试行第九版）.pdf"
LIVER = WILD / "原发性肝癌诊疗指南（2024年版）.pdf"


@pytest.fixture(scope="module")
def ai():
    return load_file(AI)


@pytest.fixture(scope="module")
def liver():
    return load_file(LIVER)


def test_browser_print_headers_footers_and_page_chrome_are_gone(ai):
    assert ai.blocks[0] == RawBlock("国务院关于深入实施“人工智能+”行动的意见", 1, 1)
    assert [b.text for b in ai.blocks[1:3]] == ["国发〔2025〕11号", "各省、自治区、直辖市人民政府，国务院各部委、各直属机构："]
    for junk in ("2026/5/19", "19:11", "https://", "mee.gov.cn", "字号", "[大]", "打印", "1/3", "3/3"):
        assert junk not in ai.text, junk
    assert [(b.text, b.page) for b in ai.blocks[-2:]] == [("国务院", 3), ("2025年8月21日", 3)]


def test_paragraph_continues_across_page_break_and_a_kinsoku_wrap(ai):
    texts = [b.text for b in ai.blocks]
    # "（九）…经济高" ends one line, "效、绿色安全。" starts the next: one paragraph
    nine = next(t for t in texts if t.startswith("（九）强化智能算力统筹"))
    assert nine.endswith("推动智能算力供给普惠易用、经济高效、绿色安全。")
    assert "效、绿色安全。" not in texts
    # the last paragraph of page 1 runs on to page 2 and keeps page 1
    farm = next(b for b in ai.blocks if b.text.startswith("3.加快农业数智化转型升级"))
    assert farm.page == 1 and farm.text.endswith("帮助农民提升生产经营能力和水平。")


def test_every_block_has_a_page_and_pages_run_in_order():
    for path in (BEIJING, COVID):
        doc = load_file(path)
        pages = [b.page for b in doc.blocks]
        assert None not in pages and pages == sorted(pages) and pages[0] == 1
        assert not any(b.ocr for b in doc.blocks)
        # no page number survives as a paragraph of its own
        assert not any(re.fullmatch(r"[-—\s]*\d{1,3}[-—\s]*", b.text) for b in doc.blocks)


def test_wrapped_lines_are_joined_into_paragraphs():
    beijing = load_file(BEIJING)
    assert beijing.blocks[0] == RawBlock("各位代表：", 0, 1)        # a speech: no title on page 1
    assert beijing.blocks[1].text == "现在，我代表北京市人民政府，向大会报告政府工作，请予审议，并请市政协委员提出意见。"
    assert beijing.blocks[2].text == "一、2023年工作回顾"               # layout space of "2023 年" gone
    covid = load_file(COVID)
    assert covid.blocks[0] == RawBlock("新型冠状病毒肺炎诊疗方案（试行第九版）", 1, 1)
    texts = [b.text for b in covid.blocks]
    assert "（二）传播途径。" in texts and "1.经呼吸道飞沫和密切接触传播是主要的传播途径。" in texts
    first = next(b for b in covid.blocks if b.text.startswith("与其他病毒一样"))
    assert first.page == 1 and first.text.endswith("但可能降低了一些单克隆抗体药物对其中和作用。")


def test_long_guideline_page_footers_and_superscript_citations(liver):
    assert liver.blocks[0] == RawBlock("原发性肝癌诊疗指南（2024年版）", 1, 1)
    assert not re.search(r"\d+\s*/\s*143", liver.text)
    assert {b.page for b in liver.blocks} >= {1, 50, 100, 143}
    overview = liver.blocks[2].text
    # "[1-2]" is set as a superscript on its own baseline; it stays inside its sentence
    assert "死亡人数和死亡率均位列第2位（肺、肝）[1-2]。原发性肝癌主要包括肝细胞癌" in overview


@pytest.mark.parametrize("data, reason", [
    (b"%PDF-1.4\n%broken", "PDF 文件已损坏"),
    (LIVER.read_bytes()[:20000], "PDF 文件已损坏"),          # cut off mid-download
    (b"<html>not a pdf</html>", "不是有效的 PDF"),
])
def test_broken_pdf_is_refused_with_a_reason(data, reason):
    with pytest.raises(RejectedFile, match=reason):
        load_bytes("坏文件.pdf", data)


def test_encrypted_pdf_is_refused_with_a_reason():
    # made by LibreOffice with an open password (tests/fixtures/SOURCES.md)
    locked = Path(__file__).parent / "fixtures" / "formats" / "加密_需要密码.pdf"
    with pytest.raises(RejectedFile, match="PDF 已加密（需要密码）"):
        load_file(locked)


@pytest.mark.parametrize("name, item", [
    # a Word-made company handbook: 「1.」 at the margin, its wrapped lines indented under the text
    ("字节跳动员工手册（2019年版）.pdf",
     "1.员工在《劳动合同》有效期内申请离职，应提前三十日提交书面申请至直属上级、部门高级管理人员及人力资源部，并且在公司系统中填写并提交离职申请。"),
    # an InDesign-set Hong Kong gazette: a bullet item wrapped under its text
    ("《關於進行截取及秘密監察的授權申請的運作原則及指引》（香港2020年第74號號外公告）.pdf",
     "• 由行政長官指定、實任職級不低於總警司職級的人員的授權人員，"),
])
def test_a_numbered_items_wrapped_lines_under_a_hanging_indent_stay_in_the_item(name, item):
    from tests.conftest import BLIND
    assert item in [b.text for b in load_file(BLIND / name).blocks]


def _pdf_bytes(pdf) -> bytes:
    import io
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def test_a_pdf_over_the_page_limit_is_refused_before_its_pages_are_read():
    import pypdfium2 as pdfium
    from qa.ingest.load_pdf import MAX_PDF_PAGES

    pdf = pdfium.PdfDocument.new()
    for _ in range(MAX_PDF_PAGES + 1):
        pdf.new_page(595, 842)
    data = _pdf_bytes(pdf)
    with pytest.raises(RejectedFile, match=f"PDF 页数过多（{MAX_PDF_PAGES + 1} 页，上限 {MAX_PDF_PAGES} 页）"):
        load_bytes("很长.pdf", data)


def test_cancel_is_asked_before_each_scanned_page_and_stops_the_read():
    """Two image-only pages (the scanned fixture twice): the first is read by OCR, cancel before the
    second stops the load; nothing is returned half-read."""
    import pypdfium2 as pdfium
    from qa.ingest.load import LoadCancelled

    scan = pdfium.PdfDocument(Path(__file__).parent / "fixtures" / "formats" / "2022年政府工作报告_节选_扫描第1页.pdf")
    two = pdfium.PdfDocument.new()
    two.import_pages(scan)
    two.import_pages(scan)
    asked = []

    def cancel() -> bool:
        asked.append(1)
        return len(asked) >= 2

    with pytest.raises(LoadCancelled):
        load_bytes("扫描两页.pdf", _pdf_bytes(two), cancel=cancel)
    assert len(asked) == 2


@pytest.mark.parametrize("path, paragraph", [
    # a Hong Kong ordinance's verified copy (e-Legislation, Chinese and English side by side) and a
    # government gazette's legal notice (a national law promulgated in Hong Kong, also side by side)
    ("blind-2026-12-07zd/安老院條例",
     "(c)須批准獲發牌照的人營辦、料理、管理或以其他方式控制一所屬為施行本條而訂明的種類的安老院，期限為36個月或牌照指明的較短期間。"),
    ("blind-2026-12-07y/《中華人民共和國香港特別行政區維護國家安全法》",
     "因此本人，香港特別行政區行政長官林鄭月娥，現公布：列於附表的《中華人民共和國香港特別行政區維護國家安全法》"
     "自2020年6月30日晚上11時起在香港特別行政區實施。"),
])
def test_a_page_set_in_two_columns_joins_each_columns_lines_by_its_own_margins(path, paragraph):
    folder, prefix = path.split("/")
    doc = load_file(next((WILD.parent / folder).glob(prefix + "*.pdf")))
    # the left column's lines end at the gap between the columns, not at the page's right margin
    assert any(b.text.startswith(paragraph) for b in doc.blocks)
    assert not any(re.search(r"[A-Za-z]{4}", b.text) for b in doc.blocks if paragraph in b.text)
