"""Stage 2: remove web boilerplate, keep document metadata, repair scraping damage.

Every rule below is generic to scraped Chinese policy pages: it keys on the *shape* of a line
(a breadcrumb, a copyright notice, a photo credit, a trailing list of short link titles),
never on a particular document. Each rule has a name, recorded with every line it removes,
so tests (and a curious user) can see why a line went.

Boilerplate rules (lines removed):
  site-notice    download/copyright/upload notices of document portals (下载到本地, 版权归属, 被引量…)
  teaser-list    from a "其他文献 / 相关阅读 / 推荐阅读…" marker in the second half to the end
  timestamp      a bare scrape timestamp such as "22.08.2017  10:57"
  breadcrumb     site navigation such as "首页>今日要论"
  photo-caption  a short line ending with a photo credit such as "…。新华社发"
  footer         the trailing block of short, unpunctuated lines after the last paragraph
                 (related links, name lists), minus the metadata lines inside it
Metadata rules (lines moved into Document.meta, shown as the document's first paragraph):
  title          the first line, when short, unpunctuated and not directly followed by body text
  author         a header line that is a person's name alone (jieba tags it nr)
  date           a header line that is a date alone, optionally in brackets
  column         a header line wholly in brackets (series or column name)
  field          "key: value" lines for 来源/作者/编辑/关键词/日期…, and "…供稿" credits
Repairs:
  pinyin         drop romanization glued after a character: 鄉(xiāng) → 鄉
  glued-heading  a heading marker after a sentence end and 2+ spaces starts a new line
  wrapped-line   a long line cut off mid-sentence is joined with the next line
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import jieba.posseg

from .normalize import strip_controls, to_simplified

SENTENCE_END = "。！？!?；;：:"
# A line ending in any of these is complete; without one, a long line was cut mid-sentence.
LINE_END = SENTENCE_END + "…”\"」』）)】》"

HEADING_MARKER = (
    r"(?:[(（][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}、"
    r"|[(（]\d{1,2}[)）]|\d{1,2}[.．、](?!\d)|第[一二三四五六七八九十]{1,3}[,，、])"
)
_HEADING_START = re.compile(HEADING_MARKER)

_PINYIN = re.compile(
    r"(?<=[\u3400-\u9fff])[(（]([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*)[)）]"
)
_GLUED_HEADING = re.compile(r"(?<=[。！？!?；;])[ \t\u3000]{2,}(?=" + HEADING_MARKER + ")")
_SITE_NOTICE = re.compile(r"下载到本地|版权归属|版权争议|内容授权|论文部分内容阅读|被引量|上传用户|扫一扫|分享到")
_TEASER_MARKER = re.compile(r"^(其他文献|相关文献|相关阅读|相关文章|相关新闻|相关链接|推荐阅读|延伸阅读|猜你喜欢)$")
_TIMESTAMP = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s+\d{1,2}:\d{2}(:\d{2})?$")
_BREADCRUMB = re.compile(r"^(首页|主页|当前位置|您的位置|您现在的位置)\s*[:：]?\s*[>＞»›]")
_PHOTO_CREDIT = re.compile(r"(新华社|中新社|新华网|人民网)\s*(记者\s*\S{2,4}\s*)?(发|摄)$|(记者|通讯员)\s*\S{2,4}\s*摄$")
_DATE_LINE = re.compile(r"^[(（]?\s*(\d{4}年\d{1,2}月\d{1,2}日)\s*[)）]?$")
_BRACKETED = re.compile(r"^[(（【](.+)[)）】]$")
_FIELD = re.compile(
    r"^(来源|來源|作者|编辑|編輯|责任编辑|責任編輯|关键词|關鍵詞|日期|发布时间|发布日期|时间|出处|撰稿|供稿)\s*[:：]\s*(.+)$"
)
_CREDIT = re.compile(r"^(.{2,30}?)(供稿供图|供稿|供图)$")

FIELD_NAMES = {"來源": "来源", "編輯": "编辑", "责任编辑": "编辑", "責任編輯": "编辑", "關鍵詞": "关键词",
               "发布时间": "日期", "发布日期": "日期", "时间": "日期", "出处": "来源", "撰稿": "作者", "供稿": "来源"}
SHORT = 50  # characters: longer lines are body text, not titles, links or names


@dataclass(frozen=True)
class Line:
    start: int  # 1-based source line numbers, inclusive
    end: int
    text: str


@dataclass
class Cleaned:
    lines: list[Line]                                  # content lines, stripped, non-empty
    meta: dict[str, str] = field(default_factory=dict)
    meta_lines: tuple[int, int] | None = None         # source range the metadata came from
    removed: list[tuple[Line, str]] = field(default_factory=list)  # (line, rule name)


def is_person_name(text: str) -> bool:
    s = to_simplified(text.replace(" ", ""))
    if not 2 <= len(s) <= 4 or not all("\u4e00" <= c <= "\u9fff" for c in s):
        return False
    return [p.flag for p in jieba.posseg.cut(s)] == ["nr"]


def is_body(text: str) -> bool:
    return len(text) >= 40 or (len(text) > 0 and text[-1] in "。！？!?")


def drop_pinyin(text: str) -> str:
    return _PINYIN.sub("", text)


def split_glued_headings(line: Line) -> list[Line]:
    parts = _GLUED_HEADING.split(line.text)
    return [Line(line.start, line.end, p) for p in parts]


def join_wrapped(lines: list[Line]) -> list[Line]:
    """Join a long line that stops mid-sentence with the line right after it (no blank between)."""
    out: list[Line] = []
    for ln in lines:
        prev = out[-1] if out else None
        if (
            prev is not None
            and ln.text.strip()
            and prev.text.strip()
            and prev.end + 1 == ln.start
            and len(prev.text.strip()) >= 40
            and prev.text.rstrip()[-1] not in LINE_END
            and not _HEADING_START.match(ln.text.strip())
        ):
            out[-1] = Line(prev.start, ln.end, prev.text.rstrip() + ln.text.strip())
        else:
            out.append(ln)
    return out


def _parse_field(text: str) -> tuple[str, str] | None:
    m = _FIELD.match(text)
    if m:
        return FIELD_NAMES.get(m.group(1), m.group(1)), m.group(2).strip()
    m = _CREDIT.match(text)
    if m:
        return "来源", text.strip()  # keep the credit as written: it is what a reader can find in the file
    return None


def clean(text: str) -> Cleaned:
    raw = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\xa0", " ")
    lines = [Line(i, i, drop_pinyin(t.rstrip())) for i, t in enumerate(raw.split("\n"), 1)]
    out = Cleaned(lines=[])
    meta_rows: list[int] = []

    def add_meta(key: str, value: str, ln: Line) -> None:
        if value and key not in out.meta:
            out.meta[key] = value
        meta_rows.extend((ln.start, ln.end))

    # teaser-list: everything from the marker on, if the marker sits in the second half.
    for i, ln in enumerate(lines):
        if _TEASER_MARKER.match(ln.text.strip()) and i >= len(lines) // 2:
            out.removed += [(x, "teaser-list") for x in lines[i:] if x.text.strip()]
            lines = lines[:i]
            break

    kept: list[Line] = []
    for ln in lines:
        s = ln.text.strip()
        if not s:
            kept.append(Line(ln.start, ln.end, ""))
            continue
        if _SITE_NOTICE.search(s):
            # Portal stat lines still name the source: "来源 :发展 | 被引量 : 0次 | …"
            for part in re.split(r"[|｜]", s):
                f = _parse_field(part.strip())
                if f and f[0] in ("来源", "作者"):
                    add_meta(*f, ln)
            out.removed.append((ln, "site-notice"))
        elif _TIMESTAMP.match(s):
            out.removed.append((ln, "timestamp"))
        elif _BREADCRUMB.match(s):
            out.removed.append((ln, "breadcrumb"))
        elif len(s) <= 80 and _PHOTO_CREDIT.search(s):
            out.removed.append((ln, "photo-caption"))
        else:
            kept.append(ln)

    # footer: trailing short unpunctuated lines; metadata among them is kept as metadata.
    end = len(kept)
    while end > 0:
        s = kept[end - 1].text.strip()
        if s and (len(s) >= SHORT or s[-1] in "。！？!?"):
            break
        end -= 1
    for ln in kept[end:]:
        s = ln.text.strip()
        if not s:
            continue
        f = _parse_field(s)
        if f:
            add_meta(*f, ln)
            out.removed.append((ln, "field"))
        else:
            out.removed.append((ln, "footer"))
    kept = kept[:end]

    # header metadata: lines before the first body line.
    content = [i for i, ln in enumerate(kept) if ln.text.strip()]
    drop: set[int] = set()
    for pos, i in enumerate(content):
        s = kept[i].text.strip()
        if is_body(s):
            break
        nxt = kept[content[pos + 1]].text.strip() if pos + 1 < len(content) else ""
        rule = None
        f = _parse_field(s)
        if f:
            add_meta(*f, kept[i]); rule = "field"
        elif m := _DATE_LINE.match(s):
            add_meta("日期", m.group(1), kept[i]); rule = "date"
        elif is_person_name(s):
            add_meta("作者", s, kept[i]); rule = "author"
        elif m := _BRACKETED.match(s):
            add_meta("栏目", m.group(1).strip(), kept[i]); rule = "column"
        elif (
            pos == 0 and not _HEADING_START.match(s) and s[-1] not in SENTENCE_END
            # a heading sits right above its text; a title stands apart (blank or removed lines after it)
            and (not is_body(nxt) or kept[content[pos + 1]].start > kept[i].end + 1)
        ):
            add_meta("标题", s, kept[i]); rule = "title"
        if rule:
            drop.add(i)
            out.removed.append((kept[i], rule))
    kept = [ln for i, ln in enumerate(kept) if i not in drop]

    split: list[Line] = []
    for ln in kept:
        split.extend(split_glued_headings(ln))
    for ln in join_wrapped(split):
        if ln.text.strip():
            out.lines.append(Line(ln.start, ln.end, ln.text.strip()))
    if meta_rows:
        out.meta_lines = (min(meta_rows), max(meta_rows))
    return out
