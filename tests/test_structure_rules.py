"""Boilerplate and 公文 rules, each on documents of different origin (seeds and corpora/wild)."""
import hashlib
import html
import re
from pathlib import Path

import pytest

from qa.ingest.clean import clean
from qa.ingest.load import RawBlock, RawDocument, load_bytes, load_file
from qa.ingest.sections import build_document
from tests.conftest import WILD, para_with

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"


def raw_of(path: Path) -> RawDocument:
    """.txt/.md as the loader gives them; other formats as plain extracted lines, one block each (pypdfium2
    page text, python-docx paragraphs, HTML with tags stripped, <title> as a level-1 heading), so these
    rules are tested on the real text of each file whatever the format loaders make of its layout."""
    if path.suffix.lower() in (".txt", ".md"):
        return load_file(path)
    data = path.read_bytes()
    suffix = path.suffix.lower().lstrip(".")
    if suffix == "pdf":
        pdfium = pytest.importorskip("pypdfium2")
        pdf = pdfium.PdfDocument(str(path))
        text = "\n".join(page.get_textpage().get_text_range() for page in pdf)
    elif suffix == "docx":
        docx = pytest.importorskip("docx")
        text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    else:
        t = re.sub(r"(?is)<(script|style)\b.*?</\1>|<!--.*?-->", "", data.decode("utf-8"))
        t = re.sub(r"(?i)<(br|p|div|li|tr|h\d|td|title)\b[^>]*>", "\n", t)
        text = html.unescape(re.sub(r"<[^>]+>", "", t))
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n") if ln.strip()]
    blocks = [RawBlock(t) for t in lines]
    if suffix == "html":  # the <title> arrives as a level-1 heading at the top
        blocks[0] = RawBlock(lines[0], level=1)
        lines[0] = "# " + lines[0]
    return RawDocument(path.name, path, "\n".join(lines), hashlib.sha256(data).hexdigest(), "utf-8",
                       blocks=tuple(blocks), format=suffix)


AI_PDF = WILD / "国务院关于深入实施人工智能+行动的意见（国发〔2025〕11号）_网页打印版.pdf"
GOV_HTML = WILD / "国务院公报2007年第23号_全国人大常委会关于批准发行特别国债的决议_中国政府网.html"
DEBT_DOCX = WILD / "国务院关于加强地方政府性债务管理的意见（国发〔2014〕43号）.docx"
BOND_DOCX = WILD / "中共中央办公厅国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》.docx"
NOTICE_MD = WILD / "关于职工全年月平均工作时间和工资折算问题的通知（劳社部发〔2008〕3号）.md"


def _cleaned(path: Path):
    raw = raw_of(path)
    return clean(raw.text, blocks=raw.blocks)


def _removed(c, rule):
    return [ln.text.strip() for ln, r in c.removed if r == rule]


@pytest.fixture(scope="module")
def cleaned():
    paths = [AI_PDF, GOV_HTML, DEBT_DOCX, BOND_DOCX, NOTICE_MD, *(SEEDS / n for n in (
        "000_2fea3bba8e0420ec.txt", "001_123d84c7bbc14b5a.txt", "004_467eccf48051f7c2.txt"))]
    return {p.name[:3] if p.parent == SEEDS else p.suffix[1:] + ("-debt" if p == DEBT_DOCX else ""): _cleaned(p)
            for p in paths}


def test_url_lines(cleaned):
    assert _removed(cleaned["pdf"], "url") == [
        f"https://www.mee.gov.cn/zcwj/gwywj/202508/t20250827_1126207.shtml {n}/3" for n in (1, 2, 3)]
    assert _removed(cleaned["html"], "url") == ["https://www.gov.cn/"]
    c = clean("原文链接：https://www.pkulaw.com/chl/a.html\n某市关于加强管理的通知\n各区县人民政府：\n现将有关事项通知如下。")
    assert _removed(c, "url") == ["原文链接：https://www.pkulaw.com/chl/a.html"] and c.meta["标题"] == "某市关于加强管理的通知"


