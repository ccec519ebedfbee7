"""Each cleaning and repair rule, checked on the seeds where it fires."""
import re
from pathlib import Path

import pytest

from qa.ingest.clean import clean
from qa.ingest.lines import Line, drop_pinyin, join_wrapped
from qa.text.normalize import compact
from qa.ingest.sections import reading_order


def _cleaned(seeds_dir: Path, name: str):
    return clean((seeds_dir / name).read_text(encoding="utf-8"))


def _removed(c, rule):
    return [ln.text.strip() for ln, r in c.removed if r == rule]


def _body(doc) -> str:
    return "\n".join(p.text for p in doc.paragraphs if p.kind == "body")


def test_portal_notices_removed_but_source_kept(seeds_dir):
    c = _cleaned(seeds_dir, "000_2fea3bba8e0420ec.txt")
    # the page's info bar: the source is a document field, the counter and the user id are not
    assert _removed(c, "page-info") == ["来源 :发展 | 被引量 : 0次 | 上传用户:yangmx198808"]
    assert _removed(c, "widget") == ["下载到本地 , 更方便阅读", "论文部分内容阅读"]
    assert _removed(c, "copyright") == [
        "声明 : 本文档内容版权归属内容提供方 , 如果您对本文有版权争议 , 可与客服联系进行内容授权或下架"]
    assert c.meta == {"来源": "发展", "标题": "打赢打好脱贫攻坚战组织保障调研报告"}


def test_teaser_list_cut(seeds_dir, seed_docs):
    c = _cleaned(seeds_dir, "000_2fea3bba8e0420ec.txt")
    teaser = _removed(c, "teaser-list")
    assert teaser[0] == "其他文献" and teaser.count("期刊") == 10 and len(teaser) == 21
    body = _body(seed_docs["000_2fea3bba8e0420ec.txt"])
    assert "敦煌" not in body and "鲁班奖" not in body
    assert body.endswith("阶段性成果。")


def test_timestamp_and_related_links_footer(seeds_dir, seed_docs):
    c = _cleaned(seeds_dir, "001_123d84c7bbc14b5a.txt")
    assert _removed(c, "timestamp") == ["22.08.2017  10:57"]
    footer = _removed(c, "footer")
    assert footer[0] == "扶贫扶智扶志三结合" and len(footer) == 12
    body = _body(seed_docs["001_123d84c7bbc14b5a.txt"])
    assert "扶贫扶智扶志三结合" not in body and "Syd.Com.Cn" not in body
    assert body.endswith("以优异成绩迎接党的十九大胜利召开!")
    assert c.meta == {"标题": "在全省抓党建促脱贫攻坚工作座谈会上的讲话", "日期": "2017年8月26日", "作者": "王正谱"}


def test_photo_captions(seeds_dir, seed_docs):
    c = _cleaned(seeds_dir, "003_523b3058465032b4.txt")
    assert _removed(c, "photo-caption") == [
        "杨凌农高会上展示陕西驻村第一书记工作成果。新华社发",
        "陕西岚皋县城北易地扶贫搬迁安置小区。 新华社发",
    ]
    assert c.meta == {"来源": "陕西省委组织部供稿供图"}
    assert "新华社发" not in _body(seed_docs["003_523b3058465032b4.txt"])


def test_navigation_news_and_name_lists(seeds_dir, seed_docs):
    c = _cleaned(seeds_dir, "004_467eccf48051f7c2.txt")
    assert _removed(c, "breadcrumb") == ["首页>今日要论今日要论"]
    assert len(_removed(c, "footer")) == 67  # 9 news titles + 58 name-list lines
    assert c.meta == {
        "编辑": "李敏杰", "关键词": "脱贫 攻坚 贫困 学习",
        "标题": "激发脱贫攻坚的磅礴力量", "栏目": "砥砺奋进的五年·全面从严治党",
    }
    body = _body(seed_docs["004_467eccf48051f7c2.txt"])
    for junk in ("首页", "伊朗外长", "柳斌杰", "李敏杰", "关键词"):
        assert junk not in body


def test_author_line_of_traditional_document(seeds_dir):
    assert _cleaned(seeds_dir, "002_2d655d4704b4aa68.txt").meta == {"作者": "張文東"}


def test_metadata_paragraph_is_citable(seed_docs):
    meta = {n: d.paragraphs[0] for n, d in seed_docs.items()}
    assert all(p.kind == "meta" and p.index == 0 and p.section == ("文档信息",) for p in meta.values())
    assert meta["001_123d84c7bbc14b5a.txt"].text == (
        "标题：在全省抓党建促脱贫攻坚工作座谈会上的讲话\n作者：王正谱\n日期：2017年8月26日"
    )
    assert meta["001_123d84c7bbc14b5a.txt"].lines == (1, 7)
    assert meta["002_2d655d4704b4aa68.txt"].text == "作者：張文東"
    assert "编辑：李敏杰" in meta["004_467eccf48051f7c2.txt"].text


