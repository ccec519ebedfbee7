"""Web page loader on the three real pages of corpora/wild: main content, title, no chrome."""

import re

import pytest

from qa.ingest.load import RawBlock, RejectedFile, load_bytes, load_file

from tests.conftest import WILD
from pathlib import Path

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
BLIND_C, BLIND_H, BLIND_N = (CORPORA / f"blind-2026-12-0{x}" for x in ("6c", "6h", "7n"))
GOV = WILD / "国务院公报2007年第23号_全国人大常委会关于批准发行特别国债的决议_中国政府网.html"
NFRA = WILD / "国家金融监督管理总局浙江监管局行政处罚信息公开表（浙金罚决字〔2024〕52号）_nfra.html"
LAW = WILD / "中华人民共和国监察法_高校纪检网站转载页.html"


def test_gov_cn_bulletin_page_behind_a_premature_html_close_tag():
    doc = load_file(GOV)
    assert doc.format == "html"
    # title broken over three <br> lines in the page, one block here, without the <title>'s U+3000
    assert [b.text for b in doc.blocks] == [
        "全国人民代表大会常务委员会关于批准财政部发行特别国债购买外汇及调整2007年末国债余额限额的决议",
        "（2007年6月29日第十届全国人民代表大会常务委员会第二十八次会议通过）",
        "第十届全国人民代表大会常务委员会第二十八次会议，听取了财政部部长金人庆代表国务院对《国务院关于提请审议财政部发行特别国债"
        "购买外汇及调整2007年末国债余额限额的议案》作的说明，并对议案进行了审议。会议同意国务院提出的议案，同意全国人民代表大会财政经济"
        "委员会在议案审查报告中提出的建议。会议决定：批准发行15500亿元特别国债购买外汇，批准2007年末国债余额限额调整为53365.53亿元。",
    ]
    assert doc.blocks[0].level == 1


def test_nfra_table_with_rowspan_cells_appears_once_with_every_cell_in_every_row():
    from qa.ingest.sections import build_document

    doc = load_file(NFRA)
    # the page's ArticleTitle, whose 发文字号 the cleaning stage splits off into the metadata
    assert doc.blocks[0] == RawBlock("国家金融监督管理总局浙江监管局行政处罚信息公开表（浙金罚决字〔2024〕52号）", 1)
    built = build_document(doc)
    assert (built.title, built.meta["发文字号"]) == ("国家金融监督管理总局浙江监管局行政处罚信息公开表", "浙金罚决字〔2024〕52号")
    rows = [b.text for b in doc.blocks if b.table]
    assert rows == [
        "序号：1；当事人名称：中国太平洋财产保险股份有限公司温州分公司；行政处罚决定书文号：浙金罚决字〔2024〕52号；"
        "主要违法违规行为：给予投保人保险合同约定以外的其他利益；编制或者提供虚假的报告、报表、文件、资料；"
        "行政处罚内容：罚款56万元；作出决定机关：浙江金融监管局",
        "序号：2；当事人名称：陈首伟（时任中国太平洋财产保险股份有限公司温州分公司副总经理）；行政处罚决定书文号：浙金罚决字〔2024〕52号；"
        "主要违法违规行为：给予投保人保险合同约定以外的其他利益；编制或者提供虚假的报告、报表、文件、资料；"
        "行政处罚内容：警告并罚款14万元；作出决定机关：浙江金融监管局",
    ]
    for junk in ("王泽平", "李云泽", "版权与免责声明", "分享", "微信", "{{", "MicrosoftInternetExplorer4", "扫一扫", "索 引 号"):
        assert junk not in doc.text, junk


def test_law_reposted_in_layout_tables_keeps_every_article_and_drops_site_chrome():
    doc = load_file(LAW)
    texts = [b.text for b in doc.blocks]
    assert doc.blocks[0] == RawBlock("中华人民共和国监察法", 1)
    assert "第一章 总 则" in texts and "第九章 附 则" in texts
    assert texts[texts.index("第一章 总 则") + 1].startswith("第一条 为了深化国家监察体制改革")
    assert sum(t.startswith("第") and "条 " in t[:8] for t in texts) == 69
    assert texts[-1] == "第六十九条 本法自公布之日起施行。《中华人民共和国行政监察法》同时废止。"
    for junk in ("添加收藏夹", "设为首页", "机构职能", "浏览次数", "主办单位", "版权所有", "邮编", "中纪委监察部"):
        assert junk not in doc.text, junk


def test_undecodable_html_is_refused():
    with pytest.raises(RejectedFile, match="二进制"):
        load_bytes("页面.html", b"\x00\x01\x02" * 100)


def test_br_broken_title_is_joined_but_not_with_the_addressee_line():
    page = """<html><head><title>国务院关于加强地方政府性债务管理的意见_政府信息公开</title></head><body>
    <div class="nav"><a href="/">首页</a> | <a href="/zc">政策</a></div>
    <div class="article"><p>国务院关于加强地方政府性债务管理的<br>意见<br>各省、自治区、直辖市人民政府，国务院各部委、各直属机构：<br>
    为加强地方政府性债务管理，促进国民经济持续健康发展，根据党的十八大、十八届三中全会<br>精神，现提出以下意见：</p>
    <p>一、总体要求</p><p style="display:none">一、总体要求</p>
    <p>字号：大 中 小</p><p>【打印】【关闭】</p></div>
    <div class="footer">京ICP备05070218号</div></body></html>"""
    doc = load_bytes("意见.html", page.encode("utf-8"))
    assert [(b.text, b.level) for b in doc.blocks] == [
        ("国务院关于加强地方政府性债务管理的意见", 1),
        ("各省、自治区、直辖市人民政府，国务院各部委、各直属机构：", 0),
        ("为加强地方政府性债务管理，促进国民经济持续健康发展，根据党的十八大、十八届三中全会精神，现提出以下意见：", 0),
        ("一、总体要求", 0),
    ]


