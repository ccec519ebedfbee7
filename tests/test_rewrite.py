"""Follow-ups are recognised without an opener or pronoun, and their rewrites keep what the previous
question was scoped to (qa/rewrite.py is_followup, keep_frame)."""
import shutil

import pytest

from qa.answer import Answerer
from qa.engine import Engine
from qa.rewrite import is_followup, keep_frame
from qa.settings import Settings
from tests.conftest import WILD

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
