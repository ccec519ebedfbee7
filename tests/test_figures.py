"""Figures: the writings of one figure compare equal, different figures do not."""
import pytest

from qa.text.figures import asked_change, figures, same_figure
from qa.text.normalize import normalize


def fig(text: str):
    found = figures(normalize(text))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("a, b", [
    ("1269万人", "12,690,000人"),            # unit scaling
    ("1269万人", "一千二百六十九万人"),        # Chinese numerals
    ("1.2万亿元", "12000亿元"),
    ("百分之九十", "90%"),
    ("两名", "2名"),
    ("1200多万人", "1269万人"),              # 多: up to the next step of its last non-zero digit
    ("近5000户", "4800户"),
    ("约5%", "5.1%"),
    ("80多名", "86人"),                      # 名 and 人 count alike
    ("1269万", "1269万人"),                  # no unit in the claim: any unit
    ("半年", "6个月"),                        # a duration in years is one in months
    ("一年", "12 个月"),                      # PDF text layers set a space before the unit
    ("每 12 小时", "每12小时"),
])
def test_same_figure_written_differently(a, b):
    assert same_figure(fig(a), fig(b)) and same_figure(fig(b), fig(a))


@pytest.mark.parametrize("a, b", [
    ("100元", "1000元"),
    ("1300多万人", "1269万人"),
    ("1个", "1区"),                           # the 1 of 「6县1区」 is not 1个
    ("5.5%", "5.5万元"),
    ("半年", "5个月"),
    ("3年", "3个月"),
])
def test_different_figures_do_not_match(a, b):
    assert not same_figure(fig(a), fig(b))


def test_range_ends_share_the_unit():
    assert [(f.value, f.unit) for f in figures(normalize("3至5年，5%—10%"))] == [(3, "年"), (5, "年"), (5, "%"), (10, "%")]


def test_words_with_numeral_characters_are_not_figures():
    assert figures(normalize("统一部署，第一书记，一是加强领导")) == []


@pytest.mark.parametrize("name, written, said", [
    ("中华人民共和国劳动法（2018修正）.md", "提前三十日", "30天"),
    ("北京市信访条例.md", "15日内", "15天"),
])
def test_days_counted_in_ri_are_days(name, written, said):
    # laws count days in 日; an answer says 天
    from tests.conftest import WILD
    text = (WILD / name).read_text(encoding="utf-8")
    assert written in text
    in_law = [f for f in figures(normalize(text)) if f.unit == "日"]
    assert any(same_figure(fig(said), f) for f in in_law)
    assert not any(same_figure(fig("31天"), f) for f in in_law if f.text in written)


@pytest.mark.parametrize("path, written, said", [
    ("wild/中华人民共和国劳动法（2018修正）.md", "年满十六周岁", "16岁"),
    ("blind-2026-12-06e/澳门特别行政区基本法（1993年3月31日通过）.md", "年满四十周岁", "四十岁"),
])
def test_an_age_in_zhousui_is_an_age_in_sui(path, written, said):
    # laws set ages in 周岁; an answer says 岁. 周 alone counts weeks.
    from tests.conftest import WILD
    text = (WILD.parent / path).read_text(encoding="utf-8")
    assert written in text
    in_law = [f for f in figures(normalize(text)) if f.text in written]
    assert in_law and all(f.unit == "岁" for f in in_law) and any(same_figure(fig(said), f) for f in in_law)
    assert [f.unit for f in figures(normalize("妊娠满28周的孕妇"))] == ["周"]


def test_words_with_jin_are_not_approximations():
    assert figures(normalize("最近一次修订"))[0].approx is False
    assert fig("近5000户").approx


@pytest.mark.parametrize("path, written, said", [
    ("corpora/wild/北京市信访条例.md", "不得超过五人", "五个"),       # a law counts people in 人
    ("seeds/000_2fea3bba8e0420ec.txt", "3328名", "3328个"),        # a report counts them in 名
])
def test_the_general_classifier_counts_people(path, written, said):
    from pathlib import Path
    text = (Path(__file__).resolve().parents[1] / path).read_text(encoding="utf-8")
    assert written in text
    counted = fig(written)
    assert counted.unit in "人名" and same_figure(fig(said), counted)
    # ... but a person is no day, and 个 does not make another value match
    assert not same_figure(fig(said.replace("个", "天")), counted)
    assert not same_figure(fig("8个"), counted)


@pytest.mark.parametrize("name, date, days", [
    ("北京市信访条例.md", "2006年9月15日", "15日内"),
    ("中华人民共和国政府信息公开条例（2019修订）.md", "2019年5月15日", "15个工作日"),
])
def test_the_day_of_a_date_is_no_count_of_days(name, date, days):
    # 「9月15日」 in a law's history is a date; 「15日内」 and 「15天」 count days
    from tests.conftest import WILD
    text = normalize((WILD / name).read_text(encoding="utf-8"))
    day = next(f for f in figures(text) if text[f.start - len(date) + len(f.text):f.end] == date)
    count = next(f for f in figures(text) if text[f.start:].startswith(days))
    assert day.unit == "号" and not same_figure(fig("15天"), day) and same_figure(fig("15号"), day)
    assert count.value == 15 and count.unit != "号"


