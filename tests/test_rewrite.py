"""Follow-ups are recognised without an opener or pronoun, and their rewrites keep what the previous
question was scoped to (qa/answering/rewrite.py is_followup, keep_frame)."""
import shutil

import pytest

from qa.answering.answer import Answerer
from qa.retrieval.engine import Engine
from qa.answering.rewrite import faithful_rewrite, is_followup, keep_frame, name_numbered_documents as name, standalone_question
from qa.settings import Settings
from tests.conftest import WILD, wild_doc

HISTORY = [("上一个问题？", "上一个回答。")]


def test_elliptic_questions_are_follow_ups():
    for q in ("比上年增长了多少？", "这比去年是高了还是低了？",      # a comparison without its first term
              "第二年又安排了多少？", "试用期内又要提前几天？",          # a parallel 又
              "老年人呢？住院要满足什么条件？",                        # 呢 closing the first sentence
              "全市一共有多少所中学？", "本省的目标是多少？",            # a place named only as 全市/本省
              "这笔资金用来做什么？"):                                # 这 + a classifier
        assert is_followup(q, HISTORY), q
        assert not is_followup(q, []), q


def test_questions_that_point_within_themselves_stand_alone():
    for q in ("2014年计划的财政赤字是多少？其中中央财政赤字多少？",    # 其中 points at its own first sentence
              "对于铁路、收费公路这类周期长的项目，鼓励发行多长期限的债券？",
              "省直机关选派了多少名干部？市直机关又选派了多少名？",    # 又 parallels its own first sentence
              "依申请公开的案件，被告怎么确定？如果逾期没答复呢？",
              "《在全省抓党建工作座谈会上的讲话》是谁作的？",           # 全省 inside a title
              "北京全市公园有多少个？", "那篇调研报告的标题是什么？", "比例原则是什么意思？"):
        assert not is_followup(q, HISTORY), q


def test_a_dropped_year_and_place_of_the_previous_question_are_put_back():
    out = keep_frame("那失业率呢？", "2019年陇南市新增就业多少人？", "失业率是多少？")
    assert out == "2019年陇南市，失业率是多少？"


def test_a_dropped_document_is_put_back_also_for_a_pointing_back_question():
    prev = "政府信息公开条例里，申请应当写明哪些内容？"
    assert keep_frame("那收费吗？", prev, "收费吗？") == "政府信息公开条例，收费吗？"
    assert keep_frame("这个条例是哪天施行的？", prev, "这个条例是哪天施行的？") == "政府信息公开条例，这个条例是哪天施行的？"


def test_what_the_follow_up_replaces_is_not_put_back():
    # another place asked about: the previous place stays out
    assert keep_frame("那定西市呢？", "2019年陇南市新增就业多少人？", "2019年定西市新增就业多少人？") == \
        "2019年定西市新增就业多少人？"
    # a rewrite that kept everything is left as it is
    assert keep_frame("那失业率呢？", "2019年陇南市新增就业多少人？", "2019年陇南市失业率是多少？") == "2019年陇南市失业率是多少？"


def test_a_follow_up_that_only_swaps_the_year_gets_the_previous_question_with_that_year():
    prev = "规划提出到2025年农村自来水普及率要达到多少？"
    garbled = "到2035年规划提出到2025年农村自来水普及率要达到多少？"
    assert keep_frame("到2035年呢？", prev, garbled) == "规划提出到2035年农村自来水普及率要达到多少？"


def test_a_verb_that_looks_like_a_document_kind_is_no_frame():
    # 「通知」 here is "notify", not a notice
    prev = "劳动者主动解除劳动合同要提前多少天通知？"
    rewritten = "劳动者在试用期内解除劳动合同要提前多少天通知？"
    assert keep_frame("如果还在试用期内呢？", prev, rewritten) == rewritten


@pytest.fixture(scope="module")
def report_and_law(qa_cache_dir, tmp_path_factory):
    docs = tmp_path_factory.mktemp("followup-docs")
    for name in ("2022年政府工作报告.txt", "北京市信访条例.md"):
        shutil.copy(WILD / name, docs)
    idx = tmp_path_factory.mktemp("followup-idx")
    return Answerer(Engine.open(Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=idx)), None)


def test_elliptic_follow_ups_are_answered_from_the_previous_questions_subject(report_and_law):
    ans = report_and_law.answer("比上年增长了多少？", history=[("2021年国内生产总值达到多少？", "114万亿元")])
    assert "国内生产总值" in ans.standalone and "8.1%" in ans.text
    ans = report_and_law.answer("情况复杂的又最多能延长多少日？", history=[("受理的信访事项应当在多少日内办结？", "60日")])
    # extractive mode quotes the sentence of the merged question it matches; the paragraph it cites is
    # the one that answers the follow-up
    assert "信访事项" in ans.standalone and "延长期限不得超过30日" in ans.citations[0].text


AI_PLUS = "国务院关于深入实施人工智能+行动的意见（国发〔2025〕11号）_网页打印版.pdf"
PENALTY = "国家金融监督管理总局浙江监管局行政处罚信息公开表（浙金罚决字〔2024〕52号）_nfra.html"
BONDS = "中共中央办公厅国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》.docx"