def test_citation_codes():
    # no document in corpora/ carries one; the legal-database header forms
    c = clean("【法宝引证码】CLI.2.331159\n法宝引证码：CLI.1.12345\n某某条例\n第一条 为了规范管理，制定本条例。")
    assert _removed(c, "citation-code") == ["【法宝引证码】CLI.2.331159", "法宝引证码：CLI.1.12345"]
    assert c.meta == {"标题": "某某条例"}


def test_timestamps(cleaned):
    assert _removed(cleaned["001"], "timestamp") == ["22.08.2017  10:57"]
    assert _removed(cleaned["pdf"], "timestamp") == ["2026/5/19 19:11 国务院关于深入实施“人工智能+”行动的意见"] * 3


def test_widgets(cleaned):
    assert _removed(cleaned["000"], "widget") == ["下载到本地 , 更方便阅读", "论文部分内容阅读"]
    assert _removed(cleaned["pdf"], "widget") == ["[打印] 仅打印内容"]
    html = _removed(cleaned["html"], "widget")
    assert {"字号：默认", "大", "超大", "打印", "扫一扫在手机打开当前页", "网站纠错"} <= set(html)


def test_copyright_and_site_registration(cleaned):
    assert _removed(cleaned["000"], "copyright")[0].startswith("声明 : 本文档内容版权归属内容提供方")
    html = _removed(cleaned["html"], "copyright")
    assert "网站标识码bm01000001　京ICP备05070218号　京公网安备11010202000001号" in html
    assert "主办单位：国务院办公厅　运行维护单位：中国政府网运行中心" in html
    assert not any("版权" in v or "主办" in k for k, v in cleaned["html"].meta.items())


def test_page_info_keeps_source_and_date(cleaned):
    assert _removed(cleaned["pdf"], "page-info") == ["发布时间：2025-08-27 来源：中国政府网 字号：[大] [中] [小]"]
    assert cleaned["pdf"].meta["来源"] == "中国政府网" and cleaned["pdf"].meta["发布日期"] == "2025-08-27"
    assert cleaned["000"].meta["来源"] == "发展" and "被引量" not in cleaned["000"].meta


def test_breadcrumbs(cleaned):
    assert _removed(cleaned["004"], "breadcrumb") == ["首页>今日要论今日要论"]
    assert _removed(cleaned["html"], "breadcrumb") == ["首页 > 国务院公报 > 2007年第23号"]


def test_footer_of_links(cleaned):
    assert _removed(cleaned["001"], "footer")[0] == "扶贫扶智扶志三结合"
    html = _removed(cleaned["html"], "footer")
    assert html[:3] == ["相关稿件", "链接：", "全国人大"] and "登录" in html


def test_titles_of_every_shape(cleaned):
    assert cleaned["html"].meta["标题"] == (  # the <title> without its site name
        "全国人民代表大会常务委员会关于批准财政部发行特别国债购买外汇及调整2007 年末国债余额限额的决议")
    assert cleaned["docx"].meta["标题"] == (  # three lines joined
        "中共中央办公厅 国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》")
    assert cleaned["docx-debt"].meta["标题"] == "国务院关于加强地方政府性债务管理的意见"  # 文号 split off
    assert cleaned["md"].meta["标题"] == "关于职工全年月平均工作时间和工资折算问题的通知"


def test_gongwen_elements(cleaned):
    assert [cleaned[k].meta["发文字号"] for k in ("pdf", "docx-debt", "docx", "md")] == [
        "国发〔2025〕11号", "国发〔2014〕43号", "厅字﹝2019﹞33号", "劳社部发[2008]3号"]
    everyone = "各省、自治区、直辖市人民政府，国务院各部委、各直属机构"
    assert cleaned["pdf"].meta["主送机关"] == everyone and cleaned["docx-debt"].meta["主送机关"] == everyone
    assert cleaned["md"].meta["主送机关"] == "各省、自治区、直辖市劳动和社会保障厅（局）"
    # the signature block is content: issuer and date become metadata, never a dropped footer
    assert {k: cleaned["pdf"].meta[k] for k in ("发文机关署名", "成文日期")} == {
        "发文机关署名": "国务院", "成文日期": "2025年8月21日"}
    assert {k: cleaned["docx-debt"].meta[k] for k in ("发文机关署名", "成文日期", "附注")} == {
        "发文机关署名": "国务院", "成文日期": "2014年9月21日", "附注": "（此件公开发布）"}


