"""Word loader on the three real .docx files of corpora/wild (and hostile bytes)."""
import io
import re
import zipfile
from pathlib import Path

import pytest

from qa.ingest.load import RawBlock, RejectedFile, load_bytes, load_file

from tests.conftest import WILD
DEBT = WILD / "国务院关于加强地方政府性债务管理的意见（国发〔2014〕43号）.docx"
BONDS = WILD / "中共中央办公厅国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》.docx"
NB = WILD / "核电厂定期安全审查指南_第1部分_通用要求（NB-T征求意见稿）.docx"
LAW_PAGE = WILD / "中华人民共和国监察法_高校纪检网站转载页.html"


@pytest.fixture(scope="module")
def nb():
    return load_file(NB)


def test_one_paragraph_with_ideographic_space_breaks_is_split_into_paragraphs():
    doc = load_file(DEBT)
    texts = [b.text for b in doc.blocks]
    # the title is the large first line of the first paragraph; the 文号 after its line break is not
    assert doc.blocks[0] == RawBlock("国务院关于加强地方政府性债务管理的意见", 1)
    assert texts[1:4] == ["国发〔2014〕43号", "各省、自治区、直辖市人民政府，国务院各部委、各直属机构：",
                          "为加强地方政府性债务管理，促进国民经济持续健康发展，根据党的十八大、十八届三中全会精神，现提出以下意见："]
    assert texts[4] == "一、总体要求"
    assert texts[5].startswith("（一）指导思想。以邓小平理论")
    assert "二、加快建立规范的地方政府举债融资机制" in texts and "七、加强组织领导" in texts
    assert texts[-3:] == ["国务院", "2014年9月21日", "（此件公开发布）"]
    assert not any("\u3000" in t or "\n" in t for t in texts)
    assert doc.format == "docx" and doc.text.splitlines()[0] == "# 国务院关于加强地方政府性债务管理的意见"


def test_title_broken_over_centred_large_lines_is_joined():
    doc = load_file(BONDS)
    assert doc.blocks[0] == RawBlock("中共中央办公厅 国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》", 1)
    assert doc.blocks[1].text == "（厅字﹝2019﹞33号）" and doc.blocks[1].level == 0
    assert doc.blocks[2].text.startswith("新华社北京6月10日电")
    assert [b.text for b in doc.blocks].count("一、总体要求和基本原则") == 1


def test_outline_levels_and_word_numbering_become_numbered_headings(nb):
    assert nb.blocks[0] == RawBlock("核电厂定期安全评价 第1部分：通用要求", 1)
    lines = nb.text.splitlines()
    assert "## 1 范围" in lines and "## 5 定期安全评价的策划和准备" in lines and "## 7 定期安全评价后工作" in lines
    assert "### 5.1 确定评价范围和内容" in lines and "### 7.3 核电厂文件更新" in lines
    # a numbered term heading whose text sits in the next paragraph keeps its number
    assert "3.1 定期安全评价 periodic safety review" in lines
    # generated list labels: a) … n), then 1) 2) one level down
    assert "a) 核电厂设计（SF1）" in lines and "n) 辐射环境影响（SF14）" in lines
    i = lines.index("a) 技术评价人员")
    assert lines[i + 1:i + 3] == ["1) 主要承担技术性要素/专项的评价工作。",
                                  "2) 技术评价人员应了解所负责审查领域的规范标准要求，相关的设计、运行及安全分析知识。"]
    assert "# 附　录　A （资料性附录） 安全要素关联矩阵" in lines  # a heading broken by line breaks stays one


def test_field_codes_and_table_of_contents_are_gone(nb):
    assert not re.search(r"FORMTEXT|FORMDROPDOWN|PAGEREF|HYPERLINK|_Toc\d|\bTOC\b|MERGEFORMAT", nb.text)
    lines = nb.text.splitlines()
    assert not any(re.fullmatch(r"目\s*次", l) for l in lines)
    assert not any(re.search(r"范围\s+1$|前言\s+II$", l) for l in lines)  # TOC entries with page numbers
    assert lines.count("## 1 范围") == 1


