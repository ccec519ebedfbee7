"""qa/verify/respective.py: figures given 「分别」 belong to their items in order (sentences from real documents)."""
from qa.verify.respective import misassigned, respective_pairs

# corpora/blind-2026-12-06h, a university's competition rules (.html)
PRIZES = "1.获全国竞赛特等奖、一等奖、二等奖、三等奖，每件作品分别奖励10000元、8000元、5000元、3000元；"
# corpora/blind-2026-12-06f, the 2026 Guiyang work report (.md): a list whose items are long phrases
RATES = "生活污水治理（管控）率、30户以上自然村寨生活垃圾收运处置体系覆盖率、卫生厕所普及率分别达85%、95%、98%，“治风”经验全省推广。"


def test_the_list_before_respectively_pairs_with_the_figures_after_it():
    [(items, figs)] = respective_pairs(PRIZES)
    assert items[1:] == ["一等奖", "二等奖", "三等奖"] and [f.value for f in figs] == [10000, 8000, 5000, 3000]
    [(items, figs)] = respective_pairs(RATES)
    assert items == ["生活污水治理(管控)率", "30户以上自然村寨生活垃圾收运处置体系覆盖率", "卫生厕所普及率"]
    assert len(figs) == 3


def test_the_named_items_figure_is_its_own_and_another_items_is_not():
    q = "全国赛二等奖每件作品奖励多少钱？"
    assert misassigned("每件作品奖励10000元。", q, PRIZES) and not misassigned("每件作品奖励5000元。", q, PRIZES)
    q = "卫生厕所普及率达到多少？"
    assert misassigned("卫生厕所普及率达85%。", q, RATES) and not misassigned("卫生厕所普及率达98%。", q, RATES)


def test_unsure_cases_pass():
    # the question names no item, or two of them: nothing to align
    assert not misassigned("每件作品奖励10000元。", "每件作品奖励多少钱？", PRIZES)
    assert not misassigned("一等奖8000元。", "一等奖和二等奖各奖励多少钱？", PRIZES)
    # a figure count that matches no list: no pairing at all
    assert respective_pairs("获河南省竞赛一等奖以上奖励的，每件作品分别奖励3000元。") == []
