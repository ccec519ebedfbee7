"""Stage 8: turn the model's [n] markers into verified paragraph citations.

Every sentence (claim) of an answer is checked against the paragraphs behind the passages:
a paragraph supports a claim when the claim's numbers and names occur together in one
sentence window of it and at least SUPPORT_OVERLAP of the claim's content words are there. A marker pointing to a non-supporting passage is
repaired to the best supporting one; a claim no passage supports loses its markers and is
marked unsupported; a claim with a number found in no passage is removed from the answer,
so no unverified figure is ever presented as a cited fact. Everything changed is recorded.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

import jieba.posseg

from qa.text.guard import instruction_spans
from qa.verify.claims import MARKER, SENT_END, REFUSAL, parse_claims
from qa.verify.dated import date_events, dated_elsewhere, law_events, other_law_event
from qa.verify.polarity import denied, negates_asked
from qa.verify.frame import DocText, entities, in_year, of_named_law, of_named_year
from qa.verify.respective import misassigned
from qa.verify.rival import outpointed
from qa.text.normalize import normalize, tokenize
from qa.schema import Citation, Claim, Paragraph, Passage
from qa.ingest.sections import unnumbered
from qa.text.figures import Figure, answers_unit, asked_change, asked_unit, dates, figures, find, misdated, states_change
from qa.text.sentences import (
    AMOUNT_WORDS, COUNTERS, INTERROGATIVE, content_tokens, contrasted, counted_noun, entity_found, lone_runs, numbers,
    SUPPORT_OVERLAP, answer_kinds, best_sentence, polar_question, restates_question, sentence_spans, unglued, words_apart,
)

# An answer none of whose sentences a passage was found to support, shown instead of a refusal
# when the check "unsupported" is off: the model's own markers, and this note for the reader.
UNVERIFIED_NOTE = "（以上回答未能在资料中逐句核实，请点开引用核对原文。）"
# Words that say how much, not of what ("总量约4.4万亿元" answering "…生产总值…？总量大概多少？").
QUANTITY_WORDS = AMOUNT_WORDS | {"多少"}
# 几 before a measure asks a quantity as 多少 does ("几天", "几届", "几分钟"); not "几乎", nor 哪几 (which ones).
_COUNT_ASK = re.compile(r"(?<!哪)几(?!乎)")
# A writing of a quantity beyond what figures() reads: 「三分之二」, 「两届」, 「半数」 (not 「一方」, 「统一」).
_QUANTITY = re.compile(r"\d|分之|半|[零〇一二两三四五六七八九十百千万亿]{2,}|[一二两三四五六七八九十]个?[届种类款周轮级档]")
# A term the claim quotes ("“撤、换、派、育”", 「一懂两爱」): what a claim adds when its words are one
# character each or all given by the question.
_QUOTED = re.compile(r"[“「『]([^”」』]{1,30})[”」』]")
_COLLOQUIAL_NEGATION = frozenset({"没有"})
# An obligation a model spells out (「应当在七个工作日内决定」) where the text states it by its form
# (「自收到…之日起七个工作日内确定」): no content of its own.
_OBLIGATION = frozenset({"应当", "应该", "必须"})
# The one-word answer to a yes/no question (「不可以。」 to 「可以…申请吗？」): an answer, not filler, though
# 可以 is a word of sentences about the sources.
_BARE_POLARITY = re.compile(r"(?:(?:不|不是|没有|未)?(?:可以|能|能够|行|是|会|需要|允许|应当|必须)|否|不|不得|无需|无须|不必|不用)[。！!]?")
# Words of sentences that talk about the sources instead of answering ("根据资料[1]可以找到这一信息").
FILLER = frozenset("资料 信息 文档 内容 提供 找到 可以 根据 以上 上述 回答 问题 相关 显示 来源 参考 所述 得知 给出 提到 编号 这一 这个 这些 以下 如下 具体 查到 看到".split())


def _share_found(toks: set[str], found: set[str], text: str) -> float:
    """Length-weighted share of toks found as words or, when jieba glued a character onto a word
    ("王正谱作"), as the word without that character."""
    def hit(t: str) -> bool:
        return (t in found or t in text or (len(t) >= 3 and (t[:-1] in text or t[1:] in text))
                or ((u := unglued(t)) != t and u in text))
    return sum(len(t) for t in toks if hit(t)) / sum(len(t) for t in toks) if toks else 0.0


# What bounds a figure right after it: 「60日内」, 「三年后」, 「5日前」, 「十万元以上」, 「2020年起」.
_BOUND = re.compile(r"以[内前后上下]|[内前后起止]")


def _bound_length(text: str, end: int) -> int:
    m = _BOUND.match(text, end)
    return m.end() - end if m else 0


_CLASSIFIERS = "个名人位户家所项期批次条座处"
_PUNCT = "，,。；;、：:（()）“”\"'！？!? "
_PHRASE_END = re.compile(f"[{re.escape(_PUNCT)}]")   # where the phrase after a figure ends




def _counts_same_thing(claim: str, fig: Figure, window: str, occ: list[Figure], worded: str = "") -> bool:
    """A figure that counts something ("52期培训班", "80多名乡镇党委书记") counts the same thing in
    the window: the counted noun, known by its first or last word, stands near one occurrence.
    worded: a machine-translated question, whose phrase the claim may copy after its figure."""
    if not fig.unit or fig.unit not in _CLASSIFIERS:
        return True
    rest = _PHRASE_END.split(claim[fig.end:])[0]
    if rest and rest in worded:
        return True
    tagged = list(jieba.posseg.cut(rest))
    if tagged and tagged[0].flag.startswith(("n", "j")):
        # A noun phrase ends at the verb after it: 「7所干部学校|开展培训」 counts 干部学校. One that
        # opens with a verb is left whole: the verb may modify (「52期扶贫干部培训班」) or be the
        # predicate of the figure itself (「组织一处获得了…」).
        end = next((i for i, w in enumerate(tagged) if w.flag.startswith(("v", "p")) and w.flag != "vn"), len(tagged))
        words = [w.word for w in tagged[:end] if len(w.word) >= 2]
    else:
        words = [t for t in tokenize(rest, search=False) if len(t) >= 2] if rest else []
    if not words:
        return True
    nouns = {words[0], words[-1]}
    return any(n in window[max(0, o.start - 25):o.end + 25] and _counts_here(nouns, window, o) for n in nouns for o in occ)


def _counts_here(nouns: set[str], text: str, o: Figure) -> bool:
    """Whether the occurrence o of a figure in text counts one of nouns, not the noun written right
    after it: in 「共有195个乡镇、4个街道办事处、3167个行政村」 the 195 counts 乡镇, not 行政村. A figure
    written after its noun ("行政村3167个") or before a verb is judged by the words near it."""
    after = _PHRASE_END.split(text[o.end:])[0]
    if any(n in after for n in nouns):
        return True
    head = next(iter(jieba.posseg.cut(after[:8])), None) if after else None
    if head is None or not head.flag.startswith(("n", "j")) or len(head.word) < 2:
        return True
    # its clause before it, across a list's 、 (「选派农业、金融、科技等领域110名专业干部」)
    before = re.split(r"[，,。；;：:！？!?]", text[:o.start])[-1]
    return any(n in before for n in nouns)


def support(claim: str, para: Paragraph, question: str = "", doc: DocText | None = None,
            translated: bool = False, off: frozenset[str] = frozenset()) -> float:
    """How well a paragraph supports a claim, 0 when it does not.

    Framing — figures, names and words the question, the document title, its metadata or the
    paragraph's section path already give — is not a claim to prove; but a figure or name taken from
    the question must belong to the paragraph's scope (the paragraph, its section path, its document's
    title or metadata; for a place, also a place the document keeps naming). What the claim adds must
    stand in one sentence of the paragraph (with the sentence before it for its subject): its new
    figures (same value and unit, however written), its new names, and at least half of its other
    content words (SUPPORT_OVERLAP). The score is that share of words, 0 when a condition fails.
    translated: the question is a machine translation of the user's (English) one. What its words
    ask for — a unit, a counted noun, a qualifier, and the claim's phrase after a figure when copied
    from it — is then the translator's choice ("How many … classes" → 「多少个…课程」), not the user's,
    and is not checked.
    off: names of checks switched off (qa/verify/checks.py)."""
    text = para.text
    norm_text = normalize(text)
    spans = sentence_spans(text, full=True) or [(0, len(text))]
    # Names that scope the whole passage: title, section path, metadata, and the name a paragraph
    # opens with ("定西市下辖…。…全市贫困发生率…" is about 定西市 throughout).
    lead = [e for e in entities(text[:12]) if norm_text.startswith(e)]
    context = normalize(" ".join((para.title, *map(unnumbered, para.section), *lead, doc.head if doc is not None else "")))
    ctx_figs = figures(context)
    q_names, q_toks, q_figs = entities(question), content_tokens(question), figures(normalize(question))
    norm_claim = normalize(claim)
    claim_figs = figures(norm_claim)
    claim_names = entities(claim)
    # A place or person of the question must be what the paragraph or its document is about: a 白银市
    # question is not answered by a 定西市 report; the answer is bound to the question's place even
    # when the claim leaves it out ("贫困发生率为9.12%" answering a 徽县 question).
    if doc is not None and "place" not in off:
        framing = (q_names & claim_names) or (entities(question, ("ns",)) if not claim_names else set())
        if any(not entity_found(e, norm_text) and not doc.is_about(e) for e in framing):
            return 0.0
    if "law" not in off and not of_named_law(question, para, doc, norm_text):
        return 0.0
    if "year" not in off and not in_year(question, para, doc):
        return 0.0
    if "calendar" not in off and not of_named_year(question, para, doc):
        return 0.0
    if "scope" not in off and not in_scope(norm_claim, para, q_figs, doc.head if doc is not None else ""):
        return 0.0
    new_figs = [f for f in claim_figs if not find(f, ctx_figs) and not find(f, q_figs)]
    # A figure of one clause does not answer what the question asks of another clause of the paragraph.
    if new_figs and "rival" not in off and outpointed(new_figs, q_toks, text):
        return 0.0
    # A question asking its figure in a unit ("多少个基地", "几个月") is not answered by figures in
    # another ("1批", "3328元").
    asked = None if translated or "unit" in off else asked_unit(normalize(question))
    if asked and new_figs and not any(answers_unit(f.unit, asked) for f in new_figs):
        return 0.0
    names = {e for e in claim_names if e not in q_names or entity_found(e, norm_text)}
    # What the claim tells that the question does not, apart from words: a figure or a number
    # ("第十六条", "第711号", a date the metadata gives).
    fresh = (any(not find(f, q_figs) for f in claim_figs)
             or bool(set(numbers(norm_claim)) - set(numbers(question))))
    about = {e for e in names & q_names if doc is not None and doc.frames(e)}
    # Words apart from the figures, which are checked above however they are written, with the
    # postposition that bounds a figure (「三个月内」, 「3年后」, 「十万元以上」): a word of its own in none.
    claim_toks = words_apart(norm_claim, [(f.start, f.end + _bound_length(norm_claim, f.end)) for f in claim_figs])
    # A word the question gives is framing also when jieba cut it out of a longer word there
    # ("北京市" of "北京市政府").
    q_text = normalize(question)
    # 「没有」 is how a model says the text's 未/未能/不: polarity, which the polarity check judges, not content;
    # so is the 「不会」/「不能」 of the answer to a yes-or-no question (「民航总局不会组织鉴定」 for 「不组织鉴定」).
    polar = polar_question(question)
    toks = {t for t in claim_toks - q_toks - _COLLOQUIAL_NEGATION - _OBLIGATION
            if t not in q_text and unglued(t) not in q_text and not (polar and len(claim_toks) > 1 and _BARE_POLARITY.fullmatch(t))}
    quoted = {t for t in _QUOTED.findall(norm_claim) if t not in q_text}
    # What a question for a quantity asks about, in the claim's words: the figure must stand in a
    # sentence that names some of it ("人均可支配收入是114万亿元" is not supported by
    # "国内生产总值达到114万亿元").
    measure = (claim_toks & q_toks - QUANTITY_WORDS if "measure" not in off
               and ("number" in answer_kinds(question) or _COUNT_ASK.search(q_text)) else set())
    if measure:
        # jieba glues a one-character noun to its measure word (「多少辆车」 → 辆车): the noun is what is measured.
        measure |= {t[1:] for t in q_toks if len(t) == 2 and t[0] in COUNTERS and t[1:] in norm_claim}
    counted = None if translated or "counted" in off else counted_noun(question)
    change = None if "change" in off else asked_change(q_text)
    worded = q_text if translated else ""   # what the claim may copy from the translation unchecked
    places = entities(claim, ("ns",))
    q_dates, ctx_dates = dates(q_text), dates(context)
    stated_dates = [] if "date" in off else [d for d in dates(norm_claim) if d not in q_dates]   # also those the metadata frames
    claim_dates = [d for d in stated_dates if d not in ctx_dates]
    # What the dated event is: the claim's words from the question, ordinals kept (「第一次修正」), not
    # the document's own name (a 沿革 names its law in each amendment).
    event = content_tokens(norm_claim) & q_toks - content_tokens(normalize(para.title))
    asked_event = law_events(q_text) if stated_dates else set()
    best = 0.0
    told = instruction_spans(text)   # a sentence telling the reader what to answer is no evidence
    for i in range(len(spans)):
        if any(a < spans[i][1] and spans[i][0] < b for a, b in told):
            continue
        window = normalize(text[spans[max(0, i - 1)][0]:spans[i][1]])
        # The sentence before lends its subject ("定西市…。全市404个村…"), not its figures: a figure
        # of one sentence is not the figure of a place the next sentence names.
        main = normalize(text[spans[i][0]:spans[i][1]])
        main_figs = figures(main)
        if "figure" not in off and not all(
                (occ := find(f, main_figs)) and ("counts" in off or _counts_same_thing(norm_claim, f, main, occ, worded))
                for f in new_figs):
            continue
        if misdated(claim_dates, main):
            continue
        # ...and, where the sentence gives its figures 「分别」, the one of the item the question names.
        if new_figs and "respective" not in off and misassigned(claim, question, main):
            continue
        # A date the paragraph writes is judged among the paragraph's dated events; one the metadata
        # frames, among the metadata's.
        if stated_dates:
            record = date_events(norm_text if all(d in dates(main) for d in stated_dates) else context)
            if dated_elsewhere(stated_dates, record, event) or other_law_event(stated_dates, record, asked_event):
                continue
        if new_figs and measure and not _share_found(measure, content_tokens(window), window):
            continue
        # ...and, for a question asking a change (「减少了多少」), states a change that way, not a level.
        if new_figs and change and not states_change(window, change):
            continue
        # ...and measures the kind of thing the question asks for: not 「专项债券」 for 「一般债券」.
        if new_figs and not translated and "contrast" not in off and contrasted(question, main, window + context):
            continue
        # A question that counts something ("多少个贫困村") is answered by a figure counting it.
        if counted and new_figs and not any(counted in main[max(0, o.start - 25):o.end + 25]
                                            for f in new_figs for o in find(f, main_figs)):
            continue
        # Likewise a place named only in the sentence before does not claim a sentence that names
        # its own place ("陇南市…。定西市…12名乡镇党委书记…" gives 定西市 the 12).
        own = main if places & names and entities(main, ("ns",)) else window
        # A name of the question that frames the document (the country of a national report, the
        # city of a city's) frames the claim too; it need not be repeated unless the sentence names
        # a place the claim does not.
        rivals = entities(main, ("ns",)) - claim_names
        if "names" not in off and any(not (entity_found(e, own if e in places else window) or entity_found(e, context)
                                           or (e in about and not rivals)) for e in names):
            continue
        # A claim that adds nothing to the question (no word, no figure) answers it only when the
        # question asks yes or no, or which of two it names.
        if not toks and quoted:
            toks = quoted
        # ...or when all it adds is a name jieba has no word for (「副总指挥是贺从胜」): that name is its word.
        if not toks and not fresh and not polar:
            toks = {r for r in lone_runs(norm_claim, [(f.start, f.end) for f in claim_figs]) if r not in q_text}
        if not toks:
            return 1.0 if fresh or polar_question(question) else 0.0
        if "words" in off:
            return 1.0
        best = max(best, _share_found(toks, content_tokens(window) | content_tokens(context), window + context))
    return best


# An ordinal label (第七条, 第三款, 第二次) names a place in a text or a series, not an amount: an
# answer that only cites an article has not answered 「最高罚款多少」.
_ORDINAL = re.compile(r"第\s*[\d零〇一二两三四五六七八九十百千]+\s*(?:条|款|项|章|节|编|部分|次|届|号|批|期|版|目)")


def states_quantity(text: str) -> bool:
    text = _ORDINAL.sub(" ", text)
    return bool(figures(normalize(text))) or bool(_QUANTITY.search(text))


def asks_one_quantity(question: str) -> bool:
    """Whether a question asks one thing, and that a quantity ("多少天内申请", "几个工作日")."""
    q = normalize(question)
    return "number" in answer_kinds(q) and len(INTERROGATIVE.findall(q)) == 1 and not polar_question(q)


# Clauses of a record: 「；」, a line, or a field label after a space (「… 施行日期：…」 once fields are joined).
# A year the question sets as a deadline or a point in time ("到2025年", "截至2021年底"), not as the
# name of a document ("2018年一号文件"): plans and opinions set several such targets side by side.
# The end of a range ("2018年至2022年", "2013到2017年") is a period, not a deadline.
_DEADLINE = re.compile(r"(?:(?<!\d年)(?<!\d)(?:到|至)|截至|截止到?)\s*$")


def _scoping(f: Figure, text: str) -> bool:
    """A figure that places a claim: a calendar year (not a span, "三年", nor an ordinal, "第一年",
    counted from a start the claim does not give), an article ("第五十七条"), any other figure in
    digits; not a word that holds a numeral ("最近一次", "一次性")."""
    if f.unit == "年":
        return f.value >= 1000
    return any(c.isdigit() for c in f.text) or f.unit in "条款章"


def in_scope(claim: str, para: Paragraph, q_figs: list[Figure], meta: str = "") -> bool:
    """Whether the figures a claim takes from the question (its year, 第五十七条) belong to the
    paragraph: they stand in its text, its title, its section path or, for a figure that names the
    document ("2018年一号文件"), its metadata (meta). A deadline the question sets must stand in the
    paragraph itself or its headings: a 成文日期 in 2025 does not make a paragraph about 2027 answer
    「到2025年…」."""
    text = normalize(claim)
    # Years, dates, articles and written-out figures scope a claim; a word that happens to hold a
    # numeral ("最近一次", "一次性") does not.
    asked = [f for f in figures(text) if find(f, q_figs) and _scoping(f, text)]
    if not asked:
        return True
    scope = figures(normalize(" ".join((para.text, para.title, *map(unnumbered, para.section)))))
    named = figures(normalize(meta)) if meta else []
    return all(find(f, scope) or (find(f, named) and not _DEADLINE.search(text[:f.start])) for f in asked)


def scopes(question: str, deadlines: bool = True, articles: bool = True) -> str:
    """What a question confines its answer to, as text for in_scope: the deadlines it sets ("到2025年")
    and the articles of a law it asks about ("第五十七条"); "" when none."""
    text = normalize(question)
    return "，".join(f.text for f in figures(text)
                    if (deadlines and f.unit == "年" and _DEADLINE.search(text[:f.start]))
                    or (articles and f.unit == "条" and text[:f.start].endswith("第")))


def figures_found(claim: str, texts: list[str], question: str = "") -> list[Figure]:
    """The claim's figures found in none of texts (normalized) nor in the question."""
    pool = [f for t in [question, *texts] for f in figures(normalize(t))]
    return [f for f in figures(normalize(claim)) if not find(f, pool)]