def test_pinyin_artefacts_dropped(seed_docs):
    assert drop_pinyin("蘇木鄉(xiāng)鎮(zhèn)(場)") == "蘇木鄉鎮(場)"
    assert drop_pinyin("省委党校(甘肃行政学院)") == "省委党校(甘肃行政学院)"  # not romanization
    assert drop_pinyin("(贫困村271个)") == "(贫困村271个)"
    text = "".join(p.text for p in seed_docs["002_2d655d4704b4aa68.txt"].paragraphs)
    assert not re.search(r"\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)", text)
    assert "轄14個蘇木鄉鎮(場)" in text


def test_wrapped_line_joined(seed_docs):
    p = next(p for p in seed_docs["000_2fea3bba8e0420ec.txt"].paragraphs if "党委和政府主要领导" in p.text)
    assert p.lines == (13, 14)
    assert join_wrapped([Line(1, 1, "甲" * 45), Line(2, 2, "乙。")]) == [Line(1, 2, "甲" * 45 + "乙。")]
    # a complete line, a short line, or a blank line in between: no join
    assert len(join_wrapped([Line(1, 1, "甲" * 45 + "。"), Line(2, 2, "乙。")])) == 2
    assert len(join_wrapped([Line(1, 1, "短标题"), Line(2, 2, "乙。")])) == 2
    assert len(join_wrapped([Line(1, 1, "甲" * 45), Line(3, 3, "乙。")])) == 2


def test_glued_headings_split(seeds_dir):
    lines = [ln.text for ln in _cleaned(seeds_dir, "000_2fea3bba8e0420ec.txt").lines]
    assert any(t.startswith("(四)坚持抓村级组织建设,着力夯实") for t in lines)
    assert "(二)进一步加大各级党员干部的培训力度" in lines
    assert any(t.endswith("解决同工不同酬的问题。") for t in lines)


# Source line ranges of each seed's main body: everything between the metadata header and
# the footer. Every sentence in them must survive cleaning, word for word.
BODY_LINES = {
    "000_2fea3bba8e0420ec.txt": (7, 38),
    "001_123d84c7bbc14b5a.txt": (11, 81),
    "002_2d655d4704b4aa68.txt": (2, 29),
    "003_523b3058465032b4.txt": (3, 30),
    "004_467eccf48051f7c2.txt": (4, 24),
}


@pytest.mark.parametrize("name", sorted(BODY_LINES))
def test_every_body_sentence_survives(name, seeds_dir, seed_docs):
    first, last = BODY_LINES[name]
    raw = (seeds_dir / name).read_text(encoding="utf-8").split("\n")[first - 1: last]
    kept = compact("".join(text for _, text, _ in reading_order(seed_docs[name])))
    missing = []
    for line in raw:
        for sentence in re.split(r"(?<=[。！？!?])", drop_pinyin(line)):
            if sentence.strip() and compact(sentence) not in kept:
                missing.append(sentence)
    assert missing == []


def test_a_breadcrumb_that_says_where_you_are_is_no_title():
    # A district government page (HTML): 「您当前所在的位置：首页 > …」 is site navigation; its title
    # comes from the page, not from the breadcrumb. A seed's 「首页>…」 goes by the same rule above.
    from qa.ingest.load import load_file
    from qa.ingest.sections import build_document
    from tests.conftest import BLIND3
    doc = build_document(load_file(BLIND3 / "2026年广州市天河区幼儿园招生工作方案_天河区政府网.html"))
    assert "位置" not in doc.title and not any("您当前所在的位置" in p.text for p in doc.paragraphs)
    c = clean("您当前所在的位置：首页 > 工作机构 > 区政府 > 区教育局\n\n各幼儿园：\n\n现印发给你们，请遵照执行。")
    assert _removed(c, "breadcrumb") == ["您当前所在的位置：首页 > 工作机构 > 区政府 > 区教育局"]


_ROOT = Path(__file__).resolve().parents[1]
LEGCO = _ROOT / "corpora/blind-2026-12-07n/香港立法會會議過程正式紀錄（2013年2月21日·保障職業安全議案辯論）.txt"
HANDBOOK = _ROOT / "tests/fixtures/formats/杭州电子科技大学信息工程学院2025学生手册_第10-12页_pdftotext.txt"
LUOYANG = _ROOT / "corpora/blind-2026-12-06g/2023年洛阳市国民经济和社会发展统计公报.txt"