def test_tables_become_rows_named_by_their_header(nb):
    rows = [b.text for b in nb.blocks if b.table]
    assert rows[2].startswith("接受输入的安全要素；SF1；提供输入的安全要素 SF2：×；提供输入的安全要素 SF3：×")
    assert rows[-1] == ("接受输入的安全要素；SF14；提供输入的安全要素 SF1：×；提供输入的安全要素 SF2：×；"
                        "提供输入的安全要素 SF6：×；提供输入的安全要素 SF8：×；提供输入的安全要素 SF9：×；提供输入的安全要素 SF11：×")
    assert sum(r.startswith("接受输入的安全要素；SF") for r in rows) == 14


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize("data, reason", [
    (b"PK\x03\x04 truncated", "不是有效的 Word 文档"),
    (_zip({"readme.txt": b"hello"}), "不是有效的 Word 文档"),      # a zip renamed .docx
    (DEBT.read_bytes()[:5000], "不是有效的 Word 文档"),             # cut off mid-download
    ("一、总体要求".encode(), "不是有效的 Word 文档"),              # text renamed .docx
])
def test_broken_docx_is_refused_with_a_reason(data, reason):
    with pytest.raises(RejectedFile, match=reason):
        load_bytes("坏文件.docx", data)


def test_word_heading_styles_list_numbering_and_tables_of_a_python_docx_file():
    import docx

    d = docx.Document()
    d.add_paragraph("某市数据开放管理办法", style="Title")
    d.add_heading("第一章 总则", level=1)
    d.add_paragraph("第一条 为了规范公共数据开放，制定本办法。")
    d.add_heading("适用范围", level=2)
    d.add_paragraph("市级部门", style="List Number")
    d.add_paragraph("区级部门", style="List Number")
    t = d.add_table(rows=3, cols=2)
    for r, (a, b) in enumerate([("事项", "时限"), ("受理", "5个工作日"), ("答复", "15个工作日")]):
        t.cell(r, 0).text, t.cell(r, 1).text = a, b
    buf = io.BytesIO()
    d.save(buf)
    doc = load_bytes("办法.docx", buf.getvalue())
    # a chapter heading is not mistaken for the title; the Title style is
    assert doc.text.splitlines() == [
        "# 某市数据开放管理办法", "# 第一章 总则", "第一条 为了规范公共数据开放，制定本办法。", "## 适用范围",
        "1. 市级部门", "2. 区级部门", "事项：受理；时限：5个工作日", "事项：答复；时限：15个工作日",
    ]
    assert [b.table for b in doc.blocks][-2:] == [True, True]


SYLLABUS = Path(__file__).parent / "fixtures" / "formats" / "公务员公共科目笔试考试大纲_缺失图片引用.docx"


