"""Answers from a document's own record (qa/answering/fields.py), on real documents of different origin."""

import pytest

from qa.answering.answer import with_paragraph
from qa.answering.fields import asked_fields, field_answer
from qa.ingest.load import load_file
from qa.schema import Chunk, Hit, Passage
from qa.ingest.sections import build_document

from tests.conftest import WILD
GUOFA = "国务院关于加强地方政府性债务管理的意见（国发〔2014〕43号）.docx"
LAOSHE = "关于职工全年月平均工作时间和工资折算问题的通知（劳社部发〔2008〕3号）.md"
XINXI = "中华人民共和国政府信息公开条例（2019修订）.md"
FAYUAN = "最高人民法院关于审理政府信息公开行政案件若干问题的规定.md"
XINFANG = "北京市信访条例.md"


@pytest.fixture(scope="module")
def docs():
    return {n: build_document(load_file(WILD / n)) for n in (GUOFA, LAOSHE, XINXI, FAYUAN, XINFANG)}


def _hits(docs, *names):
    out = []
    for r, n in enumerate(names, 1):
        p = docs[n].paragraphs[1]
        out.append(Hit(Chunk(f"{p.id}.0", n, (p.id,), p.text, p.section, docs[n].title), 1.0 / r, r))
    return out


@pytest.mark.parametrize("name, question, value", [
    (GUOFA, "国务院关于加强地方政府性债务管理的意见的文号是什么？", "国发〔2014〕43号"),
    (LAOSHE, "职工全年月平均工作时间和工资折算问题的通知发文字号是多少？", "劳社部发[2008]3号"),
    (GUOFA, "加强地方政府性债务管理的意见是发给哪些单位的？", "各省、自治区、直辖市人民政府，国务院各部委、各直属机构"),
    (XINXI, "现行政府信息公开条例是哪天开始施行的？", "2019年5月15日"),
    (FAYUAN, "审理政府信息公开行政案件若干问题的规定从什么时候起施行？", "2011年8月13日"),
])
def test_a_recorded_field_is_answered_from_the_metadata_paragraph(docs, name, question, value):
    other = next(n for n in docs if n != name)
    fa = field_answer(question, _hits(docs, other, name), docs)
    assert fa is not None and (fa.doc, fa.value) == (name, value)
    assert fa.para.kind == "meta" and value in fa.para.text
    assert fa.text == f"《{docs[name].title}》的{fa.field}为{value}。"


def test_a_document_the_corpus_lacks_gets_no_other_documents_field(docs):
    assert field_answer("国务院关于加强网络安全的意见文号是什么？", _hits(docs, GUOFA, LAOSHE), docs) is None


def test_a_field_of_a_document_this_one_cites_is_not_this_documents_own(docs):
    # A judicial interpretation cites 《中华人民共和国政府信息公开条例》: asked when that 条例 took effect, its
    # own 施行日期 would be a wrong answer; the 条例 itself, when retrieved, answers. A 国办 notice named in
    # 《》 inside the 中办国办 printing note's title is that document, and keeps its answer.
    question = "《中华人民共和国政府信息公开条例》从什么时候起施行？"
    assert field_answer(question, _hits(docs, FAYUAN), docs) is None
    fa = field_answer(question, _hits(docs, FAYUAN, XINXI), docs)
    assert fa is not None and (fa.doc, fa.value) == (XINXI, "2019年5月15日")
    zhuanxiang = "中共中央办公厅国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》.docx"
    both = {**docs, zhuanxiang: build_document(load_file(WILD / zhuanxiang))}
    fa = field_answer("《关于做好地方政府专项债券发行及项目配套融资工作的通知》的文号是什么？", _hits(both, zhuanxiang), both)
    assert fa is not None and fa.value == "厅字﹝2019﹞33号"
    # Named without 《》 before the asking: a plan another notice cites is not the notice.
    assert field_answer("“十四五”加强地方政府性债务管理行动计划的文号是多少？", _hits(docs, GUOFA), docs) is None
    assert field_answer("这个意见的文号是什么？", _hits(docs, GUOFA), docs).value == "国发〔2014〕43号"


def test_a_field_the_document_does_not_record_goes_to_the_model(docs):
    assert "发文字号" not in docs[XINFANG].meta
    assert field_answer("北京市信访条例的文号是什么？", _hits(docs, XINFANG), docs) is None


BLIND_12 = WILD.parent / "blind-2026-12-06l"


