"""qa/verify/rival.py: the clause the question's words point at, on articles of two regulations."""
from qa.text.figures import figures, find
from qa.text.normalize import normalize
from qa.text.sentences import content_tokens
from qa.verify.rival import clauses, outpointed

# A real-estate registration rule: one deadline per enumerated item.
TIME_LIMITS = ("第十四条 不动产登记机构应当自受理登记申请之日起，按照下列时限要求，办结不动产登记手续，但法律另有规定的除外："
               "（一）查封登记、异议登记当场办结；（二）地役权、抵押权、预告登记的注销登记在一个工作日内办结；"
               "（三）宅基地使用权及房屋所有权登记，土地承包经营权登记，未能提交生效法律文书或者公证文书的继承、受遗赠的"
               "不动产登记，在三十个工作日内办结；（四）其他不动产登记在五个工作日内办结。")
# A medical-insurance regulation: two sentences of one article, each with its fine.
FINES = ("第六十三条 定点医药机构违反本条例第三十二条第二款规定，存在药品、医用耗材等采购或者使用数量与医疗保障基金结算"
         "账目不符，且未发现法律法规规定的其他违法情形的，由医疗保障部门责令改正，并可以约谈有关负责人；拒不改正的，"
         "处一万元以上五万元以下的罚款。定点医药机构违反本条例第三十二条第二款规定，将应当由医疗保障基金支付的费用要求"
         "参保人员负担的，由医疗保障部门责令改正，可以并处警告；情节严重的，处二万元以上五万元以下的罚款。")


def _outpointed(claim: str, question: str, paragraph: str) -> bool:
    q_figs = figures(normalize(question))
    return outpointed([f for f in figures(normalize(claim)) if not find(f, q_figs)], content_tokens(question), paragraph)


def test_an_enumeration_is_cut_into_its_items():
    assert [c[:5] for c in clauses(TIME_LIMITS)] == ["第十四条 ", "(一)查封", "(二)地役", "(三)宅基", "(四)其他"]


def test_the_figure_of_another_item_than_the_one_the_question_names_is_outpointed():
    question = "在上海办抵押权的注销登记，要多长时间办完？"
    assert _outpointed("办抵押权的注销登记要三十个工作日内办完", question, TIME_LIMITS)
    assert not _outpointed("办抵押权的注销登记要一个工作日内办完", question, TIME_LIMITS)


def test_the_fine_of_the_other_sentence_of_an_article_is_outpointed():
    question = "定点医药机构的药品耗材采购数量跟医保基金结算账目对不上，责令改正后拒不改正的，罚款幅度是多少？"
    assert _outpointed("情节严重的，处二万元以上五万元以下的罚款", question, FINES)
    assert not _outpointed("拒不改正的，处一万元以上五万元以下的罚款", question, FINES)


def test_a_question_whose_words_no_clause_holds_more_of_passes():
    # Unsure: the question names nothing that tells the items apart.
    assert not _outpointed("在三十个工作日内办结", "不动产登记最长多久办结？", TIME_LIMITS)
    assert not _outpointed("处二万元以上五万元以下的罚款", "定点医药机构违规最多罚多少？", FINES)