def _paragraphs(path: Path) -> list[str]:
    from qa.ingest.load import load_file
    from qa.ingest.sections import build_document
    return [p.text for p in build_document(load_file(path)).paragraphs]


@pytest.mark.parametrize("path, sentence", [
    (LEGCO, "而通過安全審核的企業可以獲得高達五折的勞工保險費折扣優惠。"),
    (HANDBOOK, "学生因学校培养条件改变等非本人原因需要转学的，学校应当出具证明，由所在地省级教育行政部门协调转学到同层次学校。"),
], ids=["legco-transcript", "student-handbook"])
def test_text_cut_at_a_narrow_column_is_joined_into_paragraphs(path, sentence):
    """A PDF saved as text, its lines cut at ~30 characters (under the 40 a wide page wraps at): a
    line that stops mid-sentence goes on in the next one."""
    assert any(sentence in p for p in _paragraphs(path))


@pytest.mark.parametrize("path, header", [
    (LEGCO, "立法會  ─  2013年 2月 21日"),
    (HANDBOOK, "杭州电子科技大学信息工程学院 2025 学生手册"),
    (LUOYANG, "洛阳市2023年国民经济和社会发展统计公报"),
], ids=["legco-transcript", "student-handbook", "statistics-bulletin"])
def test_running_headers_and_page_numbers_of_a_pdf_saved_as_text_are_dropped(path, header):
    from qa.ingest.load import load_file
    cleaned = clean(load_file(path).text)
    running = [ln.text for ln, rule in cleaned.removed if rule == "running-header"]
    assert header in running and len(running) >= 3
    assert any(re.fullmatch(r"\d{1,4}", t) for t in running) or path == LUOYANG   # its page numbers with them
    assert not any(re.sub(r"\s", "", header) in re.sub(r"\s", "", ln.text) for ln in cleaned.lines[1:])


def test_a_line_written_twice_or_a_recurring_heading_is_no_running_header():
    from qa.ingest.clean import running_lines
    lines = [Line(i, i, t) for i, t in enumerate(
        ["第一章 总则", "正文一。", "第一章 总则", "正文二。", "第一章 总则", "某某说明书标题", "正文。", "某某说明书标题"])]
    assert running_lines(lines) == set()


@pytest.mark.parametrize("path, title, fields", [
    ("blind-2026-12-07p/GBT32918.2-2016信息安全技术SM2椭圆曲线公钥密码算法第2部分数字签名算法.pdf",
     "信息安全技术SM2椭圆曲线公钥密码算法第2部分:数字签名算法",
     {"标准类别": "中华人民共和国国家标准", "标准编号": "GB/T32918.2—2016", "发布日期": "2016年8月29日",
      "施行日期": "2017年3月1日", "发文机关署名": "中华人民共和国国家质量监督检验检疫总局、中国国家标准化管理委员会"}),
    ("blind-2026-12-06i/JTT808-2011道路运输车辆卫星定位系统终端通讯协议及数据格式（报批稿）.pdf",
     "道路运输车辆卫星定位系统终端通讯协议及数据格式",
     {"标准类别": "中华人民共和国交通运输行业标准", "标准编号": "JT/T 808-2011", "稿本": "报批稿",
      "发布日期": "2011年5月23日", "施行日期": "2011年8月1日", "发文机关署名": "中华人民共和国交通运输部"}),
    ("blind-2026-12-07p/TC260-003生成式人工智能服务安全基本要求（全国网络安全标准化技术委员会技术文件）.pdf",
     "生成式人工智能服务安全基本要求",
     {"标准类别": "TC260全国网络安全标准化技术委员会技术文件", "标准编号": "TC260-003", "发布日期": "2024年2月29日",
      "发文机关署名": "全国网络安全标准化技术委员会"}),
])
def test_a_standards_cover_gives_its_title_designation_dates_and_issuers(path, title, fields):
    # classification codes (ICS, L80), the banner and the English title are no title
    from qa.ingest.load import load_file
    from qa.ingest.sections import build_document
    from tests.conftest import WILD
    doc = build_document(load_file(WILD.parent / path))
    assert doc.title == title
    assert {k: doc.meta[k] for k in fields} == fields
    assert not any(re.match(r"ICS|L80|M53", p.text) for p in doc.paragraphs if p.kind == "body")


