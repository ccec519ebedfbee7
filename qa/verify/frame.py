"""The question's frame: whether a paragraph can answer the question at all — about a place it names,
of a law it names, of the year a 今年/去年 question means — and what a document is about (DocText).
Used before generation (passages outside the frame are not shown, qa/answering/answer.py) and by
verification (qa/verify/cite.py support)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from qa.schema import Paragraph
from qa.text.normalize import normalize
from qa.text.sentences import (
    NAME_FLAGS, abbreviation_found, entity_found, law_abbreviation_found, name_forms, named_entities, named_laws,
)

# A place a document names this often is what the document is about, not a detail of it.
SCOPE_MENTIONS = 3

def entities(text: str, kinds: tuple[str, ...] = NAME_FLAGS) -> set[str]:
    """Place, person and organisation names of a claim, normalized."""
    return {w for w, _ in named_entities(text, kinds)}


def _mentions(entity: str, haystack: str) -> int:
    return max(haystack.count(f) for f in name_forms(entity))


COUNTRY = frozenset({"中国", "我国", "中华人民共和国"})
_NATIONAL = re.compile(r"国务院|全国人民代表大会|全国人大|中共中央|中华人民共和国|中央人民政府")
_DOC_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# Years a question counts from the document's own ("今年" in a 2022 report is 2022).
_RELATIVE_YEAR = {"今年": 0, "本年": 0, "去年": -1, "明年": 1, "前年": -2}
_RELATIVE = re.compile("|".join(_RELATIVE_YEAR))
_HEADING_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})年")


# A calendar year a question names: 「2026年」, 「2024 年度」; not a span's end (「2021-2025年」 names both).
_NAMED_YEAR = re.compile(r"(?<![\d\-—–~～至到])((?:19|20)\d{2})\s*年(?!\s*[-—–~～至到]\s*\d)")


def of_named_year(question: str, para: Paragraph, doc: DocText | None) -> bool:
    """A calendar year the question names is one its document writes somewhere (text, headings, title
    or metadata): a 2025 standards notice that never writes 2026 does not give 「2026年的标准」, however
    alike its figures read. A report that reviews the year before writes that year in its review."""
    years = _NAMED_YEAR.findall(normalize(question)) if doc is not None else []
    if not years:
        return True
    own = para.text + " ".join(para.section)
    return all(y in own or y in doc.text or y in doc.head or y in doc.headings for y in years)


def in_year(question: str, para: Paragraph, doc: DocText | None) -> bool:
    """A question about 今年/去年 asks about the document's year, or the one before: a paragraph
    under headings that name other years only is out of scope (the 「一、2021年工作回顾」 of a 2022
    report does not answer 「今年要…多少」)."""
    m = _RELATIVE.search(normalize(question))
    if m is None or doc is None or doc.year is None:
        return True
    years = {int(y) for h in para.section for y in _HEADING_YEAR.findall(h)}
    return not years or doc.year + _RELATIVE_YEAR[m.group()] in years


def of_named_law(question: str, para: Paragraph, doc: DocText | None, text: str) -> bool:
    """A law the question names answers from that law (its title) or a paragraph that names it
    (text: the paragraph's normalized text): 「监察法第七十条」 is not the 第七十条 of another regulation."""
    head = doc.head if doc is not None else normalize(para.title)
    return all(name in head or abbreviation_found(name, head) or law_abbreviation_found(name, head) or name in text
               or _bare(name) in _bare(head) or _bare(name) in _bare(text) for name in named_laws(question))


# Separators a title is written with or without: 「全面深化改革、推进…」「全面深化改革 推进…」「全面深化改革推进…」
# are one title (a file name drops them, a web page writes a space, a reader a 、).
_TITLE_SEPARATORS = re.compile(r"[\s、，,·・]")


def _bare(title: str) -> str:
    return _TITLE_SEPARATORS.sub("", title)


def in_frame(question: str, para: Paragraph, doc: DocText | None, calendar: bool = True) -> bool:
    """Whether a paragraph can answer the question at all, judged from the question alone: it is
    about one of the places the question names (it names it, or its document is about it), of the
    law the question names, of the year a 今年/去年 question means and (calendar) of a year it names
    (of_named_year). support() rejects every claim
    drawn from a paragraph outside this frame, so the generator is not shown one: a small model
    copies a figure from whatever passage it reads (辽宁's count from a 甘肃 report). A place counts as
    named by the paragraph when its headings name it."""
    text = normalize(para.text)
    places = entities(question, ("ns",))
    # A place may stand in the paragraph's heading only (a list of cases, each headed by its school:
    # 「7.贵州省铜仁市碧江区和平中心小学教师吴某某…问题」).
    heads = normalize(" ".join(para.section))
    if places and doc is not None and not any(entity_found(e, text) or entity_found(e, heads) or doc.is_about(e)
                                              for e in places):
        return False
    return (of_named_law(question, para, doc, text) and in_year(question, para, doc)
            and (not calendar or of_named_year(question, para, doc)))


@dataclass(frozen=True)
class DocText:
    """What a document is about, to judge names taken from the question."""
    head: str                  # normalized title, metadata (author, date, source) and file name (sections.named_by)
    text: str                  # normalized full text
    headings: str = ""         # normalized section headings, each once ("一、2021年工作回顾")

    @property
    def year(self) -> int | None:
        """The year the document speaks from: the first year of its title, else of its metadata."""
        m = _DOC_YEAR.search(self.head)
        return int(m.group()) if m else None

    def frames(self, name: str) -> bool:
        """Whether a name is the document's own frame, so that an answer drawn from it is about that
        name wherever it stands: its title or metadata names it (the city of a city's report, the
        issuing body), or it is the country and the document is a national one (issued or spoken by a
        national body: 国务院, 全国人大, 中共中央, a law of the 中华人民共和国; or naming the country
        again and again, as a national work report does). A place the text merely names often is not
        enough: a province's report names each of its cities often."""
        return (entity_found(name, self.head) or abbreviation_found(name, self.head)
                or (name in COUNTRY and self.national(name)))

    def is_about(self, name: str) -> bool:
        # Its title or author, or a place it names again and again (its province or city) — not a
        # county it mentions once in passing.
        return (entity_found(name, self.head) or abbreviation_found(name, self.head)
                or _mentions(name, self.text) >= SCOPE_MENTIONS or (name in COUNTRY and self.national(name)))

    def national(self, name: str) -> bool:
        """Whether the document speaks for the whole country: issued by a national body, naming the
        country again and again, or naming no place in its title and metadata at all (a national
        standard, a ministry's rules, a law cited by its short title: a local text names its place)."""
        return bool(_NATIONAL.search(self.head)) or _mentions(name, self.text) >= SCOPE_MENTIONS or self.placeless

    @property
    def placeless(self) -> bool:
        return bool(self.head) and not entities(self.head, ("ns",))
