"""Section paths, ids and line ranges on the real seeds."""
import pytest
from qa.ingest.load import RawDocument
from qa.ingest.sections import build_document
from tests.conftest import para_with

D000, D001, D002, D003, D004 = (
    "000_2fea3bba8e0420ec.txt", "001_123d84c7bbc14b5a.txt", "002_2d655d4704b4aa68.txt",
    "003_523b3058465032b4.txt", "004_467eccf48051f7c2.txt",
)


def test_subsidy_paragraph_path(seed_docs):
    p = next(p for p in seed_docs[D000].paragraphs if "每人每天100元" in p.text)  # first of two
    assert p.section_path == "二、典型做法和经验 > (三)坚持抓帮扶队伍建设,着力集聚脱贫攻坚的骨干力量"
    assert p.id == f"{D000}#6" and p.lines == (18, 18) and p.title == "打赢打好脱贫攻坚战组织保障调研报告"
    # the inline enumeration stays inside its paragraph
    assert p.text.startswith("一是选优用好第一书记。") and "二是锻造党员先锋" in p.text


def test_glued_heading_becomes_a_section(seed_docs):
    p = para_with(seed_docs[D000], "一是围绕产业健全组织")
    assert p.section == ("二、典型做法和经验", "(四)坚持抓村级组织建设,着力夯实脱贫攻坚的组织基础和经济基础")
    assert p.text.startswith("一是围绕产业健全组织。陇南市")
    p = para_with(seed_docs[D000], "分批分类加大对帮扶干部、村干部的培训")
    assert p.section_path == "四、对策建议 > (二)进一步加大各级党员干部的培训力度"
    p = para_with(seed_docs[D000], "解决同工不同酬的问题")
    assert p.section_path == "四、对策建议 > (一)进一步加大基层干部选任、激励力度,适当提高待遇水平"


def test_ordinal_headings_in_speech(seed_docs):
    d = seed_docs[D001]
    assert para_with(d, "以习近平同志为核心的党中央把脱贫攻坚").section_path == (
        "一、为什么要大力推进抓党建促脱贫攻坚工作 > 首先,从党中央的决心和要求上看")
    assert para_with(d, "中组部2016年5月在宁夏召开专题会议").section[-1] == "其次,从中央组织部的工作部署看"
    # "总之" closes the 首先/其次/第三 run
    assert para_with(d, "总之,大家一定要深入学习领会").section == ("一、为什么要大力推进抓党建促脱贫攻坚工作",)
    assert para_with(d, "一是要择优选派驻村干部").section == (
        "二、抓党建促脱贫攻坚工作的重点任务是什么", "第四,要认真做好驻村帮扶工作")
    assert para_with(d, "第一,层层压紧压实责任").section_path == (
        "三、怎样确保抓党建促脱贫攻坚各项任务落到实处 > 第一,层层压紧压实责任")
    assert d.paragraphs[1].text == "同志们:" and d.paragraphs[1].section == ()


def test_numbered_headings_in_traditional_document(seed_docs):
    d = seed_docs[D002]
    assert para_with(d, "到全旗196個嘎查村任“第一書記”").section == ("一、主要做法及成效", "2.抓駐村第一書記隊伍建設")
    assert para_with(d, "一是積極發展股份合作制經濟").section == ("三、對策與建議", "3.發展壯大嘎查村集體經濟")


def test_standalone_title_lines(seed_docs):
    assert para_with(seed_docs[D003], "以最严标准保持主官稳定").section == ("创新“关键少数”任用机制——有为有位 无为让位",)
    assert para_with(seed_docs[D003], "有49家单位获评").section == ("编者按",)
    assert para_with(seed_docs[D004], "乌蒙扶贫先锋行动").section == ("同心同向,党员群众拧成一股绳",)
    # a one-line question ending in "?" is a paragraph, not a heading
    p = para_with(seed_docs[D004], "如何确保其在工作中沉得下去")
    assert p.section == ("第一书记,能打硬仗敢啃“硬骨头”",)


def test_ids_are_sequential_and_lines_monotonic(seed_docs):
    for d in seed_docs.values():
        assert [p.index for p in d.paragraphs] == list(range(len(d.paragraphs)))
        assert all(p.id == f"{d.name}#{p.index}" for p in d.paragraphs)
        body = [p.lines for p in d.paragraphs if p.kind == "body"]
        assert body == sorted(body)


def test_fullwidth_markers_and_levels():
    text = "关于某项工作的通知\n\n一、总体要求\n（一）指导思想\n坚持以人民为中心，推动高质量发展。\n1.基本原则\n坚持问题导向。\n二、保障措施\n加强组织领导。"
    doc = build_document(RawDocument("n.txt", None, text, "x", "utf-8"))
    assert doc.title == "关于某项工作的通知"
    assert [(p.text, p.section_path) for p in doc.paragraphs if p.kind == "body"] == [
        ("坚持以人民为中心，推动高质量发展。", "一、总体要求 > （一）指导思想"),
        ("坚持问题导向。", "一、总体要求 > （一）指导思想 > 1.基本原则"),
        ("加强组织领导。", "二、保障措施"),
    ]


def test_document_without_structure_or_title():
    # no title line: the file name, never the first clause of the body
    doc = build_document(RawDocument("无题.txt", None, "这是一段没有标题的文字。第二句话。", "x", "utf-8"))
    assert [p.section for p in doc.paragraphs] == [()]
    assert doc.title == "无题"