_NO_DOC = DocText("", "")


@dataclass
class Verified:
    text: str
    claims: list[Claim]
    citations: list[Citation]
    repairs: list[str]
    abstained: bool
    deleted: list[str] = field(default_factory=list)   # sentences removed (a figure found nowhere)
    marked: list[str] = field(default_factory=list)    # sentences kept without a supporting passage


def verify(answer: str, passages: list[Passage], question: str = "",
           docs: Mapping[str, DocText] | None = None, translated: bool = False,
           off: frozenset[str] = frozenset()) -> Verified:
    """docs: what each document (by name) is about, to check names taken from the question.
    translated: the question is a machine translation of the user's (see support).
    off: names of checks switched off (qa/verify/checks.py)."""
    by_n = {p.n: p for p in passages}
    # Where a figure may come from: any retrieved paragraph, its title and section path, its
    # document's metadata. A sentence whose figure is in none of them is invented and removed.
    sources = [" ".join((p.para.text, p.para.title, *map(unnumbered, p.para.section),
                         docs.get(p.para.doc, _NO_DOC).head if docs is not None else "")) for p in passages]
    claims: list[Claim] = []
    repairs: list[str] = []
    deleted: list[str] = []
    marked: list[str] = []
    spans: dict[int, tuple[int, int]] = {}
    parts: list[str] = []
    unverified: list[tuple[int, str, list[int]]] = []   # (part, sentence, the model's own markers)
    q_figs = figures(normalize(question))
    # A deadline or an article the question sets scopes the whole answer, also the sentences that do
    # not repeat it ("到2025年要实现哪些目标" is not answered by the targets set for 2020 and 2035, nor
    # "第五十七条是怎么规定的" by another article).
    due = scopes(question, deadlines="scope" not in off, articles="article" not in off)
    within = {n: in_scope(due, p.para, q_figs) for n, p in by_n.items()}   # once per passage, not per claim
    # The figures each paragraph writes itself, in its text or section path (not its document's head).
    own = {n: figures(normalize(" ".join((p.para.text, *map(unnumbered, p.para.section))))) for n, p in by_n.items()}

    # A yes-or-no question: the answer's negation is its content (paragraphs normalized once).
    polar_texts = ({p.n: normalize(p.para.text) for p in passages}
                   if "polarity" not in off and polar_question(question) else None)

    def scored(text: str, whole: str | None = None) -> dict[int, float]:
        """whole: the sentence a clause or item was cut from, whose question figures still scope it
        (「第五十七条是…，应当坚持…」: the clause after the comma is still about 第五十七条)."""
        if polar_texts is not None and denied(text, list(polar_texts.values())):
            return {n: 0.0 for n in by_n}
        return {n: support(text, p.para, question, None if docs is None else docs.get(p.para.doc, _NO_DOC), translated, off)
                if within[n] and (whole is None or "scope" in off or in_scope(whole, p.para, q_figs,
                                                             docs.get(p.para.doc, _NO_DOC).head if docs else ""))
                else 0.0
                for n, p in by_n.items()}

    def cite(text: str, markers: tuple[int, ...], scores: dict[int, float]) -> list[int]:
        """The markers that support text: the given ones, else the best supporting passage. A claim
        is cited where its figures are written: a passage that supports it only because its document's
        title or metadata frames the figures gives way to one that writes them (the date of a law's
        amendment is the 沿革 of its metadata paragraph, not any article of that law)."""
        good = [n for n in markers if scores.get(n, 0) >= SUPPORT_OVERLAP]
        supporting = [n for n in scores if scores[n] >= SUPPORT_OVERLAP]
        told = [f for f in figures(normalize(text)) if not find(f, q_figs)]
        def writes(n: int) -> int:
            return sum(bool(find(f, own[n])) for f in told)
        if good and told:
            rival = max((n for n in supporting if n not in good), key=lambda n: (writes(n), scores[n]), default=None)
            if rival is not None and writes(rival) > max(map(writes, good)):
                repairs.append(f"引用已修正：[{', '.join(map(str, good))}] → [{rival}]（数字出自该段）：{text}")
                return [rival]
        if not good:
            best = max(supporting, key=lambda n: (writes(n), scores[n]), default=None)
            if best is not None:
                good = [best]
                what = f"[{', '.join(map(str, markers))}]" if markers else "缺少引用"
                repairs.append(f"引用已修正：{what} → [{best}]：{text}")
        elif len(good) < len(markers):
            repairs.append(f"已删除不支持该句的引用 {[n for n in markers if n not in good]}：{text}")
        return good

    def keep(text: str, good: list[int]) -> None:
        for n in good:
            spans.setdefault(n, best_sentence(text, by_n[n].para.text))
        claims.append(Claim(text, tuple(good), True))
        parts.append(_with_markers(text, good))

    for raw in parse_claims(answer):
        toks = content_tokens(raw.text)
        if ("filler" not in off and toks and toks <= FILLER and not numbers(raw.text)
                and not (polar_question(question) and _BARE_POLARITY.fullmatch(raw.text))):
            repairs.append(f"已删除无实质内容的句子：{raw.text}")
            continue
        if "filler" not in off and question and restates_question(raw.text, question):
            repairs.append(f"已删除复述问题的句子：{raw.text}")
            continue
        # A bare 「不可以」 to a yes-or-no question stands on the passage it cites whose sentence closest to
        # the question negates; a bare 「可以」/「是」 has nothing to stand on (the text may not negate
        # and still say no: 「溢装在3%以内的，按合同数量计征」).
        if (polar_texts is not None and _BARE_POLARITY.fullmatch(raw.text.strip())
                and raw.text.strip().startswith(("不", "否", "没", "未", "无"))):
            good = [n for n in (raw.markers or tuple(by_n)) if n in by_n and negates_asked(question, polar_texts[n])]
            if good:
                keep(raw.text, good[:1])
                continue
        if not toks and not numbers(raw.text):
            claims.append(Claim(raw.text, (), True))
            parts.append(raw.text)
            continue
        good = cite(raw.text, raw.markers, scored(raw.text))
        if good:
            keep(raw.text, good)
            continue
        # A sentence answering two things ("陇南市有83.94万人,定西市有101.2万人") keeps the clauses
        # that are supported; the others go, so one wrong figure does not sink a right one.
        clauses = _clauses(raw.text, question)
        salvaged = [(c, cite(c, raw.markers, scored(c, raw.text))) for c in clauses] if len(clauses) > 1 else []
        if any(g for _, g in salvaged):
            for c, g in salvaged:
                if g:
                    keep(c, g)
                else:
                    repairs.append(f"已删除无依据的分句：{c}")
                    deleted.append(c)
            continue
        # An enumeration gathered from several passages or sentences ("坚持甲、乙、丙") is supported
        # when each of its items is: it cites every passage it draws on.
        # An item that only repeats the question ("加班、休息日…分别按…") frames the others.
        items = _items(raw.text)
        told = [it for it in items if not _repeats(it, question)]
        cited_items = [cite(it, raw.markers, _literal_first(it, scored(it, raw.text), by_n)) for it in told] if len(items) > 1 else []
        if cited_items and all(cited_items):
            keep(raw.text, sorted({n for g in cited_items for n in g}))
            continue
        missing = [] if "delete" in off else figures_found(raw.text, sources, question)
        if missing:
            repairs.append(f"已删除含有文档中不存在的数字（{'、'.join(f.text for f in missing)}）的句子：{raw.text}")
            deleted.append(raw.text)
            continue
        repairs.append(f"未找到依据：{raw.text}")
        marked.append(raw.text)
        claims.append(Claim(raw.text, (), False))
        unverified.append((len(parts), raw.text, [n for n in raw.markers if n in by_n]))
        parts.append(raw.text)
    supported = [c for c in claims if c.supported and c.citations]
    # A question for one quantity answered by sentences without one (「在规定期限内申请」) is not answered.
    if supported and "asked" not in off and asks_one_quantity(question) and not any(states_quantity(c.text) for c in supported):
        repairs.append(f"问题问的是数量，回答没有给出：{''.join(c.text for c in supported)}")
        supported = []
    shown_unverified = not supported and "unsupported" in off and any(ns for _, _, ns in unverified)
    if shown_unverified:
        # Nothing was found to support the answer, nothing in it was invented: the reader judges,
        # with the passages the model pointed to.
        for i, text, ns in unverified:
            parts[i] = _with_markers(text, ns)
            for n in ns:
                spans.setdefault(n, best_sentence(text, by_n[n].para.text))
        parts.append(UNVERIFIED_NOTE)
    citations = [
        Citation(n, p.para.doc, p.para.id, p.para.section_path, p.para.title, p.para.text, spans[n], p.para.lines, p.para.page,
                 p.para.ocr)
        for n, p in sorted(by_n.items()) if n in spans
    ]
    abstained = not supported and not shown_unverified
    return Verified("".join(parts).strip() if not abstained else REFUSAL, claims, citations, repairs, abstained,
                    deleted, marked)