def test_metadata_paragraph_answers_document_questions():
    doc = build_document(raw_of(AI_PDF))
    meta = doc.paragraphs[0]
    assert meta.kind == "meta" and meta.text.splitlines()[:5] == [
        "标题：国务院关于深入实施“人工智能+”行动的意见", "发文字号：国发〔2025〕11号",
        "主送机关：各省、自治区、直辖市人民政府，国务院各部委、各直属机构", "成文日期：2025年8月21日",
        "发文机关署名：国务院"]


def test_short_lines_are_never_lost():
    """A list-style notice, Markdown bullets and a table: every line is a paragraph or metadata."""
    notice = build_document(RawDocument("会议通知.txt", None, (
        "关于召开2024年度工作会议的通知\n各处室、各直属单位：\n会议时间：2024年3月1日上午9点\n"
        "会议地点：三楼会议室\n参会人员：各部门负责人\n请准时参加\n办公室\n2024年2月28日"), "x", "utf-8"))
    assert [p.text for p in notice.paragraphs[1:]] == [
        "会议时间：2024年3月1日上午9点", "会议地点：三楼会议室", "参会人员：各部门负责人", "请准时参加"]
    assert notice.meta["发文机关署名"] == "办公室" and notice.meta["成文日期"] == "2024年2月28日"
    assert notice.report.share == 1.0
    md = build_document(load_bytes("要点.md", (
        "# 工作要点\n\n- 加强组织领导\n- 完善制度建设\n\n| 项目 | 金额 |\n|---|---|\n| 道路 | 100万元 |\n").encode()))
    assert [(p.text, p.section) for p in md.paragraphs[1:]] == [
        ("- 加强组织领导", ()), ("- 完善制度建设", ()), ("项目：道路；金额：100万元", ())]
    assert md.report.share == 1.0 and md.report.warnings == ()


def test_law_from_a_legal_database_in_plain_text():
    """The issue's unseen shape: URL and citation code, a 令 with its signature, then the regulation."""
    doc = build_document(RawDocument("条例.txt", None, (
        "原文链接：https://www.pkulaw.com/chl/abc.html\n【法宝引证码】CLI.2.331159\n中华人民共和国国务院令\n第711号\n"
        "《国务院关于修改〈中华人民共和国政府信息公开条例〉的决定》已经2019年1月16日国务院第40次常务会议通过，现予公布。\n"
        "总理　李克强\n2019年4月3日\n中华人民共和国政府信息公开条例\n第一章 总则\n"
        "第一条 为了保障公民、法人和其他组织依法获取政府信息，制定本条例。\n"
        "第二条 本条例所称政府信息，是指行政机关制作或者获取的信息。\n（一）办理政府信息公开事宜；\n（二）维护和更新公开的政府信息。"),
        "x", "utf-8"))
    assert doc.title == "中华人民共和国国务院令" and doc.meta["发文字号"] == "第711号"
    assert [p.text for p in doc.paragraphs[2:4]] == ["总理　李克强", "2019年4月3日"]  # text, never a heading
    art = para_with(doc, "第二条")
    assert art.section_path == "中华人民共和国政府信息公开条例 > 第一章 总则 > 第二条"
    assert art.text.endswith("（一）办理政府信息公开事宜；\n（二）维护和更新公开的政府信息。")
    assert set(doc.report.dropped) == {"url", "citation-code"}


def test_upload_without_paragraphs_is_refused():
    from qa.ingest.load import load_bytes

    def has_paragraphs(name: str, data: bytes) -> bool:  # the check Engine.add_files makes before accepting
        return any(p.kind == "body" for p in build_document(load_bytes(name, data)).paragraphs)

    junk = "首页 > 新闻中心\n版权所有：某某网\n京ICP备05070218号\n".encode()
    assert not has_paragraphs("junk.txt", junk)
    assert has_paragraphs("ok.md", NOTICE_MD.read_bytes())


