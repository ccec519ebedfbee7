"""Metadata rules of qa/ingest/header.py on real documents: what a 公文 prints around its text."""
import pytest

from qa.ingest.load import load_file
from qa.ingest.sections import build_document
from tests.conftest import WILD


@pytest.mark.parametrize("path, issuer, date, issued", [
    # a ministry notice saved from a web page (the 办法 under an h2 heading) and a provincial notice saved
    # as plain text (the plan's title as a plain line): issuers and date sit between the notice and it
    ("blind-2026-12-07w/关于印发防暑降温措施管理办法的通知（安监总安健〔2012〕89号）_薪酬政策汇编网页.html",
     "国家安全生产监督管理总局 卫生部 人力资源和社会保障部 中华全国总工会", "二〇一二年六月二十九日", "第一条"),
    ("blind-2026-12-06i/安徽省工业互联网创新发展行动计划（2021-2023年）及支持工业互联网发展若干政策（皖政办秘〔2021〕82号）.txt",
     "安徽省人民政府办公厅", "2021年9月2日", "安徽省工业互联网创新发展行动计划"),
])
def test_a_cover_notices_signature_before_the_issued_document_is_metadata(path, issuer, date, issued):
    doc = build_document(load_file(WILD.parent / path))
    assert doc.meta["发文机关署名"] == issuer and doc.meta["成文日期"] == date
    body = [p.text for p in doc.paragraphs if p.kind != "meta"]
    assert issuer not in body and date not in body
    assert any(issued in t or issued in " ".join(p.section) for p in doc.paragraphs for t in [p.text])


def test_a_signature_inside_a_long_documents_parts_is_not_the_documents():
    # a customs tender quotes a ministry notice (issuers and date) deep inside its own sections
    path = "blind-2026-12-07t/2026年黄浦海关辅助服务采购项目招标文件（PCMET-2611YG0122，上海浦成机电设备招标有限公司2026年3月）.docx"
    doc = build_document(load_file(WILD.parent / path))
    assert "发文机关署名" not in doc.meta and "成文日期" not in doc.meta