def test_a_numbered_sentence_of_several_clauses_is_a_paragraph_not_a_heading():
    # A company handbook (PDF) and a national clinical guideline (PDF): a numbered rule that is one
    # sentence of several clauses is text to cite; the numbered names around it stay headings.
    from qa.ingest.load import load_file
    from tests.conftest import BLIND, wild_doc
    handbook = build_document(load_file(BLIND / "字节跳动员工手册（2019年版）.pdf"))
    leave = para_with(handbook, "男员工可享受陪产假15天")
    assert leave.text == "（2）配偶按规定生育的，男员工可享受陪产假15天。"
    # the next items belong to the list's section, not to the rule before them
    assert para_with(handbook, "怀孕未满4个月流产").section_path == leave.section_path
    assert leave.section_path.startswith("第四章 考勤制度 > 1. 产假、陪产假、产前检查假的期限")
    assert "陪产假15天" not in leave.section_path
    guideline = wild_doc("新型冠状病毒肺炎诊疗方案（试行第九版）.pdf")
    severe = para_with(guideline, "临床症状进行性加重，肺部影像学显示")
    assert severe.text.startswith("4．临床症状进行性加重，")
    assert any(p.section[-1:] == ("（一）传染源",) for p in guideline.paragraphs)


def test_an_article_line_broken_mid_sentence_is_joined_and_a_new_clause_stays_on_its_own_line():
    """Two documents of different origin: a ministry catalogue's PDF whose lines the loader could
    not join (its right margin is set by a wide table) and a law in Markdown with a line broken
    mid-word. Inside an article, the rest of a broken sentence joins it; a new 款 or 项 keeps its line."""
    from pathlib import Path

    from qa.ingest.load import load_file

    corpora = Path(__file__).resolve().parents[1] / "corpora"
    doc = build_document(load_file(corpora / "blind-2026-12-06k" / "国家危险废物名录（2021年版）.pdf"))
    art = {p.text[:3]: p.text for p in doc.paragraphs if p.text.startswith("第")}
    assert "原环境保护部、国家发展和改革委员会、公安部发布的《国家危险废物名录》（环境保护部令第39号）同时废止。" in art["第八条"]
    assert art["第四条"] == ("第四条 危险废物与其他物质混合后的固体废物，以及危险废物利用处置后的固体废物的属性判定，"
                          "按照国家规定的危险废物鉴别标准执行。")
    law = build_document(load_file(corpora / "wild" / "中华人民共和国劳动法（2018修正）.md"))
    art = {p.text.split(" ")[0]: p.text for p in law.paragraphs if p.text.startswith("第")}
    assert "合理确定其劳动定额和计件报酬标准。" in art["第三十七条"]
    assert "工资报酬：\n（一）安排劳动者延长工作时间的，支付不低于工资的百分之一百五十的工资报酬；\n（二）" in art["第四十四条"]


@pytest.mark.parametrize("path, start, section", [
    # Taiwan's law database captured as .md: 「第 1 條」 on a line of its own, the text below it
    ("blind-2026-12-07x/香港澳門關係條例（臺灣全國法規資料庫網頁抓取，繁體）.md",
     "第 1 條 為規範及促進與香港及澳門之經貿", ("第1条",)),
    # a ministry's model contract (.docx): 「第一條 計畫內容」, its clauses below
    ("blind-2026-12-07q/海洋委員會補助海洋科技專案計畫契約書（115年學研版範本）.docx",
     "第一條 計畫內容\n一、", ("附件九、海洋委員會補助科技專案計畫契約書", "第一条")),
    # a national law on a reading site (.html): 「第一条」 alone, its text on the next line
    ("blind-2026-12-06m/中华人民共和国种子法（2015年修订）_读法网页版.html",
     "第一条 为了保护和合理利用种质资源", ("目录", "第一章 总则", "第一条")),
])
def test_an_article_in_traditional_characters_or_labelled_on_its_own_line_holds_its_text(path, start, section):
    from pathlib import Path
    from qa.ingest.load import load_file
    doc = build_document(load_file(Path(__file__).resolve().parents[1] / "corpora" / path))
    para = next(p for p in doc.paragraphs if p.text.startswith(start))
    assert para.section == section


def test_a_spaced_article_number_inside_a_wrapped_sentence_starts_no_article():
    from qa.ingest.lines import LAW_ARTICLE
    assert LAW_ARTICLE.match("第 1 條").group("n") == "1" and LAW_ARTICLE.match("第78条以及").group("n") == "78"
    assert LAW_ARTICLE.match("第 78 条以及《中华人民共和国涉外经济合同法》第十八条的规定") is None


@pytest.mark.parametrize("path, last_article", [
    # a community covenant (Taiwan, PDF): the rules it annexes after its last article
    ("blind-2026-12-07y/椰城社區規約及管理辦法（新竹市椰城社區，113年5月10日修訂）_PDF.pdf", "第二十三條本規約修訂立於民國112年11月16日。"),
    # a ministry's regulation (a policy site's page): the 附件 after its last article
    ("blind-2026-12-07w/最低工资规定（劳动和社会保障部令第21号，2004年1月20日）_薪酬政策汇编网页.html",
     "第十五条 本规定自2004年3月1日起实施。1993年11月24日原劳动部发布的《企业最低工资规定》同时废止。"),
])
def test_an_annex_after_the_last_article_is_not_part_of_it(path, last_article):
    from pathlib import Path
    from qa.ingest.load import load_file
    doc = build_document(load_file(Path(__file__).resolve().parents[1] / "corpora" / path))
    assert last_article in [p.text for p in doc.paragraphs]
