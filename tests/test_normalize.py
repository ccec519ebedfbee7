"""Normalization shared by indexing, questions and verification; join_figures also for what the model reads."""
import pytest

from qa.text.normalize import join_figures, normalize, tokenize
from tests.conftest import WILD


@pytest.mark.parametrize("path, written, read", [
    # a compliance handbook's PDF text layer and a central-bank report converted to Markdown
    ("blind-2026-12-07p/非银行支付机构业务合规发展自律指引（2023修订版·中支协发〔2023〕139号）.md", "30 个自然日", "30个自然日"),
    ("blind-2026-12-06f/中国区域金融运行报告（2024）_中国人民银行货币政策分析小组.md", "2023 年 2 月 23 日", "2023年2月23日"),
])
def test_figures_are_joined_as_one_reads_them(path, written, read):
    text = (WILD.parent / path).read_text(encoding="utf-8")
    assert written in text and read in join_figures(text) and written not in join_figures(text)
    # spaces between Chinese words stay; only those set around digits go
    assert join_figures("第一章 总则 人均预期寿命达到 7 0 岁，共 526 205 元") == "第一章 总则 人均预期寿命达到70岁，共526205元"


def test_a_standard_code_glued_to_its_number_reads_as_written_apart():
    # PDF text layers glue 「GB/T32918.2」; questions write 「GB/T 32918.2」
    assert normalize("GB/T32918.2—2016") == normalize("GB/T 32918.2—2016") == "gb/t 32918.2—2016"
    assert normalize("GM/T0036-2014") == "gm/t 0036-2014" and normalize("GB2760") == "gb 2760"
    assert "32918.2" in tokenize("本部分由国家密码管理局提出。GB/T32918.2—2016")
    assert normalize("SM2") == "sm2" and normalize("ABGB/T") == "abgb/t"