def test_index_table_shows_kept_share_and_warnings():
    from qa.serve.cli import document_table

    docs = [build_document(raw_of(NOTICE_MD)), build_document(raw_of(GOV_HTML)),
            build_document(RawDocument("空.txt", None, "首页 > 新闻\n京ICP备05070218号", "x", "utf-8"))]
    rows = document_table(docs).splitlines()
    assert rows[0] == "| 文档 | 格式 | 标题 | 章节 | 段落 | 保留 | 警告 |"
    notice = next(r for r in rows if r.startswith(f"| {NOTICE_MD.name} |"))
    assert notice == f"| {NOTICE_MD.name} | md | 关于职工全年月平均工作时间和工资折算问题的通知 | 3 | 10 | 100.0% |  |"
    assert "只保留了 45% 的文字" in next(r for r in rows if r.startswith(f"| {GOV_HTML.name} |"))
    assert "没有提取出任何正文段落" in next(r for r in rows if r.startswith("| 空.txt |"))


def test_blocks_give_headings_pages_and_tables():
    """What the format loaders hand over: heading levels, pages and table rows, one paragraph per block."""
    blocks = (RawBlock("关于加强管理的通知", level=1, page=1), RawBlock("国发〔2024〕1号", page=1),
              RawBlock("各省、自治区、直辖市人民政府：", page=1), RawBlock("一、总体要求", level=2, page=1),
              RawBlock("坚持问题导向，这一段在第一页结束而没有句号", page=1), RawBlock("下一段在第二页。", page=2),
              RawBlock("项目：道路；金额：100万元", table=True, page=2),
              RawBlock("国务院", page=2), RawBlock("2024年1月5日", page=2))
    text = "\n".join(("#" * b.level + " " if b.level else "") + b.text for b in blocks)
    doc = build_document(RawDocument("通知.docx", None, text, "x", "utf-8", blocks=blocks, format="docx"))
    assert doc.title == "关于加强管理的通知" and doc.meta["发文字号"] == "国发〔2024〕1号"
    assert doc.meta["发文机关署名"] == "国务院" and doc.meta["成文日期"] == "2024年1月5日"
    assert [(p.text, p.section_path, p.page) for p in doc.paragraphs[1:]] == [
        ("坚持问题导向，这一段在第一页结束而没有句号", "一、总体要求", 1),  # blocks are never joined
        ("下一段在第二页。", "一、总体要求", 2),
        ("项目：道路；金额：100万元", "一、总体要求", 2)]
    assert doc.report.format == "docx" and doc.report.share == 1.0


def test_law_reposted_in_a_web_page():
    """The 监察法 inside a university site's layout tables: a law whatever the format."""
    doc = build_document(raw_of(WILD / "中华人民共和国监察法_高校纪检网站转载页.html"))
    assert doc.title == "中华人民共和国监察法"  # the <title> without 「-纪检」
    p = para_with(doc, "监察机关根据监督、调查结果，依法作出如下处置")
    assert p.section_path == "第五章 监察程序 > 第四十五条" and "\n（一）对有职务违法行为" in p.text
    assert para_with(doc, "本法自公布之日起施行").section_path == "第九章 附 则 > 第六十九条"


def test_item_lists_are_not_headings():
    """In any document, 「（一）…；」 items and adjacent bare items of one style stay paragraphs."""
    doc = build_document(RawDocument("意见.txt", None, (
        "一、主要任务\n各地区要做好以下工作：\n（一）办理政府信息公开事宜；\n（二）维护和更新公开的政府信息；\n"
        "（三）本机关规定的其他职能。\n二、保障措施\n（一）加强组织领导。\n各地区要建立工作机制，明确责任分工。"),
        "x", "utf-8"))
    assert [(p.text, p.section_path) for p in doc.paragraphs] == [
        ("各地区要做好以下工作：", "一、主要任务"),
        ("（一）办理政府信息公开事宜；", "一、主要任务"),
        ("（二）维护和更新公开的政府信息；", "一、主要任务"),
        ("（三）本机关规定的其他职能。", "一、主要任务"),
        ("各地区要建立工作机制，明确责任分工。", "二、保障措施 > （一）加强组织领导")]