def test_a_question_asking_several_things_or_a_level_asks_no_change():
    assert asked_change("2023年北京地区生产总值增长了多少？总量大概多少？") == ""
    assert asked_change("“23·7”极端强降雨期间提前疏散转移了多少群众？") == ""   # 降雨 is no change
    # the level a change reaches is a level: 「森林覆盖率达到23%」 answers 「提高到了多少」
    assert asked_change("定西市的贫困发生率到2018年底降到了多少？") == ""
    assert asked_change("森林覆盖率提高到了多少？") == "" and asked_change("贫困人口下降至多少？") == ""
    assert asked_change("贫困人口实际减少了多少？") == "down"
    assert asked_change("2013年全国城镇新增就业有多少？") == "up"


@pytest.mark.parametrize("text, value", [
    ("已垫付的526 205元", 526205.0),            # a court judgment groups digits by spaces
    ("损失为2 114 847.21元", 2114847.21),
    ("提前 3 天", 3.0),                        # a typeset PDF sets spaces around digits
])
def test_digits_grouped_by_spaces_are_one_number(text, value):
    from qa.text.normalize import normalize
    assert [f.value for f in figures(normalize(text))] == [value]


def test_a_numbering_label_keeps_its_number_apart():
    from qa.text.normalize import normalize
    assert [f.value for f in figures(normalize("表1 100例患者"))] == [1.0, 100.0]


@pytest.mark.parametrize("path, written, said, other", [
    # a company handbook (PDF, 24-hour clock) and a university handbook (PDF, the same with spaces)
    ("blind-2026-12-06/字节跳动员工手册（2019年版）.pdf", "员工晚上超过22:00点", "晚上10点", "10点"),
    ("blind-2026-12-06/杭州电子科技大学信息工程学院2025学生手册.pdf", "访客须在21:00前离开公寓", "晚上9点", "9点"),
])
def test_a_time_of_day_is_one_figure_however_written(path, written, said, other):
    from qa.ingest.load import load_file
    from tests.conftest import BLIND
    text = normalize(load_file(BLIND.parent / path).text)
    at = text.replace(" ", "").index(written)
    assert at >= 0
    in_doc = [f for f in figures(normalize(written)) if f.unit == "时刻"]
    assert len(in_doc) == 1 and same_figure(fig(said), in_doc[0])
    assert not same_figure(fig(other), in_doc[0])     # 10 in the morning is not 22:00


def test_a_numeral_with_dian_is_a_time_only_with_its_part_of_the_day():
    assert figures(normalize("提出三点意见")) == []
    assert fig("下午三点").value == 15 * 60 and fig("下午4点半").value == 16 * 60 + 30
    assert fig("晚上十点").value == fig("22时").value == 22 * 60
    assert [f.value for f in figures(normalize("6:20—22:00"))] == [380.0, 1320.0]


@pytest.mark.parametrize("text, values", [
    ("人均预期寿命达到 7 0 岁左右 。", [70.0]),                 # a PDF text layer that spaces every digit
    ("(2 0 0 1 年 2 月 1 6 日云南省第九", [2001.0, 2.0, 16.0]),
    ("合计 3 5 8", [3.0, 5.0, 8.0]),                            # a table row of small counts stays apart
])
def test_letter_spaced_digits_before_a_character_are_one_number(text, values):
    from qa.text.normalize import normalize
    assert [f.value for f in figures(normalize(text))] == values


@pytest.mark.parametrize("written, claimed", [
    ("不得超过每份普通股份的表决权数量的10 倍。", "最多是普通股的10倍"),           # listing rules converted from a PDF
    ("（环境保护部令第 39 号）同时废止。", "以环境保护部令第39号发布"),           # a ministry catalogue's PDF
    ("本标准项目共计 109 项，其中地表水环境质量标准基本项目 24 项", "一共有109项"),  # a standard read by OCR
])
def test_the_space_typesetting_puts_between_a_digit_and_a_character_is_no_gap(written, claimed):
    from qa.text.normalize import normalize
    from qa.verify.cite import figures_found
    assert figures_found(claimed, [written]) == []
    assert " " not in normalize(written)
    assert normalize("第一章 总则") == "第一章 总则" and normalize("表1 100例") == "表1 100例"   # words and labels stay apart


def test_a_letter_spaced_pdf_states_its_figures_as_written():
    from qa.ingest.load import load_file
    from qa.ingest.sections import build_document
    from qa.text.normalize import normalize
    from tests.conftest import WILD
    doc = build_document(load_file(WILD.parent / "blind-2026-12-06f" / "云南省国民经济和社会发展第十个五年计划纲要.pdf"))
    text = normalize(" ".join(p.text for p in doc.paragraphs))
    assert any(same_figure(fig("70岁"), f) for f in figures(text))
    assert "2001年2月16日" in text.replace(" ", "")