def _repeats(text: str, question: str) -> bool:
    """Whether text only repeats the question: no word, number or figure the question does not give."""
    q_figs = figures(normalize(question))
    return (content_tokens(text) <= content_tokens(question) and set(numbers(text)) <= set(numbers(question))
            and all(find(f, q_figs) for f in figures(normalize(text))))


def _clauses(sentence: str, question: str = "") -> list[str]:
    """The clauses of a sentence, each ending with 。 so it reads as a sentence of its own. A clause
    that only repeats the question ("2013年建档立卡时") is framing: it stays with the clause after it."""
    out, pending = [], ""
    # (an ASCII comma between digits groups a number, 「6,315」: no clause ends there)
    for c in re.split(r"[，；;]|,(?!\d)|(?<!\d),", sentence.rstrip(SENT_END + "，,")):
        c = c.strip()
        if not c:
            continue
        if _repeats(c, question):
            pending += c + "，"
            continue
        out.append(pending + c + "。")
        pending = ""
    return out


def _literal_first(item: str, scores: dict[int, float], by_n: Mapping[int, Passage]) -> dict[int, float]:
    """Among passages that support an item alike, the one that writes it out ("规范管理。…") first."""
    key = normalize(item)
    return {n: v + (0.01 if v >= SUPPORT_OVERLAP and key in normalize(by_n[n].para.text) else 0.0)
            for n, v in scores.items()}