@pytest.fixture(scope="module")
def numbered_docs():
    return {n: wild_doc(n) for n in (AI_PLUS, PENALTY, BONDS, "2022年政府工作报告.txt")}


def test_a_document_called_by_its_number_is_named_by_its_title(numbered_docs):
    ai = "《国务院关于深入实施“人工智能+”行动的意见》（国发〔2025〕11号）"
    assert name("11号文提出到2027年要达到什么？", numbered_docs) == f"{ai}提出到2027年要达到什么？"
    assert name("按国发11号文件，谁负责统筹协调？", numbered_docs) == f"按{ai}，谁负责统筹协调？"
    assert name("2025年11号文的目标是什么？", numbered_docs) == f"{ai}的目标是什么？"
    penalty = "《国家金融监督管理总局浙江监管局行政处罚信息公开表》（浙金罚决字〔2024〕52号）"
    assert name("〔2024〕52号处罚了谁？", numbered_docs) == f"{penalty}处罚了谁？"
    # a title that quotes another document's keeps its own marks
    assert name("厅字33号文要求什么？", numbered_docs) == \
        "中共中央办公厅 国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》（厅字﹝2019﹞33号）要求什么？"


def test_a_number_that_does_not_agree_or_is_no_document_number_names_nothing(numbered_docs):
    for q in ("国发〔2024〕11号文提出了什么？",        # another year
              "国办发11号文提出了什么？",              # another issuer
              "12号文提出了什么？",                    # no document has that number
              "第11号令是什么？", "11号楼在哪里？",    # a serial number that is not a 文号
              "《国务院关于深入实施“人工智能+”行动的意见》（国发〔2025〕11号）提出了什么？"):  # already named
        assert name(q, numbered_docs) is None, q


@pytest.fixture(scope="module")
def numbered_engine(qa_cache_dir, tmp_path_factory):
    docs = tmp_path_factory.mktemp("numbered-docs")
    for name in (AI_PLUS, PENALTY):
        shutil.copy(WILD / name, docs)
    idx = tmp_path_factory.mktemp("numbered-idx")
    return Answerer(Engine.open(Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=idx)), None)


@pytest.mark.parametrize("question, doc", [("11号文提出由哪个部门负责统筹协调？", AI_PLUS),
                                           ("按照52号文，对个人的处罚是什么？", PENALTY)])
def test_a_question_calling_a_document_by_number_is_searched_with_its_title(numbered_engine, question, doc):
    ans = numbered_engine.answer(question)
    title = numbered_engine.engine.index.documents[doc].title
    assert ans.standalone is not None and title in ans.standalone
    assert ans.hits[0].chunk.doc == doc


def test_a_rewrite_that_answers_drops_words_or_leaves_a_comparison_unresolved_is_not_used():
    # answers instead of asking (a citation marker, or no asking left)
    assert not faithful_rewrite("那重大紧急事项呢？", "重大紧急事项应当在24小时内报告[1]。")
    assert not faithful_rewrite("这些资金用来做什么？", "专项债券资金用来支持重大项目建设。")
    # half of the follow-up is lost
    assert not faithful_rewrite("老年人呢？住院超过几天要复查？", "老年人重型的诊断标准是什么？")
    # a comparison handed back without its first term
    assert not faithful_rewrite("比上年增长了多少？", "比上年增长了多少？")
    # kept: every word (pronoun resolved), or one word paraphrased
    assert faithful_rewrite("那城镇调查失业率呢？", "2022年城镇调查失业率是多少？")
    assert faithful_rewrite("它们是怎么管理的？", "专项债券项目是怎么管理的？")
    assert faithful_rewrite("那2024年计划安排多少？", "2024年要安排多少专项债券？")


def test_an_unfaithful_rewrite_falls_back_to_the_rule_rewrite():
    history = [("信访事项应当在多少日内办结？", "60日")]
    out = standalone_question("如果情况复杂呢？", history, lambda messages, n: "情况复杂的可以延长30日[1]。")
    assert out == "信访事项应当在多少日内办结，如果情况复杂呢？"


def test_the_standard_a_question_is_asked_under_is_put_back_whole():
    # 「按…，」 scopes the question; its place name alone (中国) would not
    assert keep_frame("Ⅱ期又是怎么界定的？", "按中国肝癌分期，Ⅰa期要求单个肿瘤直径不超过多少？", "Ⅱ期又是怎么界定的？") == \
        "按中国肝癌分期，Ⅱ期又是怎么界定的？"
    assert keep_frame("那重型呢？", "依照新冠诊疗方案第九版，轻型病例有哪些表现？", "重型病例有哪些表现？") == \
        "依照新冠诊疗方案第九版，重型病例有哪些表现？"


def test_a_translated_question_is_also_searched_in_the_users_own_words():
    from qa.answering.rewrite import own_words
    english = "Under the STAR Market listing rules, how many months is the lock-up period?"
    assert own_words(english, "科创板上市规则规定的锁定期是多少个月？") == english
    assert own_words(english, english) is None                         # not rewritten
    assert own_words("锁定期是多久？", "科创板首发前股份锁定期是多久？") is None   # a Chinese follow-up, rewritten