@pytest.mark.parametrize("text, expected", [
    ("按GB 8978每2h采样一次", [(8978.0, ""), (2.0, ""), (1.0, "次")]),     # a standard's number, then 每
    ("第3以下各项", [(3.0, "")]),
    ("补贴300元的标准", [(300.0, "元")]),
], ids=["per", "by", "unit-kept"])
def test_a_function_word_after_a_number_is_not_its_unit(text, expected):
    assert [(f.value, f.unit) for f in figures(normalize(text))] == expected


def test_which_several_asks_for_items_not_a_count():
    from qa.text.figures import asked_unit
    from qa.text.sentences import answer_kinds
    from qa.verify.cite import asks_one_quantity

    assert answer_kinds("讲话里说职业教育要体现哪几个方面？") == [] and not asks_one_quantity("规划分别是哪几个片区？")
    assert answer_kinds("一共设了几个片区？") == ["number"] and asks_one_quantity("一共设了几个片区？")
    assert asked_unit("分为哪几个片区？") == "" and asked_unit("设了几个片区？") == "个"


@pytest.mark.parametrize("path, written", [
    ("blind-2026-12-07p/非银行支付机构业务合规发展自律指引（2023修订版·中支协发〔2023〕139号）.md", "30 个自然日"),
    ("blind-2026-12-06l/收单外包服务机构自律规范（试行）（中国支付清算协会中支协发〔2022〕12号）.md", "30个自然日"),
])
def test_natural_days_are_days_and_working_days_are_not(path, written):
    # 「30个自然日」 is 30天; a claim of 「30个工作日」 or 「30天」 for 「30个工作日」 is another figure
    from tests.conftest import WILD
    text = (WILD.parent / path).read_text(encoding="utf-8")
    assert written in text
    found = [f for f in figures(normalize(text)) if f.text == normalize(written)]
    assert found and all(f.unit == "日" for f in found)
    assert any(same_figure(fig("30天"), f) for f in found)
    assert not any(same_figure(fig("30个工作日"), f) for f in found)
    assert [f.unit for f in figures(normalize("之日起10个工作日内办理完毕"))] == ["工作日"]
    assert not same_figure(fig("10天"), figures("10个工作日")[0])


def test_the_bare_day_closing_a_date_range_is_a_day_of_the_month():
    # 「10月5日至25日」 (an admissions brochure) and 「3月1日-15日」 (a recruitment notice): the 25 is the
    # 25th of October, not 25 days; a lone 「5日至10日」 stays a count of days.
    from qa.text.figures import figures
    assert [(f.value, f.unit) for f in figures("网上报名时间为2022年10月5日至25日")][-2:] == [(5.0, "号"), (25.0, "号")]
    assert [(f.value, f.unit) for f in figures("报名时间：2024年3月1日-15日")][-1] == (15.0, "号")
    assert [(f.value, f.unit) for f in figures("自受理之日起5日至10日内")] == [(5.0, "日"), (10.0, "日")]


@pytest.mark.parametrize("path, written", [
    # a labour rule's web page and a city's rule on women workers, of different origin
    ("blind-2026-12-07w/关于印发防暑降温措施管理办法的通知（安监总安健〔2012〕89号）_薪酬政策汇编网页.html", "35℃以上"),
    ("blind-2026-12-07v/武汉市女职工劳动保护办法（武汉市人民政府规章，2015年9月1日起施行）_政策采集文本.txt", "35℃以上"),
])
def test_a_figure_written_with_a_symbol_unit_keeps_it(path, written):
    # 「35℃」 is no bare 35 that any unit matches: a 35元 allowance does not stand on it
    from tests.conftest import WILD
    text = (WILD.parent / path).read_text(encoding="utf-8")
    assert written in text
    in_text = [f for f in figures(normalize(text)) if f.value == 35]
    assert in_text and all(f.unit == "摄" for f in in_text)
    assert any(same_figure(fig("35摄氏度"), f) for f in in_text)
    assert not any(same_figure(fig("35元"), f) for f in in_text)


@pytest.mark.parametrize("symbol, written, other", [("100㎡", "100平方米", "100元"), ("20 m³", "20立方米", "20吨"),
                                                   ("60mg/L", "60毫克/升", "60元")])
def test_symbol_units_are_their_written_out_units(symbol, written, other):
    assert same_figure(fig(symbol), fig(written)) and not same_figure(fig(symbol), fig(other))


def test_a_range_of_chinese_numerals_reads_both_ends_with_the_unit():
    assert [(f.value, f.unit) for f in figures(normalize("副主任二至四人和委员七至十一人"))] == \
        [(2, "人"), (4, "人"), (7, "人"), (11, "人")]
    assert [(f.value, f.unit) for f in figures(normalize("任期为三至五年"))] == [(3, "年"), (5, "年")]
    assert [(f.value, f.unit) for f in figures(normalize("第一至第三条"))] == [(3, "条")]   # ordinals, not a range of counts
