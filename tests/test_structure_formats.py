"""Every .docx, .pdf and .html file of corpora/wild through the whole pipeline (loader → clean →
sections): its exact title, two exact section paths, its 公文 metadata, and the share of its text kept.
The .txt/.md files are covered the same way in tests/test_structure_wild.py."""

import pytest

from qa.ingest.load import load_file
from qa.ingest.sections import build_document

from tests.conftest import WILD

CASES = {  # file: (title, two section paths, metadata keys that must be present)
    "2024年北京市政府工作报告.pdf": (
        "2024年北京市政府工作报告",
        ["二、2024年重点任务", "二、2024年重点任务 > （一）持续提升首都功能，推动京津冀协同发展取得新的更大进展"], set()),
    "中共中央办公厅国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》.docx": (
        "中共中央办公厅 国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》",
        ["一、总体要求和基本原则 > （二）基本原则", "二、支持做好专项债券项目融资工作 > （一）合理明确金融支持专项债券项目标准"],
        {"发文字号"}),
    "中华人民共和国监察法_高校纪检网站转载页.html": (
        "中华人民共和国监察法", ["第一章 总 则 > 第二条", "第一章 总 则 > 第三条"], set()),
    "原发性肝癌诊疗指南（2024年版）.pdf": (
        "原发性肝癌诊疗指南（2024年版）",
        ["二、筛查和诊断 > （一）肝癌高危人群的筛查与监测", "二、筛查和诊断 > （二）肝癌的影像学检查"], set()),
    "国务院关于加强地方政府性债务管理的意见（国发〔2014〕43号）.docx": (
        "国务院关于加强地方政府性债务管理的意见",
        ["一、总体要求 > （二）基本原则", "二、加快建立规范的地方政府举债融资机制 > （一）赋予地方政府依法适度举债权限"],
        {"发文字号", "主送机关", "成文日期", "发文机关署名"}),
    "国务院关于深入实施人工智能+行动的意见（国发〔2025〕11号）_网页打印版.pdf": (
        "国务院关于深入实施“人工智能+”行动的意见",
        ["二、加快实施重点行动 > （一）“人工智能+”科学技术 > 1.加速科学发现进程",
         "二、加快实施重点行动 > （一）“人工智能+”科学技术 > 2.驱动技术研发模式创新和效能提升"],
        {"发文字号", "主送机关", "成文日期", "发文机关署名"}),
    "新型冠状病毒肺炎诊疗方案（试行第九版）.pdf": (
        "新型冠状病毒肺炎诊疗方案（试行第九版）", ["二、流行病学特点 > （一）传染源", "二、流行病学特点 > （二）传播途径"], set()),
    "核电厂定期安全审查指南_第1部分_通用要求（NB-T征求意见稿）.docx": (
        "核电厂定期安全评价 第1部分：通用要求", ["引 言", "引 言 > 1 范围"], set()),
    # A one-paragraph 决议 and a one-table notice: no sections to find.
    "国务院公报2007年第23号_全国人大常委会关于批准发行特别国债的决议_中国政府网.html": (
        "全国人民代表大会常务委员会关于批准财政部发行特别国债购买外汇及调整2007年末国债余额限额的决议", [], set()),
    "国家金融监督管理总局浙江监管局行政处罚信息公开表（浙金罚决字〔2024〕52号）_nfra.html": (
        "国家金融监督管理总局浙江监管局行政处罚信息公开表", [], {"发文字号"}),
}


@pytest.mark.parametrize("name", CASES)
def test_title_sections_metadata_and_kept_share(name):
    doc = build_document(load_file(WILD / name))
    title, sections, meta = CASES[name]
    assert doc.title == title
    paths = {p.section_path for p in doc.paragraphs if p.kind == "body"}
    assert all(s in paths for s in sections), sorted(paths)[:5]
    assert meta <= set(doc.meta)
    assert any(p.kind == "body" for p in doc.paragraphs)
    # What the loader hands on is kept; the nfra page's dropped lines are its repeated page-info bar.
    assert doc.report.share >= (0.9 if "nfra" in name else 0.95), doc.report.dropped


def test_every_wild_file_is_covered_by_a_structure_test():
    from test_structure_wild import EXPECTED  # noqa: PLC0415
    assert {p.name for p in WILD.iterdir()} == set(CASES) | set(EXPECTED)
