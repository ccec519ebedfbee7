"""Stage 8a: answer a question about a document's own record — its 发文字号, 成文日期, 主送机关, 施行日期,
speaker — from the metadata that qa/ingest/sections.py read off the document (GB/T 9704 公文 fields, law
history, speech bylines, web page info bars), without the model.

A 1.5B model shown 「标题：…\\n发文字号：国发〔2025〕11号」 still answers a 文号 question with the title now
and then; the field is already known exactly, so the answer is that field, cited to the metadata
paragraph (#0), and then verified like any other answer. Only when the question asks for a field
the matched document records: everything else goes to the model.

Which document: one of the top hits whose title or text holds the question's names and most of its
words (a 文号 question about a document that is not in the corpus must not get another document's
文号). Pure functions; qa/answering/answer.py calls `field_answer`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping

from qa.ingest.lines import DATE
from qa.text.normalize import normalize
from qa.schema import Document, Hit, Paragraph
from qa.text.sentences import content_tokens

# Field (as qa/ingest/sections.py names it) → how a question asks for it. The words are the 公文 and law
# vocabulary itself, not any one document's.
ASKS: dict[str, re.Pattern] = {
    "发文字号": re.compile(r"文号|字号|发文号|文件号"),
    "成文日期": re.compile(r"成文日期|成文时间|印发日期|签发日期|(?:哪天|哪一天|何时|什么时候|哪年哪月哪日)(?:印发|签发|成文)"),
    "施行日期": re.compile(r"施行日期|生效日期|实施日期|(?:哪天|哪一天|何时|什么时候|从何时|从什么时候|自何时)"
                       r"(?:起?开始|起)?(?:正式)?(?:施行|生效|实施)"),
    "主送机关": re.compile(r"主送(?:机关|单位)?|(?:发给|下发给|发送给|送给|印发给)(?:哪些|哪个|什么)(?:单位|机关|部门|地方)?"),
    "发文机关署名": re.compile(r"发文机关|(?:哪个|哪些|什么)(?:机关|部门|单位)(?:印发|发布|制发|发文)"),
    "讲话人": re.compile(r"讲话人|报告人|(?:是)?谁(?:作|做|讲|发表)的|由谁(?:作|做)"),
    "作者": re.compile(r"作者|(?:是)?谁(?:作|做|写|撰写)的|由谁(?:作|做|撰写)"),
    "发布日期": re.compile(r"发布日期|(?:哪天|哪一天|何时|什么时候)发布"),
    # a government page's info table records when a 规范性文件 lapses (有效期 five years by rule)
    "失效日期": re.compile(r"失效日期|失效时间|有效期至|(?:哪天|哪一天|何时|什么时候)(?:起)?(?:失效|到期)"),
    # the day a report or speech was given, from its occasion line (「——2026年1月28日在…会议上」)
    "日期": re.compile(r"(?:哪天|哪一天|何时|什么时候|哪年哪月哪日)(?:在[^，,。？?]{0,20}?)?(?:作|做|讲|发表|宣读)(?:的)?"),
}
# What a question says besides the document's name when it asks for a field.
_ASKING = re.compile(r"是什么|是多少|是哪天|是哪一天|是谁|有哪些|哪些|哪个|多少|什么|哪天|何时|这份|该|本|这个|这部|的|了|吗|呢")


# The article that puts a law, regulation, rule or standard into force, in its own words:
# 「本条例自2019年5月15日起施行」, 「本规范自2009年1月1 日起实施」 (the last article of the text).
_IN_FORCE = re.compile(rf"本(?:法|条例|规定|办法|规范|细则|规则|决定|准则|标准|通知|意见|解释|规程|制度|章程|指引|公约)"
                       rf"[^。；;]{{0,12}}?自\s*({DATE})\s*起\s*(施行|实施|生效)")


def in_force(doc: Document) -> tuple[str, str, Paragraph] | None:
    """The date a document's own text puts it into force, its verb (施行, 实施, 生效) and the paragraph
    saying so (the last one, should the text hold more): for a 施行日期 the header does not record."""
    found = None
    for p in doc.paragraphs:
        if p.kind != "meta" and (m := _IN_FORCE.search(p.text)):
            found = (re.sub(r"\s+", "", m.group(1)), m.group(2), p)
    return found


@dataclass(frozen=True)
class FieldAnswer:
    doc: str
    field: str
    value: str
    para: Paragraph          # the metadata paragraph that records it
    text: str                # the answer sentence, without markers
    # The paragraph of the document's own text that states it ("本条例自2019年5月15日起施行"), which
    # a reader checks first; None when only the header or byline gives it (a 公文's 文号 line).
    source: Paragraph | None = None


# A question about the document this one replaces (「被废止的旧办法文号」, 「替代的1983年旧版标准」) asks
# for another document's record: the matched document's own field would be the wrong answer.
_REPLACED = re.compile(r"旧版|旧的|旧(?:办法|条例|规定|标准|规范|文件|通知|法)|原(?:来的)?(?:办法|条例|规定|标准|规范|文件|通知)"
                       r"|被(?:废止|替代|代替|取代)|(?:废止|替代|代替|取代)的")


def asked_fields(question: str) -> list[str]:
    q = normalize(question)
    if _REPLACED.search(q):
        return []
    return [f for f, pat in ASKS.items() if pat.search(q)]


# The genre word a document's name ends with, where a question names the document whose field it asks
# (「《…实施意见》，文号是什么」, 「“十四五”…行动计划的文号」).
_GENRE = r"(?:意见|通知|办法|规定|决定|方案|计划|规划|纲要|细则|条例|规则|标准|规范|指引|批复|通报|公告|报告|法)"
_TITLED = re.compile(r"《([^》]{2,60})》")
_NAMED_BEFORE_ASKING = re.compile(rf"([\u4e00-\u9fff“”\d]{{4,60}}?{_GENRE})(?:的|是|发文)*$")
# What a name is written with or without: spaces, quotes, list commas.
_NAME_SEPARATORS = re.compile(r"[\s“”\"、，,·]")


def _asked_document(question: str, field: str) -> str:
    """The name of the document whose field the question asks: a title in 《》 anywhere, else the words
    ending in a genre word just before the asking (「…行动计划的文号」); "" when the question names none
    or points at the document it reads (「这个行业标准」, 「这份…通知」, 「该办法」)."""
    q = normalize(question)
    titled = _TITLED.findall(q)
    if titled:
        named = titled[-1]
    else:
        m = ASKS[field].search(q)
        parts = [p for p in re.split(r"[，,。；;？?：:]", q[:m.start()] if m else "") if p]
        found = _NAMED_BEFORE_ASKING.search(parts[-1]) if parts else None
        named = found.group(1) if found else ""
    return "" if re.search(r"这|该|本|此", named) else named


def _another_document(named: str, doc: Document) -> bool:
    """Whether the document a question names (_asked_document) is another than this one: one that this
    document cites (a notice 「贯彻落实《…实施意见》（国办发〔2021〕11号）」 holds that 文号 in its text, but
    its own field is its own). The named document is this one when its words stand in this document's
    title, metadata or file name, one short word aside (a user's short name: 「排水防涝工作通知」)."""
    if not named:
        return False
    head = normalize(" ".join([doc.title, doc.name, *doc.meta.values()]))
    bare = _NAME_SEPARATORS.sub("", named)
    if bare in _NAME_SEPARATORS.sub("", head):
        return False
    missing = [t for t in content_tokens(bare) if t not in head]
    return len(missing) > 1 or any(len(t) > 2 for t in missing)


def _names_document(question: str, doc: Document, field: str, text: str | None = None) -> bool:
    """The question's words, apart from the asking and the field, stand in the document (its title,
    metadata or text; `text`: all of it normalized, when the caller keeps it): it asks about this
    document, not one the corpus lacks."""
    rest = ASKS[field].sub(" ", normalize(question))
    toks = content_tokens(_ASKING.sub(" ", rest))
    if not toks:
        return False
    if text is None:
        text = normalize(" ".join([doc.title, *(p.text for p in doc.paragraphs)]))
    missing = [t for t in toks if t not in text]
    # One short word a user adds ("现行…条例") may be missing; a longer one names another document
    # ("关于加强网络安全的意见" is not the 意见 on 政府性债务 that also starts 「国务院关于加强」).
    return not missing or (len(missing) == 1 and len(missing[0]) <= 2 and len(toks) > 2)


def field_answer(question: str, hits: list[Hit], documents: Mapping[str, Document], top: int = 3,
                 texts: Mapping[str, str] | None = None) -> FieldAnswer | None:
    """texts: each document's normalized title and text by name (the answerer keeps them), so a long
    document is not normalized again for every question."""
    fields = asked_fields(question)
    if not fields:
        return None
    named = {f: _asked_document(question, f) for f in fields}
    seen: list[str] = []
    for h in hits[:top]:
        if h.chunk.doc in seen:
            continue
        seen.append(h.chunk.doc)
        doc = documents.get(h.chunk.doc)
        if doc is None:
            continue
        meta = next((p for p in doc.paragraphs if p.kind == "meta"), None)
        text = texts.get(doc.name) if texts else None
        for f in fields:
            value = doc.meta.get(f, "").strip()
            if _another_document(named[f], doc):
                continue
            if value and meta is not None and value in meta.text and _names_document(question, doc, f, text):
                source = next((p for p in doc.paragraphs if p.kind != "meta" and value in p.text), None)
                return FieldAnswer(doc.name, f, value, meta, f"《{doc.title}》的{f}为{value}。", source)
            # Not in the header: the text's own commencement article states it, in the words the
            # answer repeats, and is what is cited.
            if not value and f == "施行日期" and (stated := in_force(doc)) and _names_document(question, doc, f, text):
                value, verb, para = stated
                return FieldAnswer(doc.name, f, value, para, f"《{doc.title}》自{value}起{verb}。")
    return None
