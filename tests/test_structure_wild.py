"""Titles, section paths, metadata and kept text of the real .txt and .md documents in corpora/wild/."""
import re

import pytest

from qa.ingest.clean import clean
from qa.ingest.lines import META_RULES, drop_pinyin
from qa.ingest.load import load_file
from qa.text.normalize import compact
from qa.ingest.sections import build_document, reading_order
from tests.conftest import para_with

from tests.conftest import WILD

REPORT_2014 = "2014年政府工作报告.txt"
REPORT_2022 = "2022年政府工作报告.txt"
RURAL = "中共中央国务院关于实施乡村振兴战略的意见（2018年1月2日）.txt"
LABOUR = "中华人民共和国劳动法（2018修正）.md"
OPENNESS = "中华人民共和国政府信息公开条例（2019修订）.md"
NOTICE = "关于职工全年月平均工作时间和工资折算问题的通知（劳社部发〔2008〕3号）.md"
PETITION = "北京市信访条例.md"
COURT = "最高人民法院关于审理政府信息公开行政案件若干问题的规定.md"

# name -> (title, {needle in one paragraph: its section path}, metadata subset)
EXPECTED = {
    REPORT_2014: ("2014政府工作报告", {
        "各位代表：": "",
        "国内生产总值达到56.9万亿元": "一、2013年工作回顾",
        "增强各类所有制经济活力": "三、2014年重点工作 > （一）推动重要领域改革取得新突破",
        "推动医改向纵深发展": "三、2014年重点工作 > （七）加强教育、卫生、文化等社会建设",
    }, {"讲话人": "国务院总理 李克强", "会议": "第十二届全国人民代表大会第二次会议", "日期": "2014年3月5日"}),
    REPORT_2022: ("2022年政府工作报告（全文）", {
        "城镇新增就业1269万人": "一、2021年工作回顾",
        "推进科技创新，促进产业优化升级": "三、2022年政府工作任务 > （四）深入实施创新驱动发展战略，巩固壮大实体经济根基",
        "稳步实施企业职工基本养老保险全国统筹": "三、2022年政府工作任务 > （九）切实保障和改善民生，加强和创新社会治理",
    }, {"作者": "李克强"}),
    RURAL: ("中共中央 国务院关于实施乡村振兴战略的意见", {
        "粮食生产能力跨上新台阶": "一、新时代实施乡村振兴战略的重大意义",
        "——坚持党管农村工作。": "二、实施乡村振兴战略的总体要求 > （三）基本原则",
        "加强农业面源污染防治": "四、推进乡村绿色发展，打造人与自然和谐共生发展新格局 > （二）加强农村突出环境问题综合治理",
    }, {"成文日期": "2018年1月2日"}),
    LABOUR: ("中华人民共和国劳动法", {
        "下列劳动合同无效": "第三章 劳动合同和集体合同 > 第十八条",
        "工资应当以货币形式按月支付给劳动者本人": "第五章 工资 > 第五十条",
        "本法自1995年1月1日起施行": "第十三章 附则 > 第一百零七条",
    }, {}),
    OPENNESS: ("中华人民共和国政府信息公开条例", {
        "(五)本行政机关规定的与政府信息公开有关的其他职能": "第一章 总则 > 第四条",
        "政府信息公开工作年度报告应当包括下列内容": "第五章 监督和保障 > 第五十条",
        "本条例自2019年5月15日起施行": "第六章 附则 > 第五十六条",
    }, {"施行日期": "2019年5月15日"}),
    NOTICE: ("关于职工全年月平均工作时间和工资折算问题的通知", {
        "年工作日：365天-104天": "一、制度工作时间的计算",
        "月工作日：250天÷12月＝20.83天/月": "一、制度工作时间的计算",
        "日工资：月工资收入÷月计薪天数": "二、日工资、小时工资的折算",
    }, {"发文字号": "劳社部发[2008]3号", "主送机关": "各省、自治区、直辖市劳动和社会保障厅（局）"}),
    PETITION: ("北京市信访条例", {
        "本条例所称信访，是指": "第一章 总则 > 第二条",
        "（四）方便信访人。": "第一章 总则 > 第五条",
        "成立由本级人民政府分管领导负责": "第六章 人民政府及其工作部门信访事项的受理和办理 > 第二节 复查、复核和督办 > 第四十九条",
    }, {}),
    COURT: ("最高人民法院关于审理政府信息公开行政案件若干问题的规定", {
        "为正确审理政府信息公开行政案件": "",
        "（一）因申请内容不明确": "第二条",
        "凡与本规定不一致的": "第十三条",
    }, {"施行日期": "2011年8月13日"}),
}