@pytest.mark.parametrize("path, spaced, joined", [
    # a ministry's rules saved as text, its title letter-spaced; a central-bank report converted from PDF
    ("blind-2026-12-06m/机动车登记规定（公安部令第164号，2021年修订）.txt", "机 动 车 登 记 规 定", "机动车登记规定"),
    ("blind-2026-12-06f/中国区域金融运行报告（2024）_中国人民银行货币政策分析小组.md",
     "2023 年 末 ， 全 国 民 营 企 业 贷 款 余 额 同 比 增 长", "2023 年末，全国民营企业贷款余额同比增长"),
])
def test_letter_spaced_lines_are_joined_and_words_set_apart_stay(path, spaced, joined):
    from qa.ingest.lines import join_letter_spaced
    from tests.conftest import WILD
    text = (WILD.parent / path).read_text(encoding="utf-8")
    assert spaced in text
    lines = [ln.text for ln in clean(text).lines]
    assert any(joined in t for t in lines) and not any(spaced in t for t in lines)
    # two words a space apart, table headers, headings and names are not letter-spaced
    for kept in ("第一章 总则", "现行 建议/新增 增幅（元）", "總額 內地 歐盟# 美國 印度", "一、 总体要求 （一） 指导思想", "张 三 李四"):
        assert join_letter_spaced(kept) == kept


def test_info_table_cells_glued_to_the_next_label_are_read_as_fields():
    # The gov.cn info table at the end of a printed State Council opinion, as the PDF loader joins its
    # cells, and a provincial site's copy of that table: both go to the metadata, the body loses them.
    text = ("国务院办公厅关于优化完善地方政府专项债券管理机制的意见\n\n为更好发挥地方政府专项债券作用，现提出如下意见。\n\n"
            "索引号：000014349/2024-00116主题分类：财政、金融、审计\\财政\n"
            "发文机关：国务院办公厅成文日期：2024年12月22日\n"
            "发文字号：国办发〔2024〕52号发布日期：2024年12月25日\n")
    c = clean(text)
    assert (c.meta["成文日期"], c.meta["发布日期"], c.meta["发文字号"]) == ("2024年12月22日", "2024年12月25日", "国办发〔2024〕52号")
    assert not any("成文日期" in ln.text for ln in c.lines)
    province = "关于印发某某实施细则的通知\n\n各市州发展改革委：现将细则印发给你们。\n\n发文机关：湖南省发展和改革委员会主送机关：各市州发展改革委\n"
    assert clean(province).meta["主送机关"] == "各市州发展改革委"
    # One label in a sentence of the body is no table.
    assert "发布日期" not in clean("说明\n\n本办法所称发布日期：指在网站上公开的日期。\n").meta


@pytest.mark.parametrize("path, fields, gone", [
    # a city government's page: 「政策解读」 and 「基本信息」 over the info box's fields
    ("blind-2026-12-06m/广州市临时救助实施细则（穗府办规〔2021〕19号）_广州市政府网.html",
     {"发文字号": "穗府办规〔2021〕19号", "实施日期": "2021年12月06日", "失效日期": "2029年12月06日",
      "发布机关": "广州市人民政府办公厅"}, ["政策解读", "基本信息"]),
    # a customs tender's cover: 「招标文件」 over 「招标编号：…」
    ("blind-2026-12-07t/2026年黄浦海关辅助服务采购项目招标文件（PCMET-2611YG0122，上海浦成机电设备招标有限公司2026年3月）.docx",
     {"招标编号": "PCMET-2611YG0122", "项目名称": "2026年黄浦海关辅助服务采购项目"}, ["招标文件"]),
])
def test_section_labels_over_an_info_box_do_not_stop_its_fields(path, fields, gone):
    from qa.ingest.load import load_file
    from qa.ingest.sections import build_document
    from tests.conftest import WILD
    doc = build_document(load_file(WILD.parent / path))
    assert {k: doc.meta[k] for k in fields} == fields
    assert not any(p.text in gone for p in doc.paragraphs[:6])


@pytest.mark.parametrize("path, number", [
    ("blind-2026-12-06i/广州市老年人优待办法（广州市人民政府令第179号）_广州市政府网.html", None),
    ("blind-2026-12-07u/广州市居家社区养老服务管理办法（穗府办规〔2022〕13号，2022年9月6日）_广州市政府网.html",
     "穗府办规〔2022〕13号"),
])
def test_a_related_news_box_above_the_document_is_dropped_and_its_header_read(path, number):
    from qa.ingest.load import load_file
    from qa.ingest.sections import build_document
    from tests.conftest import WILD
    doc = build_document(load_file(WILD.parent / path))
    assert not any(p.text == "相关新闻" or re.search(r"解读\S*》?\s*\d{4}-\d{2}-\d{2}$", p.text) for p in doc.paragraphs)
    assert doc.meta.get("发文字号") == number