def _with_dangling_image(data: bytes) -> bytes:
    """The package with one more relationship, to an image part it does not hold."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "word/_rels/document.xml.rels":
                body = body.replace(b"</Relationships>", b'<Relationship Id="rId999" Type="http://schemas.openxmlformats.org/'
                                    b'officeDocument/2006/relationships/image" Target="media/missing.png"/></Relationships>')
            dst.writestr(info, body)
    return out.getvalue()


@pytest.mark.parametrize("name, first_heading", [
    # a WPS-era file that points an image at 「../NULL」 (as saved), and a Word file given such a pointer
    ("syllabus", "中央机关及其直属机构2022年度考试录用公务员公共科目笔试考试大纲"),
    ("debt", "国务院关于加强地方政府性债务管理的意见"),
])
def test_a_relationship_to_a_missing_part_is_skipped_and_the_text_read(name, first_heading):
    data = SYLLABUS.read_bytes() if name == "syllabus" else _with_dangling_image(DEBT.read_bytes())
    doc = load_bytes(f"{name}.docx", data)
    assert doc.blocks[0] == RawBlock(first_heading, 1)
    assert doc.warnings == ("文档引用了 1 个不存在的内嵌部件（如图片），已跳过，正文照常读取",)
    assert len(doc.blocks) == len(load_file(SYLLABUS if name == "syllabus" else DEBT).blocks) > 30


def test_an_attachment_label_heading_is_not_the_title():
    texts = [b.text for b in load_file(SYLLABUS).blocks]
    # 「大纲1」 (like 「附件1」) labels the attachment; the title is the heading after it
    assert texts[:3] == ["中央机关及其直属机构2022年度考试录用公务员公共科目笔试考试大纲", "大纲1",
                         "为便于报考者充分了解中央机关及其直属机构2022年度考试录用公务员公共科目笔试，特制定本大纲。"]
    assert "公共科目笔试全部采用闭卷考试的方式。其中，行政职业能力测验为客观性试题，考试时限120分钟，满分100分。申论为主观性试题，考试时限180分钟，满分100分。" in texts


@pytest.mark.parametrize("path, row", [
    # two statistical communiqués of different places and years: 「指标｜单位｜数值｜比上年增长（%）」
    ("blind-2026-12-06c/黔东南州2016年国民经济和社会发展统计公报.docx",
     "木材采伐；单位：万立方米；产量：135.23万立方米；比上年增长（%）：28.2"),
    ("blind-2026-12-07y/2025年和田地区国民经济和社会发展统计公报（和田地区统计局2026年3月27日）.docx",
     "2025年客货运输总量及增速 指标：旅客运输总量；2025年客货运输总量及增速 单位：万人次；"
     "2025年客货运输总量及增速 绝对数：1894.73万人次；2025年客货运输总量及增速 比上年增长（%）：60.2"),
])
def test_a_tables_unit_column_gives_its_rows_bare_figures_their_unit(path, row):
    # the growth column names its own measure (%) and keeps its figure bare
    doc = load_file(WILD.parent / path)
    assert row in [b.text for b in doc.blocks if b.table]


def test_a_column_of_organisations_named_unit_gives_no_unit():
    from qa.ingest.load_common import table_rows

    assert table_rows([["预算单位", "金额"], ["区财政局", "12.5"]]) == ["预算单位：区财政局；金额：12.5"]
    assert table_rows([["单位", "人数"], ["区财政局", "12"]]) == ["单位：区财政局；人数：12"]


CRIMINAL_PROCEDURE = WILD.parent / "blind-2026-12-07zb" / "中华人民共和国刑事诉讼法（2018年修正·内嵌MHT网页的Word文件）.docx"


def _word_file_importing(part_name: str, content_type: str, body: bytes) -> bytes:
    """A .docx whose document.xml holds only a w:altChunk pointing at part_name, as Word's own
    'import a web page' and the OpenXML SDK write it."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    r = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
                   'relationships+xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.'
                   'openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                   f'<Override PartName="/{part_name}" ContentType="{content_type}"/></Types>')
        z.writestr("_rels/.rels", f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                   f'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{r}/officeDocument" '
                   'Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}" '
                   f'xmlns:r="{r}"><w:body><w:altChunk r:id="chunk1"/><w:sectPr/></w:body></w:document>')
        z.writestr("word/_rels/document.xml.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns='
                   f'"http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="chunk1" '
                   f'Type="{r}/aFChunk" Target="/{part_name}"/></Relationships>')
        z.writestr(part_name, body)
    return out.getvalue()


def test_a_word_file_whose_body_is_an_embedded_mht_page_is_read_as_that_page():
    # a law exported by a web tool (html-docx-js): document.xml is an altChunk, the text is in afchunk.mht
    doc = load_file(CRIMINAL_PROCEDURE)
    assert list(doc.blocks[:4]) == [RawBlock("中华人民共和国刑事诉讼法", 1), doc.blocks[1],
                              RawBlock("第一编 总则", 2), RawBlock("第一章 任务和基本原则", 3)]
    texts = [b.text for b in doc.blocks]
    assert "第九十一条 公安机关对被拘留的人，认为需要逮捕的，应当在拘留后的三日以内，提请人民检察院审查批准。" \
           "在特殊情况下，提请审查批准的时间可以延长一日至四日。" in texts
    assert sum(t.startswith("第") and "条 " in t[:8] for t in texts) > 300


def test_a_word_file_importing_a_web_page_reads_as_the_page_itself():
    # another origin: a university site's reprint of a law, imported whole as afchunk.htm
    page = LAW_PAGE.read_bytes()
    doc = load_bytes("imported.docx", _word_file_importing("word/afchunk.htm", "text/html", page))
    assert doc.format == "docx"
    assert doc.blocks == load_file(LAW_PAGE).blocks
    assert len(doc.blocks) > 50


@pytest.mark.parametrize("content_type, body", [
    ("application/rtf", b"{\\rtf1 hostile}"),                        # a format the loader does not import
    ("text/html", b"\xff\xfe\x00\x00" * 64),                         # bytes that decode as no page
    ("message/rfc822", b"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nno page"),   # MHT without a page
])
def test_an_imported_part_that_is_no_page_leaves_the_word_file_empty_and_refused(content_type, body):
    with pytest.raises(RejectedFile):
        load_bytes("imported.docx", _word_file_importing("word/afchunk.bin", content_type, body))
