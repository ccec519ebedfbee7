"""Stage 6a: make the question standalone before retrieval.

A follow-up ("那定西呢？") is rewritten from the conversation; a question not written in Chinese
is translated, since the index and the BM25 vocabulary are Chinese. The local model does both
when it is loaded; without it a rule swaps the follow-up's place/person/organisation name into
the previous question.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Mapping

from pypinyin import lazy_pinyin

from qa.ingest.lines import YEAR_CLOSE, YEAR_OPEN
from qa.ingest.sections import named_by
from qa.text.normalize import normalize, to_simplified
from qa.schema import Document
from qa.text.sentences import INTERROGATIVE, PLACE_SUFFIXES, content_tokens, named_entities

# Openers that lean on the previous turn, and words that point back to what it was about (它们、这些、
# 其中、该…、上述…): the question then needs that turn's subject. "这篇/本文/这份" point to the
# document, not the previous answer, and a merely short question can stand alone.
# A comparison without its first term ("比上年增长了多少？") and a parallel "又" ("2023年又安排了多少？",
# "Ⅳ期又是怎么界定的？") leave out what the previous question named; so does a clause closed by 呢
# in the first sentence ("儿童呢？持续高热超过几天算重型？").
_FOLLOWUP_START = re.compile(r"^(那(?![篇份部])|那么|还有|另外|此外|同样|而|那个|那些|(?:这|那)?比(?![例较重]))")
_ANAPHOR = re.compile(r"(它们|它|他们|她们|其中|(?<![尤极与])其(?![他它余次实间])|这些|那些|上述|前者|后者|(?<![应活])该(?!当)|此(?=[项类条种些])|这(?=[项类条种些个笔件位批])|这一)")
_PARALLEL = re.compile(r"(?<![也而并且])又(?![称名])")
_ELLIPTIC_CLAUSE = re.compile(r"呢\s*(?:[？?。，,]|$)")
# "全市/本省…" in a question naming no place, person or organisation (outside a quoted title) stands for a place the conversation named ("全市公园一共有多少个？" after a Beijing question).
_DEICTIC_PLACE = re.compile(r"[全本](?:市|省|县|区|州|旗|镇|乡)")
_ENTITY_FLAGS = ("ns", "nr", "nt", "nz")
_CJK = re.compile(r"[\u3400-\u9fff]")

REWRITE_SYSTEM = "你把用户的最后一个问题改写成一个意思完整、可以单独理解的中文问题。只输出改写后的问题，不要回答。"


def is_followup(question: str, history: list[tuple[str, str]]) -> bool:
    q = to_simplified(question.strip())
    # A pointer after the question's own first words points at them ("…，其中留抵退税多少？",
    # "铁路、收费公路这类项目"), not at the previous turn.
    pointer = _ANAPHOR.search(q)
    pointer = pointer and pointer.start() <= 2 and not re.search(r"[，,；;？?。、]", q[:pointer.start()])
    first = re.split(r"(?<=[？?。])", q)[0]  # a later sentence's 又/呢 leans on the question's first one
    unquoted = re.sub(r"《[^》]*》", "", q)
    deictic = _DEICTIC_PLACE.search(unquoted) and not named_entities(unquoted, ("ns", "nr", "nt"))
    return bool(history) and bool(_FOLLOWUP_START.match(q) or pointer or _PARALLEL.search(first)
                                  or _ELLIPTIC_CLAUSE.search(first) or deictic)


def needs_translation(question: str) -> bool:
    letters = [c for c in question if c.isalpha()]
    return bool(letters) and len(_CJK.findall(question)) < 0.3 * len(letters)


def own_words(question: str, query: str) -> str | None:
    """What to search besides a translated query: the user's own words. A small model's translation
    can name the wrong body or year (「第十四届」 for 二十届); the multilingual encoder cannot.
    None when the query is the question itself or the question needed no translation."""
    return question if query and query != question and needs_translation(question) else None


def _entities(text: str) -> list[tuple[str, str]]:
    return named_entities(text, _ENTITY_FLAGS)


_PLACE_SUFFIX = re.compile(f"[{PLACE_SUFFIXES}]$")
_LATIN_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\b")


def name_glossary(texts: Iterable[str]) -> dict[str, str]:
    """Pinyin spelling → Chinese name, for the place and person names of the corpus ("longnan" →
    "陇南"): a small model transliterates names badly, the corpus knows how they are written."""
    out: dict[str, str] = {}
    for text in texts:
        for word, flag in _entities(text):
            if flag not in ("ns", "nr") or len(word) < 2:
                continue
            base = _PLACE_SUFFIX.sub("", word) if len(word) > 2 else word
            if len(base) >= 2 and all(_CJK.match(c) for c in base):
                out.setdefault("".join(lazy_pinyin(base)), base)
    return out


def corpus_glossary(documents: Iterable[Document]) -> dict[str, str]:
    """name_glossary of a corpus: its titles and file names as well as its paragraphs, because a
    report often names its city only there (「平顶山市2019年…决算草案的说明.pdf」, see named_by)."""
    documents = list(documents)
    return name_glossary([*(d.title for d in documents), *(named_by(d.name) for d in documents),
                          *(p.text for d in documents for p in d.paragraphs)])


# Names whose usual English form is not their pinyin (陕西 is spelled Shaanxi to tell it from 山西).
EXONYMS = {"shaanxi": "陕西", "innermongolia": "内蒙古", "tibet": "西藏", "hongkong": "香港", "macau": "澳门",
           "macao": "澳门", "beijing": "北京"}
def glossary_hints(question: str, glossary: Mapping[str, str]) -> list[tuple[str, str]]:
    """(English, Chinese) pairs for an English question: its capitalised names found in the corpus
    glossary (or a known exonym), a two-word name also word by word ("Huayuan County" → 花垣)."""
    hints: list[tuple[str, str]] = []

    def add(latin: str, chinese: str) -> None:
        if (latin, chinese) not in hints:
            hints.append((latin, chinese))

    def lookup(name: str) -> str | None:
        key = re.sub(r"[ -]", "", name).lower()
        return glossary.get(key) or EXONYMS.get(key)

    for m in _LATIN_NAME.finditer(question):
        if (zh := lookup(m.group())) is not None:
            add(m.group(), zh)
            continue
        for word in re.split(r"[ -]", m.group()):
            if (zh := lookup(word)) is not None:
                add(word, zh)
    return hints


def rule_rewrite(question: str, previous: str) -> str:
    """Swap the follow-up's named entity into the previous question ("那乙市呢？"); else put the
    previous question before it, so its subject is searched with the new question ("它们怎么管理？")."""
    new = _entities(question)
    if not new:
        return f"{previous.rstrip('？?。')}，{question}"
    word, flag = new[0]
    prev_simpl = to_simplified(previous)
    for old, old_flag in _entities(previous):
        if old_flag == flag and old in prev_simpl:
            at = prev_simpl.index(old) + len(old)
            if prev_simpl[at:at + 1] == word[-1]:  # "陇南|市" + "定西市" must not give "定西市市"
                word = word[:-1]
            return prev_simpl.replace(old, word, 1)
    return f"{word}：{previous}"


def model_rewrite(question: str, history: list[tuple[str, str]], chat: Callable[[list[dict], int], str],
                  hints: list[tuple[str, str]] = ()) -> str | None:
    turns = "\n".join(f"用户：{q}\n助手：{a[:80]}" for q, a in history[-2:])
    # Fictional examples (甲省/乙省): one swaps the subject, one resolves a pronoun, one translates.
    examples = (
        "示例：\n对话：用户：甲省去年新建了多少所学校？\n助手：120所。\n最后的问题：那乙省呢？\n"
        "改写：乙省去年新建了多少所学校？\n\n"
        "示例：\n对话：用户：甲省去年新建了多少所学校？\n助手：120所。\n最后的问题：它们主要建在哪里？\n"
        "改写：甲省去年新建的学校主要建在哪里？\n\n"
        "示例：\n最后的问题：What is the annual budget for rural road maintenance?\n"
        "改写：农村公路养护的年度预算是多少？\n\n"
    )
    names = f"译名：{'、'.join(f'{a}={b}' for a, b in hints)}\n" if hints else ""
    user = f"{examples}对话：\n{turns}\n最后的问题：{question}\n{names}改写："
    out = chat([{"role": "system", "content": REWRITE_SYSTEM}, {"role": "user", "content": user}], 60)
    out = out.strip().splitlines()[0].strip() if out.strip() else ""
    out = re.sub(r"^(改写|问题)[:：]\s*", "", out)
    for latin, chinese in hints:  # a name the model left in Latin letters ("Longnan有多少…")
        out = re.sub(rf"\b{re.escape(latin)}\b", chinese, out)
    if not out or len(out) > 120 or not _CJK.search(out):
        return None
    return out


_MARKER = re.compile(r"\[\d+\]")
_COMPARISON = re.compile(r"^(?:这|那)?比(?![例较重])")


def faithful_rewrite(question: str, rewritten: str) -> bool:
    """Whether the model's rewrite of a follow-up is still that question, made standalone. A small
    model now and then answers instead (「…支付[1]。」), drops half of the question (「儿童呢？持续高热超过
    几天算重型？」 → 「儿童重型的诊断标准是什么？」), or hands back a comparison without its first term
    unchanged (「比上年增长了多少？」); the rule rewrite, which keeps every word, does better then."""
    q, r = normalize(question), normalize(rewritten)
    if _MARKER.search(rewritten) or not (INTERROGATIVE.search(r) or re.search(r"[？?呢]\s*$", r)):
        return False
    lost = [t for t in content_tokens(q) if t not in r and not _ANAPHOR.fullmatch(t)]
    if len(lost) >= 2:   # one word may be paraphrased (「计划淘汰」 → 「要淘汰」)
        return False
    return not (_COMPARISON.match(q) and r.rstrip("？?") == q.rstrip("？?"))


_YEAR = re.compile(r"\d{4}年")
# A document named by its kind ("乡村振兴战略意见", "2022年政府工作报告"): what the question is asked of.
_DOC_REF = re.compile(r"(?:\d{4}年)?[\u4e00-\u9fff“”+]{2,16}?(?:报告|意见|通知|条例|办法|规定|决定|决议|指南|方案|标准|法)")


_BASIS = re.compile(r"(?:^|[，,。；;])\s*((?:按照|按|根据|依据|依照)[^，,。；;？?]{2,20})[，,]")


def _names_document(q: str, m: re.Match) -> bool:
    """A match of _DOC_REF that names a document: it starts a phrase ("…年", "按…", "《…") and holds
    no asking or verb of the question ("解除劳动合同要提前多少天通知" uses 通知 as a verb); "这个条例",
    "该办法" point back to one."""
    text, before = m.group(), q[m.start() - 1:m.start()]
    return (text[0] not in "这该本此那其" and not re.search(r"要|是|多少|几|吗|呢|怎么|什么|哪", text)
            and (m.start() == 0 or before in "，,。；;《“ 年在按据照份的里"))


def _frame(question: str) -> list[tuple[str, str]]:
    """(kind, text) of what scopes a question: its years, its places and organisations, the document
    it names."""
    q = to_simplified(question)
    # "按中国肝癌分期，…": the standard the question is asked under, whole (not its place name alone)
    out = [("basis", m.group(1)) for m in _BASIS.finditer(q)][:1]
    # "这个条例", "该办法" point back to a document, they do not name one
    out += [("doc", m.group()) for m in _DOC_REF.finditer(q) if _names_document(q, m)
            and not any(m.group() in t for _, t in out)][:1]
    out += [("year", y) for y in _YEAR.findall(q) if not any(y in t for _, t in out)]
    for w, flag in named_entities(q, ("ns", "nt")):
        at = q.find(w) + len(w)
        if flag == "ns" and q[at:at + 1] in PLACE_SUFFIXES:   # jieba cuts "陇南|市"
            w += q[at]
        if not any(w in t for _, t in out):
            out.append((flag, w))
    return out


def keep_frame(question: str, previous: str, rewritten: str) -> str:
    """The model's rewrite of a follow-up with the previous question's frame kept: a year, place,
    organisation or document the previous question named, which the follow-up does not replace and
    the rewrite dropped, is put back in front ("那城镇调查失业率呢？" after a 2021 question →
    "2021年，城镇调查失业率是多少？"). A follow-up that only swaps the year ("到2030年呢？") gets the
    previous question with the year swapped, the rewrite of a small model garbles it."""
    new = _frame(question)
    new_kinds = {k for k, _ in new}
    old_years, new_years = _YEAR.findall(to_simplified(previous)), [t for k, t in new if k == "year"]
    if len(old_years) == 1 and len(new_years) == 1 and old_years[0] != new_years[0] and len(new) == 1 \
            and not (set(question) & set("它其这该此")):
        return to_simplified(previous).replace(old_years[0], new_years[0], 1)
    text = to_simplified(rewritten)
    missing = [t for k, t in _frame(previous) if k not in new_kinds and t not in text
               and not (new_years and _YEAR.search(t))]   # 「根据2022年…报告」 does not frame a 2021 question
    return f"{''.join(missing)}，{rewritten}" if missing else rewritten


def standalone_question(
    question: str,
    history: list[tuple[str, str]],
    chat: Callable[[list[dict], int], str] | None,
    glossary: Mapping[str, str] | None = None,
) -> str | None:
    """The rewritten question, or None when the question already stands alone."""
    follow = is_followup(question, history)
    translate = needs_translation(question)
    if not (follow or translate):
        return None
    if chat is not None:
        hints = glossary_hints(question, glossary or {}) if translate else []
        rewritten = model_rewrite(question, history if follow else [], chat, hints)
        if rewritten and follow and not faithful_rewrite(question, rewritten):
            rewritten = None
        if rewritten:
            return keep_frame(question, history[-1][0], rewritten) if follow else rewritten
    if follow:
        return rule_rewrite(question, history[-1][0])
    return None


# A 发文字号 as the issuer writes it (qa/ingest/lines.py DOC_NUMBER), in parts: issuer code, year, serial number.
_BRACKETED_YEAR = rf"[{YEAR_OPEN}]\s*(\d{{4}})\s*[{YEAR_CLOSE}]"
_NUMBER_PARTS = re.compile(rf"^\s*([\u4e00-\u9fff]{{1,12}}?)\s*{_BRACKETED_YEAR}\s*第?\s*(\d{{1,5}})\s*号")
_SERIAL = re.compile(r"(?<![\d.])(\d{1,5})\s*号(文件|文)?")
_ISSUER_BEFORE = re.compile(r"(?:发|字|函)\s*$")   # an issuer code ends so: 国发, 厅字, 国办函
_YEAR_BEFORE = re.compile(rf"(?:{_BRACKETED_YEAR}|(\d{{4}})\s*年)\s*第?\s*$")


def _doc_number(value: str) -> tuple[str, int, int] | None:
    m = _NUMBER_PARTS.match(value)
    return (m.group(1), int(m.group(2)), int(m.group(3))) if m else None


def name_numbered_documents(question: str, documents: Mapping[str, Document]) -> str | None:
    """The question with a 公文 it calls by its 发文字号 named by title: users call a 公文 by its
    number ("43号文", "〔2014〕43号", "国发43号文件"), which shares no word with the text retrieval
    searches. A serial number refers to a document when the question gives its year or issuer code
    next to it or says 号文/号文件, and exactly one document of the corpus has a 发文字号 that agrees
    with all it gives (year, issuer code, number). None when nothing is resolved or the question
    already holds the title."""
    q = to_simplified(question)
    if not _SERIAL.search(q):   # most questions: no look at the corpus's documents
        return None
    numbered = [(d, parts) for d in documents.values() if (parts := _doc_number(d.meta.get("发文字号", "")))]
    for m in _SERIAL.finditer(q):
        before = q[:m.start()]
        year_m = _YEAR_BEFORE.search(before)
        year = int(year_m.group(1) or year_m.group(2)) if year_m else None
        head = before[:year_m.start()] if year_m else before
        found = []
        for d, (issuer, d_year, serial) in numbered:
            if serial != int(m.group(1)) or (year is not None and year != d_year):
                continue
            by_issuer = head.rstrip().endswith(issuer)
            if _ISSUER_BEFORE.search(head) and not by_issuer:   # 国办发11号 is not 国发〔2025〕11号
                continue
            if year_m or by_issuer or m.group(2):   # the reference starts at its issuer code, else its year or number
                found.append((d, len(head.rstrip()) - len(issuer) if by_issuer else len(head)))
        if len(found) != 1:
            continue
        doc, start = found[0]
        title = to_simplified(doc.title)
        if title in q:
            return None
        named = title if "《" in title else f"《{title}》"  # a title quoting another one keeps its own marks
        return f"{q[:start]}{named}（{doc.meta['发文字号']}）{q[m.end():]}"
    return None