@pytest.mark.parametrize("folder, name, question, value, article", [
    # a regulation whose header records no 施行日期 (a city's, from the wild corpus)
    (WILD, XINFANG, "北京市信访条例从什么时候开始施行？", "2007年1月1日", "本条例自2007年1月1日起施行"),
    # a ministry's rules typeset 「1 日」, asked 「从哪一天起开始实施」
    (BLIND_12, "交通警察道路执勤执法工作规范（公安部）.md", "公安部的《交通警察道路执勤执法工作规范》是从哪一天起开始实施的？",
     "2009年1月1日", "本规范自2009年1月1 日起实施"),
    # an association's rules inside its covering notice (another repository)
    (BLIND_12, "收单外包服务机构自律规范（试行）（中国支付清算协会中支协发〔2022〕12号）.md",
     "《收单外包服务机构自律规范》从什么时候开始施行？", "2022年5月1日", "本规范自2022年5月1日起施行"),
])
def test_a_date_in_force_the_header_lacks_is_read_from_the_commencement_article(folder, name, question, value, article):
    """Laws, rules and standards put themselves into force in their last article (「本条例自…起施行」):
    when the header records no 施行日期, that article answers a 施行 question and is what is cited."""
    doc = build_document(load_file(folder / name))
    assert "施行日期" not in doc.meta
    fa = field_answer(question, _hits({name: doc}, name), {name: doc})
    assert fa is not None and (fa.doc, fa.field, fa.value) == (name, "施行日期", value)
    assert article in fa.para.text and fa.para.kind != "meta" and fa.source is None
    assert fa.text == f"《{doc.title}》自{value}起{article[-2:]}。"
    # a question naming another document gets nothing from this one
    assert field_answer("《网络安全审查办法》从什么时候开始施行？", _hits({name: doc}, name), {name: doc}) is None


def test_a_question_about_the_replaced_document_asks_for_no_field_of_this_one():
    """「被废止的旧办法文号」 or 「替代的旧版标准…哪一天开始实施」 ask for another document's record."""
    assert asked_fields("新的科研项目资金管理办法施行后，被废止的旧办法文号是什么？") == []
    assert asked_fields("GB/T 3469—2013 替代的1983年旧版标准，当年是哪一天开始实施的？") == []
    assert asked_fields("这个标准代替的原标准是哪天开始实施的？") == []
    assert asked_fields("新版名录是从哪一天开始施行的？") == ["施行日期"]


def test_questions_that_ask_for_no_field():
    assert asked_fields("地方政府债务实行什么样的规模控制？") == []
    assert asked_fields("劳动者每日工作时间不超过几小时？") == []


def test_the_metadata_paragraph_joins_the_passages_whole(docs):
    doc = docs[GUOFA]
    meta, body = doc.paragraphs[0], doc.paragraphs[3]
    ps = [Passage(1, body, 0, 10)]
    out, n = with_paragraph(ps, meta)
    assert n == 2 and out[1] == Passage(2, meta, 0, len(meta.text))
    out, n = with_paragraph([Passage(1, meta, 0, 5)], meta)
    assert n == 1 and out == [Passage(1, meta, 0, len(meta.text))]


def test_a_field_the_text_states_is_cited_to_that_paragraph_too(docs):
    # a law states its 施行日期 in its last article: the reader is sent there first
    fa = field_answer("现行政府信息公开条例是哪天开始施行的？", _hits(docs, GUOFA, XINXI), docs)
    assert fa.source is not None and fa.source.kind != "meta"
    assert "本条例自2019年5月15日起施行" in fa.source.text
    # a 公文's 文号 stands only in its header (the metadata): no body paragraph to cite
    fa = field_answer("国务院关于加强地方政府性债务管理的意见的文号是什么？", _hits(docs, XINXI, GUOFA), docs)
    assert fa.source is None


@pytest.mark.parametrize("path, question, value", [
    # a budget report whose PDF breaks its occasion line before the meeting, and a standard's cover
    ("blind-2026-12-07p/关于宣城市2025年预算执行情况和2026年预算草案的报告（宣城市财政局2026年1月）.pdf",
     "宣城市2025年预算执行情况和2026年预算草案的报告是哪一天在人代会上作的？", "2026年1月28日"),
    ("wild/2014年政府工作报告.txt", "2014年政府工作报告是哪天作的？", "2014年3月5日"),
    ("blind-2026-12-07p/TC260-003生成式人工智能服务安全基本要求（全国网络安全标准化技术委员会技术文件）.pdf",
     "生成式人工智能服务安全基本要求这份技术文件是哪天发布的？", "2024年2月29日"),
    ("blind-2026-12-06i/JTT808-2011道路运输车辆卫星定位系统终端通讯协议及数据格式（报批稿）.pdf",
     "道路运输车辆卫星定位系统终端通讯协议及数据格式从什么时候开始实施？", "2011年8月1日"),
    # a government page's info box records when a 规范性文件 lapses
    ("blind-2026-12-06m/广州市临时救助实施细则（穗府办规〔2021〕19号）_广州市政府网.html",
     "广州市临时救助实施细则的失效日期是哪天？", "2029年12月06日"),
])
def test_the_day_of_a_report_and_a_standards_dates_are_answered_from_the_record(path, question, value):
    doc = build_document(load_file(WILD.parent / path))
    p = doc.paragraphs[1]
    hits = [Hit(Chunk(f"{p.id}.0", doc.name, (p.id,), p.text, p.section, doc.title), 1.0, 1)]
    ans = field_answer(question, hits, {doc.name: doc})
    assert ans is not None and ans.value == value and ans.para.kind == "meta"
