"""Ruled PDF tables (qa/ingest/pdf_tables.py, placed by qa/ingest/load_pdf.py) on real PDFs of four
origins: a city's debt tables (Hubei), a district's final accounts (Shanghai), a city's information-
disclosure report (Jiangsu, the national template), a company handbook; and two PDFs whose text is
framed by ruling lines (a university's rules, a provincial notice) where nothing may change."""
from functools import lru_cache
from pathlib import Path

import pytest

from qa.eval.metrics import contains_quote
from qa.ingest.load import load_file
from qa.ingest.load_common import table_rows
from qa.ingest.pdf_tables import title_of, unit_of

CORPORA = Path(__file__).resolve().parents[1] / "corpora"
DEBT = CORPORA / "blind-2026-12-07t" / "宜昌市2024年政府债务情况公开表格（一般债务、专项债务限额余额及债券发行还本付息表）.pdf"
ACCOUNTS = CORPORA / "blind-2026-12-07n" / "上海市普陀区财政局2024年度部门决算.pdf"
DISCLOSURE = CORPORA / "blind-2026-12-06i" / "淮安市人民政府2024年政府信息公开工作年度报告.pdf"
HANDBOOK = CORPORA / "blind-2026-12-06" / "字节跳动员工手册（2019年版）.pdf"
TRAVEL = CORPORA / "blind-2026-12-07t" / "西南大学国内差旅费管理办法（西校〔2022〕74号，2022年4月14日印发）.pdf"
SUBSIDY = CORPORA / "blind-2026-12-07o" / "海南省农业农村厅海南省财政厅关于印发2024-2026年海南省农机购置与应用补贴实施方案的通知.pdf"


@lru_cache(maxsize=None)
def rows(path: Path) -> list[tuple[int, str]]:
    return [(b.page, b.text) for b in load_file(path).blocks if b.table]


def test_a_debt_table_row_carries_its_title_and_the_unit_of_its_unit_line():
    assert (2, "【2024年全市政府一般债务分地区限额余额表】地区：宜昌市级；2024年限额：1587938万元；"
               "2024年余额：1499815万元") in rows(DEBT)


def test_a_row_without_a_figure_keeps_its_label_and_no_unit():
    assert (5, "【2024年市级政府专项债务限额余额情况表】项目：五、2024年采取其他方式化解的债务本金") in rows(DEBT)


def test_a_code_column_gets_no_unit_and_side_by_side_tables_stay_in_one_row():
    assert (16, "【一般公共预算财政拨款基本支出决算表】经济分类 科目编码 类：301；科目名称：工资福利支出；"
                "决算数：2,082.85万元；经济分类 科目编码 类：302；科目名称：商品和服务支出；决算数：171.07万元") in rows(ACCOUNTS)


def test_a_three_row_header_names_each_column_and_merged_labels_join():
    assert (4, "三、本年度办理结果 （一）予以公开；申请人情况 自然人：1288；申请人情况 法人或其他组织 商业企业：21；"
               "申请人情况 法人或其他组织 科研机构：0；申请人情况 法人或其他组织 社会公益组织：0；"
               "申请人情况 法人或其他组织 法律服务机构：50；申请人情况 法人或其他组织 其他：3；"
               "申请人情况 总计：1362") in rows(DISCLOSURE)


def test_a_table_going_on_over_the_page_keeps_the_header_of_its_first_part():
    page5 = [text for page, text in rows(DISCLOSURE) if page == 5]
    assert any(t.startswith("（五）不予处理 1.信访举报投诉类申请；申请人情况 自然人：56；") for t in page5)


def test_a_text_table_without_figures_reads_its_first_row_as_the_header():
    assert (22, "工作年限(N/年)：N≥20 年；法定年假：15天；公司福利年假：0天") in rows(HANDBOOK)


@pytest.mark.parametrize("path, page", [(TRAVEL, 3), (SUBSIDY, 2)])
def test_text_framed_by_ruling_lines_is_read_as_paragraphs_not_a_table(path, page):
    assert not [t for p, t in rows(path) if p == page]


def test_framed_text_keeps_its_article_as_one_paragraph():
    texts = [b.text for b in load_file(TRAVEL).blocks if b.page == 3]
    assert "第六条 城市间交通费是指出差人员到常驻地以外地区出差乘坐火车、轮船、飞机、汽车等交通工具所发生的费用。" in texts


def test_the_unit_comes_from_the_line_above_or_the_end_of_the_title_line():
    slots = ((("地区", False), ("余额", False)), (("甲区", False), ("5", False)))
    assert unit_of(["某表", "单位：万元"], slots) == ("万元", slots)
    assert unit_of(["某某情况表 单位：亿元"], slots) == ("亿元", slots)
    assert unit_of(["各区情况如下："], slots) == ("", slots)


def test_a_unit_row_inside_the_table_is_taken_off_the_grid():
    slots = ((("单位：元", False), ("单位：元", True)), (("地区", False), ("余额", False)))
    assert unit_of([], slots) == ("元", slots[1:])


def test_a_title_is_short_centred_or_named_a_table_and_not_a_lead_in():
    assert title_of([("2024年全市新增政府债券分地区明细表", True)]) == "2024年全市新增政府债券分地区明细表"
    assert title_of([("表1 主要指标", False)]) == "表1 主要指标"
    assert title_of([("乘坐交通工具的级别见下表：", True)]) == ""
    assert title_of([("职务人员", False)]) == ""


def test_repeated_figures_in_a_row_are_all_kept_while_a_merged_label_appears_once():
    assert table_rows([["申请数", "0", "0", "0"]], header=False) == ["申请数；0；0；0"]
    assert table_rows([["项目", "项目", "金额"], ["甲", "甲", "5"]]) == ["项目：甲；金额：5"]


def test_a_gold_quote_copied_from_a_printed_table_stands_in_its_rendered_row():
    row = "【2024年全市政府专项债务分地区限额余额表】地区：五峰土家族自治县；2024年限额：180314万元；2024年余额：172238万元"
    assert contains_quote(row, "五峰土家族自治县 180314 172238")
    assert contains_quote("信息内容：行政事业性收费；本年收费金额（单位：万元）：7730.28万元", "行政事业性收费7730.28")
    assert not contains_quote(row, "五峰土家族自治县 172238 180314")


PROSPECTUS = CORPORA / "blind-2026-12-06c" / "安徽省铁路发展基金2025年可续期公司债券募集说明书.pdf"
DRUGS = CORPORA / "blind-2026-12-07o" / "国家基本医疗保险、生育保险和工伤保险药品目录（2025年）.pdf"


def test_a_glossary_whose_first_row_repeats_a_columns_value_has_no_header_row():
    # a bond prospectus's definitions: term ｜ 指 ｜ meaning, the first row a term like the others
    assert (16, "控股股东、省投资集团；指；安徽省投资集团控股有限公司") in rows(PROSPECTUS)


def test_a_row_holding_a_bare_value_is_no_header():
    # the national drug list: 「乙 ｜ ★(1218) ｜ 多奈哌齐 ｜ 口腔崩解片」 is an entry, not the names of the columns
    assert not any("★(1218)：" in text or "乙：甲" in text for _, text in rows(DRUGS))
