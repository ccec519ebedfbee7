"""Follow-up rewrites keep what the previous question was scoped to (qa/rewrite.py keep_frame)."""
from qa.rewrite import keep_frame


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
