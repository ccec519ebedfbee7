"""A citation of a PDF paragraph names its page on the chat page and in the CLI's JSON."""
import re

from qa.schema import Answer, Citation

TEXT = "——经济保持恢复发展。国内生产总值达到114万亿元，增长8.1%。"
PDF_CITATION = Citation(1, "2022年政府工作报告_节选.pdf", "2022年政府工作报告_节选.pdf#7", "一、2021年工作回顾",
                        "2022年政府工作报告（全文）", TEXT, (10, 29), (7, 7), page=2)


def test_page_of_a_pdf_citation_is_shown_and_exported():
    from qa.serve import page_html
    from qa.serve.present import answer_json

    plain = re.sub(r"<[^>]+>", "", page_html.render_citation(PDF_CITATION, 1))
    assert "第2页 · 第 7–7 行" in plain
    txt = Citation(1, "a.txt", "a.txt#7", "一、", "标题", TEXT, (10, 29), (7, 7))
    assert "页" not in re.sub(r"<[^>]+>", "", page_html.render_citation(txt, 1)).replace("（正文）", "")
    out = answer_json(Answer("问题", "答案[1]", False, citations=[PDF_CITATION, txt]))
    assert [c["page"] for c in out["citations"]] == [2, None]