def _items(sentence: str) -> list[str]:
    """The items of an enumeration ("甲、乙和丙"), 2 to 12 of them; [] when the sentence lists nothing.
    The first item keeps the sentence's lead-in ("要坚持甲"), which is framing when the question gives it."""
    body = sentence.rstrip(SENT_END + "，,")
    if "、" not in body:
        return []
    parts = [p.strip() for p in re.split(r"、|(?<=[^，,])(?:和|及|以及|与)(?=[^，,。]{2,12}(?:[。，,；;]|$|等))", body)]
    parts = [p for p in parts if p]
    return parts if 2 <= len(parts) <= 12 and all(len(p) <= 40 for p in parts[1:]) else []


def _with_markers(text: str, ns: list[int]) -> str:
    marks = "".join(f"[{n}]" for n in ns)
    if text and text[-1] in SENT_END:
        return text[:-1] + marks + text[-1]
    return text + marks


def number_consistency(answer_text: str, citations: list[Citation]) -> tuple[int, int]:
    """(figures of the answer found in its cited paragraphs or their title and section path, figures
    of the answer)."""
    figs = figures(normalize(MARKER.sub("", answer_text)))
    cited = [f for c in citations for f in figures(normalize(" ".join((c.text, c.title, c.section))))]
    return sum(bool(find(f, cited)) for f in figs), len(figs)


def raw_number_consistency(raw: str, passages: list[Passage]) -> tuple[int, int]:
    """The same on the model's own text, before verification: each sentence's figures against the
    paragraphs its own [n] markers point to (a sentence without a marker supports none)."""
    by_n = {p.n: p for p in passages}
    ok = total = 0
    for c in parse_claims(raw):
        cited = [f for n in c.markers if n in by_n
                 for f in figures(normalize(" ".join((by_n[n].para.text, by_n[n].para.title, *map(unnumbered, by_n[n].para.section)))))]
        for f in figures(normalize(c.text)):
            total += 1
            ok += bool(find(f, cited))
    return ok, total