HIDDEN_BODY = [   # two Guangzhou bureaus' pages whose <body> the page's scripts show (visibility: hidden)
    (BLIND_N / "关于推进广州市家庭医生签约服务高质量发展实施方案（穗卫函〔2023〕1930号）_广州市卫健委网站.html",
     "广州市卫生健康委等4部门关于印发推进广州市家庭医生签约服务高质量发展实施方案的通知",
     "到2035年，签约服务覆盖率达到75%以上"),
    (Path(__file__).parent / "fixtures" / "html" / "广州市老年人助餐配餐服务管理办法（穗民规字〔2024〕3号）_广州市民政局网站.html",
     "广州市民政局 广州市财政局 广州市市场监督管理局关于印发广州市老年人助餐配餐服务管理办法的通知",
     "第一条 为进一步规范本市居家社区养老服务"),
]


@pytest.mark.parametrize("path, title, body", HIDDEN_BODY, ids=["health", "civil-affairs"])
def test_a_body_hidden_until_scripts_run_is_read_with_the_article_title(path, title, body):
    doc = load_file(path)
    assert doc.blocks[0] == RawBlock(title, 1)       # <meta name="ArticleTitle">, not the print-header <h1>
    assert body in doc.text and len(doc.text) > 5000


@pytest.mark.parametrize("path, title", [
    (BLIND_C / "2026年广州市天河区幼儿园招生工作方案_天河区政府网.html",
     "广州市天河区教育局关于印发《2026年广州市天河区幼儿园招生工作方案》的通知"),
    (BLIND_H / "广州市天河区2025年人才公寓申请公告_天河区政府网.html", "关于受理天河区人才公寓申请的公告"),
], ids=["kindergarten", "talent-housing"])
def test_a_breadcrumb_h1_gives_way_to_the_pages_article_title(path, title):
    doc = load_file(path)
    assert doc.blocks[0] == RawBlock(title, 1) and "您当前所在的位置" not in doc.text


@pytest.mark.parametrize("path, title", [
    # two pages of a school site: Word-pasted <h1> cells in the body, the article's title in an <h2>
    # that the page's <title> also names
    ("blind-2026-12-07q/绍兴市教育事业“十四五”发展规划（征求意见稿，2021年3月）_绍兴一中网站转载页.html",
     "绍兴市教育事业十四五发展规划"),
    ("blind-2026-12-06h/中国共产党第二十届中央委员会第四次全体会议公报_绍兴一中学习专栏转载页.html",
     "每周一学（2025年10月27日-11月2日）中国共产党第二十届中央委员会第四次全体会议公报"),
])
def test_the_heading_the_page_title_names_is_the_title(path, title):
    from tests.conftest import WILD
    doc = load_file(WILD.parent / path)
    assert doc.blocks[0].text == title and doc.blocks[0].level == 1


@pytest.mark.parametrize("name, headings", [
    # two Markdown documents of different origin (a plan from a policy site, a law from a law collection)
    # rendered to a page with nothing around their headings
    ("乡村全面振兴规划（2024—2027年）（中共中央国务院，2025年1月22日发布，网页转Markdown）.md", 48),
    ("中华人民共和国律师法（2017年9月1日第三次修正）.md", 8),
])
def test_headings_set_straight_under_body_stay_headings_of_a_long_page(name, headings):
    from markdown_it import MarkdownIt

    from qa.ingest.load_html import html_blocks

    md = (CORPORA / "blind-2026-12-07zb" / name).read_text(encoding="utf-8")
    expected = [(len(line) - len(line.lstrip("#")), line.lstrip("#").strip())
                for line in md.splitlines() if re.match(r"#{1,6} ", line)]
    page = f"<html><body>{MarkdownIt('commonmark').enable('table').render(md)}</body></html>"
    blocks = html_blocks(page)[0]
    got = [(b.level, b.text) for b in blocks if b.level]
    assert len(got) == headings == len(expected)
    # the page's own first heading is its title (level 1); the rest keep their levels (## → 2, ### → 3)
    assert got == [(1, expected[0][1])] + expected[1:]


@pytest.mark.parametrize("path, body, chrome", [
    # a prefecture statistics bureau's page (its whole layout inside 「nav_background」) and a standard set
    # as a Sphinx site (its page inside a 「wy-nav-content」 wrapper): the article was lost with the wrapper
    (CORPORA / "blind-2026-12-08b" / "克州2025年经济运行情况分析（克孜勒苏柯尔克孜自治州统计局，2026年2月28日发布）_州政府网页.html",
     "全州金融机构各项存款余额318.04亿元", "地州市政府 区政府部门"),
    (CORPORA / "blind-2026-12-07z" / "GB55001-2021工程结构通用规范第4章结构作用（住房和城乡建设部，2022年1月1日施行）_Sphinx网页版.html",
     "4.1.1 结构自重的标准值应按结构构件的设计尺寸与材料密度计算确定", "Read the Docs"),
], ids=["prefecture-stats", "sphinx-standard"])
def test_a_wrapper_named_like_furniture_that_holds_the_page_is_kept(path, body, chrome):
    text = load_file(path).text
    assert body in text and len(text) > 5000
    assert chrome not in text   # the site's own menus inside the wrapper still go
