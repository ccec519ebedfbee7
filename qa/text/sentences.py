"""Sentence spans and content-token overlap: the shared ground for passage selection,
extractive answers and citation checks."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Mapping

import jieba.posseg

from qa.text.figures import figures, find
from qa.text.normalize import normalize, tokenize, tokens_outside

_SENT = re.compile(r"[^。！？!?；;\n]*(?:[。！？!?；;]+[”」』）)]?|\n|$)")
# Full sentences only: a "；" list inside one sentence ("“1”是…；“7”是…；“3”是…") stays together.
_FULL_SENT = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[”」』）)]?|\n|$)")
# Share of a claim's content words a sentence must hold to support it (verification, qa/verify/cite.py).
SUPPORT_OVERLAP = 0.5
_DEFAULT_IDF = 3.0  # a word the corpus never saw is as informative as a rare one
NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:\s*%)?")


def sentence_spans(text: str, full: bool = False) -> list[tuple[int, int]]:
    """(start, end) of each sentence, punctuation included, surrounding whitespace excluded.
    Sentences end at 。！？, at line ends, and (unless full) at ；."""
    spans = []
    for m in (_FULL_SENT if full else _SENT).finditer(text):
        s, e = m.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def content_tokens(text: str) -> set[str]:
    """Words that carry meaning (accurate-mode jieba): multi-character words and all numbers."""
    return {t for t in tokenize(text, search=False) if len(t) >= 2 or t.isdigit()}


# Function characters jieba's unknown-word model glues a lone character to (「公示期为20日」 → 公示|期为,
# 「社会保险法从…」 → 社会保险|法从).
_FUNCTION_TEXT = "为是的了于在将被把对由及与和或也都就均从自向按经"
_FUNCTION_CHARS = frozenset(_FUNCTION_TEXT)


def unglued(tok: str) -> str:
    """The content character of a two-character token that is no dictionary word but a lone
    character glued to a function word (「期为」 → 期); any other token unchanged."""
    if len(tok) != 2:
        return tok
    jieba.dt.check_initialized()   # the dictionary loads with the first cut
    if tok not in jieba.dt.FREQ:
        if tok[1] in _FUNCTION_CHARS and tok[0] not in _FUNCTION_CHARS:
            return tok[0]
        if tok[0] in _FUNCTION_CHARS and tok[1] not in _FUNCTION_CHARS:
            return tok[1]
    return tok


_HAN = re.compile(r"[\u4e00-\u9fff]")


def lone_runs(text: str, spans: list[tuple[int, int]] = ()) -> set[str]:
    """Runs of two or more Chinese characters of normalized text that jieba leaves as single characters,
    outside spans, without the function characters at their ends: a name it has no word for
    (「贺从胜」 is cut 贺|从|胜), which words_apart does not see."""
    runs, run = set(), ""
    for tok, a, b in [*jieba.tokenize(text), ("", len(text), len(text))]:
        if len(tok) == 1 and _HAN.match(tok) and not any(s < b and a < e for s, e in spans):
            run += tok
            continue
        run = run.strip(_FUNCTION_TEXT)
        if len(run) >= 2:
            runs.add(run)
        run = ""
    return runs


def words_apart(text: str, spans: list[tuple[int, int]]) -> set[str]:
    """The content words of normalized text that overlap none of spans (its figures) and hold no digit."""
    return {t for t in tokens_outside(text, spans) if len(t) >= 2 and not any(c.isdigit() for c in t)}


def numbers(text: str) -> list[str]:
    """Arabic numbers in normalized text ("1,101" → "1101"), e.g. ["2019", "100"]."""
    return [n.replace(",", "").replace(" ", "") for n in NUMBER.findall(normalize(text))]


def overlap(query: set[str], text_tokens: set[str], idf: Mapping[str, float] | None = None) -> float:
    """Weighted share of the query's words found in the text. Weights are corpus idf when given
    (a rare "生活补助" outweighs a ubiquitous "干部"), else word length."""
    if not query:
        return 0.0
    w = {t: max(idf.get(t, _DEFAULT_IDF), 0.1) if idf is not None else len(t) for t in query}
    return sum(w[t] for t in query if t in text_tokens) / sum(w.values())


def best_sentence(claim: str, paragraph: str) -> tuple[int, int]:
    """(start, end) of the sentence of paragraph closest to claim: shared words, then shared numbers."""
    spans = sentence_spans(paragraph, full=True) or [(0, len(paragraph))]
    toks = content_tokens(claim)
    nums = set(numbers(claim))
    def score(sp: tuple[int, int]) -> float:
        s = paragraph[sp[0]:sp[1]]
        return overlap(toks, content_tokens(s)) + len(nums & set(numbers(s)))
    return max(spans, key=score)


NAME_FLAGS = ("ns", "nr", "nt")   # jieba POS: place, person, organisation


# jieba tags a numeral word as a name now and then (「万分之」 of 「按日加收万分之五」 as a person's name).
_NUMERAL_WORD = re.compile(r"[零〇一二两三四五六七八九十百千万亿分之点]+")


def named_entities(text: str, flags: tuple[str, ...] = NAME_FLAGS) -> list[tuple[str, str]]:
    """(name, POS flag) in order of appearance, normalized text, names of two characters or more."""
    return [(w.word, w.flag[:2]) for w in jieba.posseg.cut(normalize(text))
            if w.flag[:2] in flags and len(w.word) >= 2 and not _NUMERAL_WORD.fullmatch(w.word)]


PLACE_SUFFIXES = "省市县区旗州盟镇乡村"   # what an administrative place name ends with
# Longer suffixes first: "北京地区" is 北京, not "北京地".
NAME_SUFFIXES = ("省委", "市委", "县委", "区委", "旗委", "党委", "政府", "地区", "自治区", "自治州", "自治县",
                 *PLACE_SUFFIXES)


# A congress named by its session number: 「二十大」, 「十九大」 are the 第二十次/第十九次 (全国)代表大会 the
# communiqué or report writes out in full.
_CONGRESS = re.compile(r"([一二三四五六七八九十]{1,3})大$")


def name_forms(entity: str) -> list[str]:
    # Names are written with and without their suffixes: "陇南" / "陇南市", "辽宁省委" / "辽宁".
    forms = [entity]
    if m := _CONGRESS.search(entity):
        forms += [f"第{m.group(1)}次{kind}" for kind in ("全国代表大会", "代表大会", "党代会")]
    while True:
        for suffix in NAME_SUFFIXES:
            if entity.endswith(suffix) and len(entity) - len(suffix) >= 2:
                entity = entity[: -len(suffix)]
                forms.append(entity)
                break
        else:
            return forms


def abbreviation_found(short: str, haystack: str) -> bool:
    """Whether a name of four or more characters stands in normalized text as the abbreviation of a
    longer name there: its characters in order, the first and last in place, within twice its
    length ("全国人大常委会" in "全国人民代表大会常务委员会"). 公文 and laws write organisations both ways."""
    if len(short) < 4:
        return False
    gap = len(short)   # characters the long form may add in all
    pattern = re.escape(short[0]) + "".join(rf"[^，,。；;、：:\s]{{0,{gap}}}?{re.escape(c)}" for c in short[1:])
    return any(m.end() - m.start() <= 2 * len(short) for m in re.finditer(pattern, haystack))


def entity_found(entity: str, haystack: str) -> bool:
    """Whether a name occurs in normalized text, in any of its forms."""
    return any(f in haystack for f in name_forms(entity))


_NOUNISH = ("n", "vn", "j", "l", "b", "an")     # jieba POS of the words of a noun phrase
_COUNTERS = set("个名人位户家所项期批次条座处种类件")
# Measure words of things counted one by one, beyond those a counted noun follows in questions above.
COUNTERS = frozenset(_COUNTERS | set("辆台艘架张本套间栋棵头只匹部份册"))
_WHOLE = {"全部", "所有", "全体"}   # "多少农村贫困人口全部脱贫": says how many, not of what
# Words naming an amount, not a thing (「资金总额」, 「人员数量」).
AMOUNT_WORDS = frozenset("总量 总额 总数 数量 数额 数目 规模 金额".split())
# 「多少比例的新增建设用地指标」 asks a share (「至少5%」), 「多少金额」 an amount: a measure, not things counted.
_MEASURE_HEADS = AMOUNT_WORDS | frozenset("比例 比重 占比 百分比 比率 份额".split())


_SPAN_WORD = re.compile(r"(?:以内|之内|内|以前|之前|前|以后|之后|后)$")
_CONCESSIVE = re.compile(r"(?:不管|无论|不论)[^，,。？?；;]*[，,]")


@lru_cache(maxsize=256)   # asked once per passage and claim while one answer is verified
def counted_noun(question: str) -> str:
    """The head of what a question counts ("多少个深度贫困村" → "贫困村"; "多少名干部" → "干部"):
    the last word of the noun phrase right after 多少/几 and its classifier, adjectives before it
    allowed ("多少个优秀驻村工作队" → "工作队"). "" when the question counts nothing or the phrase is
    not a plain noun phrase ("多少特别国债来…" starts with an adverb)."""
    # A concessive clause counts without asking (「不管有多少国家参加，公约在哪个日期之前都不得生效」).
    words = [(w.word, w.flag) for w in jieba.posseg.cut(_CONCESSIVE.sub("", normalize(question)))]
    for i, (w, _) in enumerate(words):
        bare = w in ("多少", "几")   # its classifier, if any, is the next word ("几个" is one word)
        if bare or (w.startswith("几") and len(w) == 2 and w[1] in _COUNTERS):
            rest = words[i + 1:]
            if bare and rest and rest[0][0] in _COUNTERS:
                rest = rest[1:]
            phrase = []
            for word, flag in rest:
                # an adjective modifies the noun after it ("多少个优秀驻村工作队"), it heads nothing
                if not (flag.startswith(_NOUNISH) or flag == "a") or word in _COUNTERS:
                    break
                if word not in _WHOLE:
                    phrase.append((word, flag))
            while phrase and phrase[-1][1] == "a":
                phrase.pop()
            head = phrase[-1][0] if phrase else ""
            # 「几个工作日内」: jieba keeps the span word 内/以内/前/后 on the head; what is counted is 工作日
            bare = _SPAN_WORD.sub("", head)
            head = bare if len(bare) >= 2 else head
            return head if len(head) >= 2 and head not in _MEASURE_HEADS else ""
    return ""


_QUALIFIER = ("n", "a", "b", "j", "l", "nz", "an")   # POS of a word that says which kind of thing
_NOUN = ("n", "nz", "l")   # not "j": abbreviations such as 人均/年均 qualify, they are not the thing
_ASKED = re.compile(r"哪|什么|何")
# Words that say where or whose by pointing ("本市", "该县", "我国", "全国"), not which kind.
_DEICTIC = tuple("本该我全此")


def _tagged(flag: str, tags: tuple[str, ...]) -> bool:
    """A jieba POS flag of one of tags that is no name ("n" would also take ns/nr/nt)."""
    return flag.startswith(tags) and not flag.startswith(NAME_FLAGS)


@lru_cache(maxsize=256)
def _qualified(question: str) -> tuple[tuple[str, str], ...]:
    """(qualifier, noun) pairs of a question: a qualifying word right before a noun ("一般"+"债券",
    "女性"+"恶性肿瘤"), or a four-character noun read as two halves ("农村居民" → "农村"+"居民")."""
    words = [(w.word, w.flag) for w in jieba.posseg.cut(normalize(question))]
    pairs = []
    for i, ((a, fa), (b, fb)) in enumerate(zip(words, words[1:])):
        # The words right after an interrogative name what is asked ("哪个单位归口"), not a given kind.
        if any(_ASKED.search(w) for w, _ in words[max(0, i - 2):i]):
            continue
        if len(a) >= 2 and len(b) >= 2 and _tagged(fa, _QUALIFIER) and _tagged(fb, _NOUN):
            pairs.append((a, b))
    # jieba tags some such nouns as names ("农村居民"/nr): any tag will do for the halves.
    pairs += [(w[:2], w[2:]) for w, f in words if len(w) == 4 and f.startswith((*_NOUN, *NAME_FLAGS))]
    return tuple(pairs)


def _shortens(qual: str, text: str) -> bool:
    """Whether a two- or three-character qualifier is the short form of a longer one in the text, its
    characters in order, first and last in place, within two extra characters each ("新冠" for
    "新型冠状")."""
    pattern = re.escape(qual[0]) + "".join(rf"[^，,。；;、：:\s]{{0,2}}?{re.escape(c)}" for c in qual[1:])
    return any(m.end() - m.start() > len(qual) for m in re.finditer(pattern, text))


def contrasted(question: str, sentence: str, scope: str) -> tuple[str, str] | None:
    """A qualifier of the question that the sentence replaces with another: the question asks about
    「一般债券」 and the sentence, which never says 一般 (nor does its scope: the sentence before,
    headings, title), gives 「专项债券」 — its figure measures another kind of the same thing.
    Returns (the question's qualifier, the sentence's) or None."""
    text = normalize(sentence)
    words = [(w.word, w.flag) for w in jieba.posseg.cut(text)]
    for qual, noun in _qualified(question):
        if qual in text or qual in scope or noun not in text or _shortens(qual, text):
            continue
        # What stands in the qualifier's place at each occurrence of the noun: the word before it,
        # or the first half of a compound that ends with it ("城镇居民"); "" when nothing qualifies it.
        others, prev = [], ("", "")
        for word, flag in words:
            if word == noun:
                others.append(prev[0] if len(prev[0]) >= 2 and _tagged(prev[1], _QUALIFIER) else "")
            elif len(word) == len(qual) + len(noun) and word.endswith(noun) and flag.startswith((*_NOUN, *NAME_FLAGS)):
                others.append(word[:len(qual)])
            prev = (word, flag)
        # A question naming both kinds ("一般债券和专项债券分别…") is answered by a sentence on either.
        if others and all(o and o != qual and not o.startswith(_DEICTIC) and o not in question for o in others):
            return qual, others[0]
    return None


# A yes/no or either-or question ("能直接起诉吗", "是否需要", "受不受理", "甲还是乙") is answered by a
# polarity or a choice among words it already holds; any other question by something it does not hold.
_YES_NO = r"是否|能否|可否|有没有|是不是|(\w{1,2})不\1"   # its one group is the A of 「A不A」
_POLAR = re.compile(rf"吗[？?。\s]*$|{_YES_NO}|还是")
# What asks rather than tells: a sentence keeping one of its question's interrogatives restates it.
# 几 after a demonstrative points, it does not ask: 「以下几个方面」「这几类」 open a list.
# 「多长时间」, 「多久」, 「多大」 ask a quantity as 多少 does.
_HOW = r"多[长久大高远重宽深]"
INTERROGATIVE = re.compile(rf"多少|{_HOW}|什么|哪[些个位里年天一]|谁|怎么|如何|为何|何时|"
                            rf"(?<!以下)(?<!下列)(?<![这那])几(?!乎)[个名次项位年月天日期批类种]|"
                            rf"{_YES_NO}|吗")


# What asks for a thing, not a yes or no: a question holding one is no yes/no question even when it
# also holds a 是否 (「应在多长时间内决定是否接受委托」: 是否 is the matter decided, 多长时间 is asked).
_WH = re.compile(rf"多少|什么|哪|谁|怎么|怎样|如何|为何|为什么|何时|{_HOW}|(?<!以下)(?<!下列)(?<![这那])几(?!乎)")


def polar_question(question: str) -> bool:
    q = normalize(question)
    return bool(_POLAR.search(q)) and not _WH.search(q)


def restates_question(sentence: str, question: str) -> bool:
    """Whether a sentence of an answer still asks what the question asks ("甲胎蛋白到多少以上…提示肝癌",
    "法院受不受理"): it keeps an interrogative of the question. A sentence that gives a figure the
    question does not is answering, and an interrogative it keeps is part of the matter
    (「7个工作日内决定是否立案」 for 「多少个工作日内决定是否立案」). Every interrogative of the question
    must stay: one that keeps 「是否达到」 but drops the 「哪些」 of 「核算工资是否达到标准时，哪些项目要剔除」
    has put its answer where the question asked."""
    asked = {m.group() for m in INTERROGATIVE.finditer(normalize(question))}
    if not asked or not asked <= {m.group() for m in INTERROGATIVE.finditer(normalize(sentence))}:
        return False
    q_figs = figures(normalize(question))
    return all(find(f, q_figs) for f in figures(normalize(sentence)))


# A law or regulation a question names by its title ("监察法第七十条", "劳动法规定…", 《…条例》): its
# articles are numbered like every other law's, so its name binds the answer to it. Read as jieba's
# word ending in 法 (a word such as 办法, 依法 or 违法 is no title) or the word before 条例.
_TITLE = re.compile(r"《([^》]{2,40})》")
_NOT_LAW = ("方法", "做法", "办法", "想法", "说法", "执法", "违法", "合法", "依法", "看法", "用法", "司法", "立法",
            "守法", "犯法", "算法", "语法", "疗法", "手法", "写法", "无法", "设法", "效法", "非法")


# Words that point back to a law already in view (「按这部条例」, 「该条例」, 「上述办法」): no title of their own.
_DEMONSTRATIVE = ("这", "那", "该", "本", "此", "上述", "前述")
# The kind of a regulation or rule, the last word of its title. Not 法: 「劳动法」 is no short name of
# 「劳动合同法」, each law is its own 法.
LAW_KINDS = ("条例", "办法", "规定", "细则", "规则", "规范")


def law_abbreviation_found(short: str, title: str) -> bool:
    """Whether a law's short name stands for a title in normalized text: its words in order, then its
    kind (「潭江条例」 for 「江门市潭江流域水质保护条例」, 「厉行节约条例」 for 「党政机关厉行节约反对浪费条例」).
    People cut a title to its place or subject and kind; abbreviation_found's twice-the-length bound
    is for organisations."""
    pattern = _law_pattern(short)
    return pattern is not None and bool(pattern.search(title))


@lru_cache(maxsize=256)   # one per law name, asked of every passage's document
def _law_pattern(short: str) -> re.Pattern[str] | None:
    kind = next((k for k in LAW_KINDS if short.endswith(k)), None)
    stem = short[: -len(kind)] if kind else ""
    if len(stem) < 2:
        return None
    gap = r"[^，,。；;：:\s《》]{0,24}?"
    return re.compile(gap.join(re.escape(w) for w in tokenize(stem, search=False)) + gap + re.escape(kind))


@lru_cache(maxsize=256)   # asked once per passage and claim while one answer is verified
def named_laws(question: str) -> tuple[str, ...]:
    """The titles, or the words of them, of laws and regulations a question names ("监察法", "信访条例")."""
    text = normalize(question)
    out = _TITLE.findall(text)
    rest = _TITLE.sub("", text)
    # An adjective or adverb before a bare 法 makes no title: 「最高法」 is the court (最高人民法院).
    tags = [(w.word, w.flag) for w in jieba.posseg.cut(rest)]
    modifiers = {w for w, f in tags if f.startswith(("a", "d"))}
    verbs = {w for w, f in tags if f in ("v", "p")}
    prepositions = {w for w, f in tags if f == "p"}
    # A title is the words right before its kind: the word before a comma is no part of it
    # (「在成都骑非机动车，条例是否要求…」 names no 「非机动车条例」, it means the law in view).
    for words in (tokenize(clause, search=False) for clause in _CLAUSE_BREAK.split(rest)):
        out += _titles_in(words, out, modifiers, verbs, prepositions)
    return tuple(n for n in out if n)


_CLAUSE_BREAK = re.compile(r"[,，。;；:：?？!！]")


def _titles_in(words: list[str], out: list[str], modifiers: set[str], verbs: set[str],
               prepositions: set[str]) -> list[str]:
    """The law titles of one clause's words; out: the titles named before (in 《》 or earlier clauses)."""
    found: list[str] = []
    for i, w in enumerate(words):
        prev = words[i - 1] if i and len(words[i - 1]) >= 2 and not words[i - 1].endswith(("法", "条例")) else ""
        if prev.startswith(_DEMONSTRATIVE) or (i and words[i - 1] in _DEMONSTRATIVE):
            continue   # 「这部条例」, 「该办法」: the law the conversation is about, no title
        if w in ("法", "条例") and prev in prepositions:
            continue   # 「按照条例」, 「根据条例规定」: likewise, a preposition makes no title
        # A bare 法/条例 governed by a verb after the question has named one refers back to it
        # ("北京市信访条例…参照条例处理"): the verb is no part of a title.
        named = w in ("法", "条例") and prev in verbs and any(n.endswith(w) for n in (*out, *found))
        if w == "法" and prev and prev not in modifiers and not named:      # "监察" + "法"
            found.append(prev + w)
        elif w.endswith("法") and len(w) >= 3 and not w.endswith(_NOT_LAW):
            found.append(w)
        elif w.endswith("条例") and not named:
            found.append(w if len(w) > 2 else prev + w if prev else "")
    return found


# What kind of answer a question wants, by its interrogative; a sentence that has that kind of
# content (a number, a date, a person) is more likely the answer than one that merely shares words.
ASKS = {
    # 「哪几个方面」 asks which items, not how many: 几 after 哪 is no count
    "number": re.compile(r"多少|(?<!哪)几[个名次项人万亿%期批]|数量|比例|占比|多大|多长|how many|how much|percentage|number of", re.I),
    "date": re.compile(r"哪天|哪一天|何时|什么时候|哪年|哪一年|几月|日期|when|what date|which year", re.I),
    "person": re.compile(r"谁|作者|讲话人|哪位|姓名|who", re.I),
}


def answer_kinds(question: str) -> list[str]:
    return [k for k, pat in ASKS.items() if pat.search(question)]
