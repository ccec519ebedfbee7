from pathlib import Path

import pytest

from qa.ingest.load import MAX_BYTES, RejectedFile, decode, load_directory
from tests.conftest import WILD


def test_utf8_and_gb18030_decode():
    assert decode("驻村帮扶".encode("utf-8")) == ("驻村帮扶", "utf-8-sig")
    assert decode("驻村帮扶".encode("gb18030")) == ("驻村帮扶", "gb18030")
    assert decode("\ufeff驻村".encode("utf-8"))[0] == "驻村"  # BOM dropped


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "为空"),
        (b"   \n\t ", "为空"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "二进制"),
        (bytes(range(0x80, 0x100)) * 40, "解码"),
    ],
)
def test_bad_bytes_are_rejected_with_reason(data, reason):
    with pytest.raises(RejectedFile, match=reason):
        decode(data)


def test_huge_file_rejected():
    with pytest.raises(RejectedFile, match="过大"):
        decode(b"a" * (MAX_BYTES + 1))


def test_directory_load_skips_bad_files_and_keeps_good(tmp_path: Path, seeds_dir: Path):
    (tmp_path / "good.txt").write_bytes((seeds_dir / "002_2d655d4704b4aa68.txt").read_bytes())
    (tmp_path / "gbk.md").write_bytes("一、总体要求\n坚持党建引领。".encode("gb18030"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")  # a PDF cut off after its header
    (tmp_path / "notes.xlsx").write_bytes(b"PK\x03\x04")  # not a supported suffix: ignored silently
    docs, warnings = load_directory(tmp_path)
    assert sorted(d.name for d in docs) == ["gbk.md", "good.txt"]
    assert {w.name: w.reason for w in warnings} == {"blob.txt": "看起来是二进制文件，不是文本", "empty.txt": "文件为空",
                                                    "notes.pdf": "PDF 文件已损坏，无法打开"}
    assert "已跳过 empty.txt" in str(warnings[1]) or "已跳过 empty.txt" in str(warnings[0])


def test_missing_directory_is_a_clear_error(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="文档目录不存在"):
        load_directory(tmp_path / "nope")


REPORT_2014 = WILD / "2014年政府工作报告.txt"


def test_markdown_headings_are_headings_and_comments_are_dropped():
    from qa.ingest.load import RawBlock, load_file

    doc = load_file(WILD / "中华人民共和国政府信息公开条例（2019修订）.md")
    assert doc.format == "md" and doc.blocks[0] == RawBlock("中华人民共和国政府信息公开条例", 1)
    assert "INFO END" not in doc.text and "<!--" not in doc.text
    assert RawBlock("第一章 总则", 2) in doc.blocks
    assert doc.text.splitlines()[doc.blocks.index(RawBlock("第一章 总则", 2))] == "## 第一章 总则"
    local = load_file(WILD / "北京市信访条例.md")
    assert RawBlock("第一章 总则", 2) in local.blocks          # "## 第一章  总则": the double space goes
    notice = load_file(WILD / "关于职工全年月平均工作时间和工资折算问题的通知（劳社部发〔2008〕3号）.md")
    assert [(b.text[:2], b.level) for b in notice.blocks if b.text.startswith(("一、", "二、"))] == [("一、", 2), ("二、", 2)]


def _traditional(text: str) -> str:
    import opencc

    return opencc.OpenCC("s2t").convert(text)


@pytest.mark.parametrize("codec, expected, name", [
    ("utf-16", "utf_16", "UTF-16"),              # with BOM
    ("utf-16-le", "utf_16_le", "UTF-16"),        # without BOM
    ("utf-16-be", "utf_16_be", "UTF-16"),
    ("gb18030", "gb18030", "GB18030"),
    ("big5", "big5", "Big5"),
])
def test_text_in_any_chinese_encoding_is_read_with_a_warning_naming_it(tmp_path, codec, expected, name):
    from qa.ingest.load import load_file

    text = REPORT_2014.read_text(encoding="utf-8")[:6000]
    if codec == "big5":
        text = _traditional(text).encode("big5", errors="replace").decode("big5")
    path = tmp_path / "报告.txt"
    path.write_bytes(text.encode(codec))
    doc = load_file(path)
    assert doc.text == text and doc.encoding == expected and doc.format == "txt"
    assert len(doc.warnings) == 1 and name in doc.warnings[0] and "UTF-8" in doc.warnings[0]


def test_utf8_with_and_without_bom_has_no_warning(tmp_path):
    from qa.ingest.load import load_file

    text = REPORT_2014.read_text(encoding="utf-8")[:500]
    for data in (text.encode("utf-8"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        (tmp_path / "a.txt").write_bytes(data)
        doc = load_file(tmp_path / "a.txt")
        assert doc.text == text and doc.warnings == ()


def test_short_big5_and_gb18030_are_told_apart():
    assert decode(_traditional("驻村帮扶工作队").encode("big5")) == ("駐村幫扶工作隊", "big5")
    assert decode("一、总体要求".encode("gb18030")) == ("一、总体要求", "gb18030")


def test_site_generator_markdown_reads_as_the_page_shows_it():
    from qa.ingest.load import load_file
    from tests.conftest import BLIND
    doc = load_file(BLIND / "江门市扬尘污染防治条例.md")   # VuePress: front matter, ::: containers, inline HTML
    texts = [b.text for b in doc.blocks]
    assert doc.blocks[0].text == "江门市扬尘污染防治条例" and doc.blocks[0].level == 1   # the front matter's title
    assert "第一章 总则" in texts and "（二）栽植行道树，所挖树穴在四十八小时内不能栽植的，对树穴和种植土应当采取覆盖等有效扬尘污染防治措施。" in texts
    assert not [t for t in texts if "&emsp;" in t or "<" in t or t.startswith(":::") or "[[toc]]" in t]


def test_markdown_table_rows_name_their_columns_like_docx_and_html_tables():
    from qa.ingest.load import load_file

    doc = load_file(Path(__file__).parent / "fixtures" / "md" / "罪名补充规定（七）.md")
    rows = [b.text for b in doc.blocks if b.table]
    assert len(rows) == 25                       # every body row of the table, the header row in each
    assert rows[0] == "刑法条文：第一百三十三条之二 （《刑法修正案（十一）》第二条）；罪名：妨害安全驾驶罪"
    assert "刑法条文：第二百九十一条之二 （《刑法修正案（十一）》第三十三条）；罪名：高空抛物罪" in rows
    assert not [b for b in doc.blocks if "|" in b.text or set(b.text) <= set("-| ")]   # no table syntax left


def test_markdown_emphasis_is_markup_in_documents_of_two_origins():
    from qa.ingest.load import load_file
    from tests.conftest import BLIND

    for path in (BLIND.parent / "blind-2026-12-06d" / "上海一中院_执行案件中涉上市公司股票司法处置的办理思路和执行要点.md",
                 BLIND.parent / "blind-2026-12-06f" / "2026年中国人民银行工作会议召开（会议通稿）.md"):
        raw = path.read_text(encoding="utf-8")
        assert "**" in raw
        doc = load_file(path)
        assert not [b.text for b in doc.blocks if "**" in b.text], path.name


CORPORA = Path(__file__).resolve().parents[1] / "corpora"


def test_hard_wrapped_markdown_is_joined_into_paragraphs_and_line_per_clause_markdown_is_not():
    """Two hard-wrapped Markdown files of different origin (listing rules and a central-bank report,
    both converted from PDFs) have their sentences back in one block; every other Markdown file of
    corpora/ (laws with one clause a line, reports with one paragraph a line) keeps its lines."""
    from qa.ingest.load_md import WRAPPED_SHARE, md_blocks, unwrap, wrapped_share
    import qa.ingest.load_md as load_md

    shares: dict[str, float] = {}
    for f in sorted(CORPORA.glob("*/*.md")):
        seen = {}
        real = load_md.unwrap
        load_md.unwrap = lambda b, p: (seen.setdefault("share", wrapped_share(b, p)), real(b, p))[1]
        try:
            md_blocks(f.read_text(encoding="utf-8"))
        finally:
            load_md.unwrap = real
        shares[f.name] = seen["share"]
    wrapped = {n for n, v in shares.items() if v >= WRAPPED_SHARE}
    assert wrapped == {"上海证券交易所科创板股票上市规则（2019）.md", "中国区域金融运行报告（2024）_中国人民银行货币政策分析小组.md",
                       # round 19: the central audit report, text extracted from its PDF with the line breaks kept
                       "国务院关于2024年度中央预算执行和其他财政收支的审计工作报告（审计署审计长侯凯2025年6月24日·PDF抽取文本）.md",
                       # round 28: a card-issuing guideline's OCR text and a central-bank rule's PDF text
                       "银行卡发卡业务风险管理指引（2024年修订版，中国支付清算协会中支协发〔2024〕71号）_扫描件OCR文本.md",
                       "金融机构大额交易和可疑交易报告管理办法（中国人民银行令〔2016〕第3号，2016年12月28日）_PDF抽取文本.md",
                       # round 29: a provincial financial report's summary, text extracted from its PDF
                       "广西壮族自治区金融运行报告（2024）摘要（中国人民银行广西壮族自治区分行货币政策分析小组，PDF抽取文本）.md",
                       # round 31: a central-bank rule's PDF text as Markdown, with its page numbers
                       "中国人民银行金融消费者权益保护实施办法（中国人民银行令〔2020〕第5号，2020年11月1日施行，PDF抽取Markdown带页码）.md"}, shares
    # a wide gap on both sides, not a near call (the nearest unwrapped file: an OCR-converted insurance
    # contract whose table of contents is short lines, 0.22)
    assert max(v for n, v in shares.items() if n not in wrapped) <= WRAPPED_SHARE - 0.15
    # the two central-bank rules are the near calls: one's extraction cut a character off many line ends
    # (0.42), the other sets a page number between lines (0.54), so fewer lines stop at the wrap width;
    # the five others are at 0.59 or more
    near = sorted(v for v in shares.values() if v >= WRAPPED_SHARE)
    assert near[1] >= WRAPPED_SHARE + 0.1 and near[2] >= WRAPPED_SHARE + 0.15

    rules, _ = md_blocks((CORPORA / "blind-2026-12-06k" / "上海证券交易所科创板股票上市规则（2019）.md").read_text(encoding="utf-8"))
    assert "每份特别表决权股份的表决权数量应当相同，且不得超过每份普通股份的表决权数量的10 倍。" in [b.text for b in rules]
    assert any(b.text.startswith("4.5.5 除公司章程规定的表决权差异外，普通股份与特别表决权股份") for b in rules)   # a new article stays apart
    report = next(CORPORA.glob("*/中国区域金融运行报告（2024）_中国人民银行货币政策分析小组.md"))
    blocks, _ = md_blocks(report.read_text(encoding="utf-8"))
    assert any("完整、准确、全面贯彻新发展理念" in b.text for b in blocks)   # 「完整、准」 + 「确、全面…」 in the file
    assert unwrap([], {}) == []