@pytest.fixture(scope="module")
def wild_docs():
    return {name: build_document(load_file(WILD / name)) for name in EXPECTED}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_title_sections_and_metadata(name, wild_docs):
    doc = wild_docs[name]
    title, paths, meta = EXPECTED[name]
    assert doc.title == title
    for needle, path in paths.items():
        assert para_with(doc, needle).section_path == path, needle
    assert {k: doc.meta.get(k) for k in meta} == meta
    # Markdown syntax never reaches titles, sections or text
    for p in doc.paragraphs:
        assert not any(s.startswith("#") for s in p.section) and "<!--" not in p.text and not p.text.startswith("#")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_sentence_is_kept(name, wild_docs):
    """≥ 95% of the text is kept (nothing dropped), and every sentence of the source is
    found in the document as read: metadata, headings and paragraphs."""
    doc = wild_docs[name]
    rep = doc.report
    assert rep.share >= 0.95 and rep.paragraphs > 0 and rep.warnings == ()
    assert not rep.dropped
    kept = compact("".join(text for _, text, _ in reading_order(doc)))
    raw = load_file(WILD / name)
    cleaned = clean(raw.text, blocks=raw.blocks)
    # header and signature lines moved into metadata: their values are checked per document above
    meta_lines = {n for ln, rule in cleaned.removed if rule in META_RULES for n in range(ln.start, ln.end + 1)}
    assert len(meta_lines) <= 6
    missing = []
    for n, line in enumerate(raw.text.splitlines(), 1):
        if n in meta_lines:
            continue
        line = re.sub(r"^#+\s+|<!--.*?-->", "", line.strip())
        for sentence in re.split(r"(?<=[。！？；])", drop_pinyin(line)):
            words = compact(sentence).rstrip("。；")  # a heading loses the full stop it was written with
            if words and words not in kept:
                missing.append(sentence)
    assert missing == []


def test_law_article_is_one_paragraph_with_its_items(wild_docs):
    p = para_with(wild_docs[LABOUR], "下列劳动合同无效")
    assert p.text.startswith("第十八条 下列劳动合同无效：\n（一）违反法律、行政法规的劳动合同；")
    assert "（二）采取欺诈、威胁等手段订立的劳动合同。" in p.text and "无效的劳动合同，从订立的时候起" in p.text
    # items are never sections
    assert not any(s.startswith(("(", "（")) for d in wild_docs.values() if d.name != RURAL
                   for q in d.paragraphs for s in q.section if d.name not in (REPORT_2014, REPORT_2022))


def test_metadata_paragraph_reads_naturally(wild_docs):
    meta = wild_docs[NOTICE].paragraphs[0]
    assert meta.kind == "meta" and meta.index == 0 and meta.text == (
        "标题：关于职工全年月平均工作时间和工资折算问题的通知\n"
        "发文字号：劳社部发[2008]3号\n"
        "主送机关：各省、自治区、直辖市劳动和社会保障厅（局）")
    assert wild_docs[REPORT_2014].paragraphs[0].text == (
        "标题：2014政府工作报告\n讲话人：国务院总理 李克强\n会议：第十二届全国人民代表大会第二次会议\n日期：2014年3月5日")
    # the byline and occasion lines are metadata, not a section above every paragraph
    assert all(not p.section or p.section[0].startswith(("一、", "二、", "三、"))
               for p in wild_docs[REPORT_2014].paragraphs[1:])


def test_law_header_lines_are_history_metadata(wild_docs):
    assert wild_docs[OPENNESS].meta["沿革"] == (
        "2007年4月5日 中华人民共和国国务院令第492号公布；2019年4月3日 中华人民共和国国务院令第711号修订")
    assert wild_docs[LABOUR].meta["沿革"].count("；") == 2


def test_document_questions_find_the_metadata_paragraph(tmp_path, qa_cache_dir, encoder):
    """「这份通知的发文字号是什么？」 and 「这份报告是谁作的、在哪次会议上？」: the metadata paragraph ranks first."""
    import shutil

    from qa.retrieval.index import open_index
    from qa.retrieval.retrieve import Retriever
    from qa.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    for name in (REPORT_2014, NOTICE, OPENNESS):
        shutil.copy(WILD / name, docs / name)
    s = Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=tmp_path / "index")
    retriever = Retriever(open_index(s, encoder), encoder, s.rrf_k, s.candidates)
    for question, para in (("这份通知的发文字号是什么？", f"{NOTICE}#0"),
                           ("这份报告是谁作的、在哪次会议上？", f"{REPORT_2014}#0"),
                           ("政府信息公开条例什么时候开始施行？", f"{OPENNESS}#0")):
        assert retriever.search(question, 3, "hybrid")[0].chunk.para_ids[0] == para, question
