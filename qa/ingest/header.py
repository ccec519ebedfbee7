"""Stage 2, metadata: the lines above and below a document's text that say what it is.

A 公文 prints its title, 发文字号, 主送机关 and dates in fixed places (GB/T 9704); laws, speeches, standards
and web pages have their own header lines. These rules move such lines into Document.meta (shown as the
document's first paragraph) and record each with its rule name, like the boilerplate rules of clean.py.
  title           the title line(s) at the top: a level-1 heading, or 1–3 short unpunctuated lines
                  (joined) not directly followed by body text; a 发文字号 glued to it is split off
  doc-number      发文字号 (国发〔2014〕43号; 〔〕 also written [] ﹝﹞ ［］ ())
  addressee       主送机关: the line ending in ：before the body whose items are organisations
  date            a date alone under the title (成文日期 for 公文, else 日期)
  occasion        「——2014年3月5日在第十二届全国人民代表大会第二次会议上」 → 日期 + 会议
  author, byline  a person's name alone (author) or after a position (byline: 国务院总理 李克强) → 作者, or 讲话人 when
                  the document has an occasion line
  promulgation    law header lines 「2007年4月5日 国务院令第492号公布」 → 沿革; 「… 施行」 → 施行日期
  cover           a standard's cover (qa/ingest/cover.py): 标准类别, 标准编号, 代替, 稿本, 标题, 英文名称, 发布日期,
                  施行日期, 发文机关署名; classification codes dropped
  column          a header line wholly in brackets (series or column name)
  field           "key：value" lines in the header or footer (来源, 作者, 编辑, 发布日期…)
  signature       发文机关署名 and 成文日期 (issuer line(s) above a date line at the end), 附件说明,
                  附注 「（此件公开发布）」, 抄送, 印发; without one at the end, a cover notice's issuer line(s)
                  and date between its last sentence and the document it issues (「关于印发…的通知」)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import jieba.posseg

from qa.ingest.cover import cover_fields, is_designation, is_publisher
from qa.ingest.lines import (
    DATE, DATE_LINE, DOC_NUMBER, HEADING_START, LAW_ARTICLE, LAW_DIVISION, LINE_END, LIST_ITEM, SENTENCE_END,
    URL_LINE, CN_NUM, Cleaned, Line,
)
from qa.text.normalize import to_simplified

_BRACKETED = re.compile(r"^[(（【](.+)[)）】]$")
_ORDER_NUMBER = re.compile(rf"^第\s*[{CN_NUM}\d]{{1,6}}\s*号$")
_DOC_NUMBER_LINE = re.compile(rf"^[(（]?\s*({DOC_NUMBER})\s*[)）]?$")
_TITLE_WITH_NUMBER = re.compile(rf"^(.{{4,}}?)\s*[(（]?\s*({DOC_NUMBER})\s*[)）]?$")
_OCCASION = re.compile(rf"^[—－\-–]*\s*[(（]?\s*({DATE})\s*在(.{{4,60}}?)上(?:的(?:讲话|报告)|作)?\s*[)）]?$")
_OCCASION_START = re.compile(rf"^[—－\-–]*\s*[(（]?\s*{DATE}\s*在")   # an occasion line broken before its meeting
_PROMULGATION = re.compile(rf"^[(（]?\s*({DATE})\s*(.{{0,80}}?)(通过|公布|发布|修订|修正|施行|实施|批准|印发)\s*[)）]?$")
_FIELD = re.compile(r"^([\u4e00-\u9fff](?:[\u4e00-\u9fff\u3000 ]{0,6}[\u4e00-\u9fff]))\s*[:：]\s*(\S.{0,80})$")
_CREDIT = re.compile(r"^(.{2,30}?)(?:供稿|供图){1,2}$")
_ADDRESSEE = re.compile(r"^(.{2,120}?)[:：]$")
_ATTACHMENT = re.compile(r"^附\s*件\s*[:：]?\s*(.*)$")
_CC = re.compile(r"^(抄\s*送|抄\s*报)\s*[:：]\s*(.+)$")
_ISSUED = re.compile(rf"^(.{{2,40}}?)\s*({DATE})\s*印发$")
_NOTE = re.compile(r"^[(（](此件.{1,20}|.{1,20}公开.{0,10})[)）]$")
# A government page's info box opens with section labels (「政策解读」, 「基本信息」) over its fields.
_BOX_LABEL = re.compile(r"[\u4e00-\u9fff]{2,6}")
# A document portal's reading prompts above the text (下载到本地, 更方便阅读, 全文阅读): short parts that each
# offer to download or read; only in the header, where a title-like line with these verbs is not text.
_READ_PROMPT_PART = re.compile(r"^\S{0,6}(?:下载|阅读)\S{0,6}$")

# Last characters of organisation names (省/部/委/厅/局/院/政府/机构/单位…): a 主送机关 lists organisations,
# a salutation (各位代表：, 同志们：) addresses people.
ORG_END = set("府部委厅局院办室构位关司署行会所处心社团组队站校省区市县镇乡村州盟旗军")
# The document types of the 党政机关公文处理工作条例 (a 公文's title ends with one of them).
GONGWEN_TYPES = ("决议", "决定", "命令", "令", "公报", "公告", "通告", "意见", "通知", "通报", "报告", "请示", "批复",
                 "议案", "函", "纪要", "办法", "规定", "条例", "细则", "方案", "规划")

FIELD_NAMES = {"责任编辑": "编辑", "发布时间": "发布日期", "时间": "日期", "出处": "来源", "撰稿": "作者",
               "供稿": "来源", "文号": "发文字号", "发文机关": "发文机关署名", "标题": "标题"}
SHORT = 50  # characters: longer lines are body text, not titles, links or names
MAX_TITLE_LINES = 3  # a title is set on one to three lines (GB/T 9704: 标题 may be split over lines)


def is_person_name(text: str) -> bool:
    s = to_simplified(text.replace(" ", "").replace("\u3000", ""))
    if not 2 <= len(s) <= 4 or not all("\u4e00" <= c <= "\u9fff" for c in s):
        return False
    return [p.flag for p in jieba.posseg.cut(s)] == ["nr"]


def is_body(text: str) -> bool:
    return len(text) >= 40 or (len(text) > 0 and text[-1] in "。！？!?")


def is_gongwen_title(title: str) -> bool:
    return title.rstrip("》>）)").endswith(GONGWEN_TYPES)


def field_key(key: str) -> str:
    key = to_simplified(re.sub(r"[\s\u3000]", "", key))
    return FIELD_NAMES.get(key, key)


def parse_field(text: str) -> tuple[str, str] | None:
    m = _FIELD.match(text)
    if m and m.group(2)[-1] not in "。！？!?；;，,":
        return field_key(m.group(1)), m.group(2).strip()
    m = _CREDIT.match(text)
    if m:
        return "来源", text.strip()  # keep the credit as written: it is what a reader can find in the file
    return None


def _is_read_prompt(text: str) -> bool:
    parts = [x for x in re.split(r"[,，、\s]+", text) if x]
    return len(text) <= 20 and bool(parts) and all(_READ_PROMPT_PART.match(x) for x in parts)


def _addressee(text: str) -> str | None:
    """The 主送机关 of a 公文 (organisations listed before a colon), or None for a salutation."""
    m = _ADDRESSEE.match(text)
    if not m or HEADING_START.match(text) or LAW_ARTICLE.match(text):
        return None
    items = [re.sub(r"[(（][^)）]*[)）]$", "", x.strip()) for x in re.split(r"[、，,；;\s]+", m.group(1)) if x.strip()]
    if items and all(x and x[-1] in ORG_END for x in items):
        return m.group(1).strip()
    return None


def byline(text: str) -> str | None:
    """「国务院总理　李克强」: a position followed by a person's name."""
    m = re.match(r"^(\S.{1,24}?)[\s\u3000]+([\u4e00-\u9fff·]{2,4})$", text)
    if m and not any(c in m.group(1) for c in SENTENCE_END + "，,、") and is_person_name(m.group(2)):
        return _one_space(m.group(1)) + " " + m.group(2)
    return None


def _one_space(text: str) -> str:
    return re.sub(r"[\s\u3000]+", " ", text).strip()


def _date_only(text: str) -> str | None:
    m = DATE_LINE.match(text)
    return re.sub(r"\s+", "", m.group(1)) if m else None


def _title_shaped(text: str) -> bool:
    return (
        len(text) <= SHORT and text[-1] not in SENTENCE_END
        and not HEADING_START.match(text) and not LAW_DIVISION.match(text) and not LAW_ARTICLE.match(text)
        and not DATE_LINE.match(text) and not _BRACKETED.match(text) and not _DOC_NUMBER_LINE.match(text)
        and parse_field(text) is None and not is_person_name(text) and byline(text) is None
        and not _OCCASION.match(text) and not _PROMULGATION.match(text) and not _ORDER_NUMBER.match(text)
        and not LIST_ITEM.match(text) and not URL_LINE.match(text) and not _is_read_prompt(text)
    )


def _join_title(parts: list[str]) -> str:
    out = parts[0]
    for p in parts[1:]:
        sep = " " if (out[-1].isascii() and out[-1].isalnum() and p[0].isascii() and p[0].isalnum()) else ""
        out += sep + p
    return re.sub(r"[\s\u3000]+", " ", out).strip()


@dataclass
class Taker:
    """What the metadata rules take from the kept lines: fields into out.meta, the lines they came from."""
    out: Cleaned
    drop: set[int] = field(default_factory=set)     # indexes of kept lines taken
    rows: list[int] = field(default_factory=list)   # source line numbers the metadata came from

    def meta(self, key: str, value: str, ln: Line) -> None:
        value = re.sub(r"[\s\u3000]+", " ", value).strip()
        if value and key not in self.out.meta:
            self.out.meta[key] = value
        elif value and key in ("沿革",) and value not in self.out.meta[key]:
            self.out.meta[key] += "；" + value
        self.rows.extend((ln.start, ln.end))

    def take(self, i: int, ln: Line, rule: str) -> None:
        self.drop.add(i)
        self.out.removed.append((ln, rule))


def take_signature(t: Taker, kept: list[Line], content: list[int]) -> None:
    """The signature block at the end: 附件说明, 发文机关署名 + 成文日期, 附注, 抄送, 印发; without one, the
    signature of a cover notice above the document it issues (_cover_signature)."""
    last_body = max((i for i in content if is_body(kept[i].text) and kept[i].text[-1] in LINE_END
                     or len(kept[i].text) >= SHORT), default=-1)
    tail = [i for i in content if i > last_body and not kept[i].table]
    sig: dict[int, tuple[str, str]] = {}
    for n, i in enumerate(tail):
        s = kept[i].text
        if d := _date_only(s):
            sig[i] = ("成文日期", d)
            # issuer: the 1–2 short lines right above the date (several issuers may share a line)
            for j in reversed(tail[max(0, n - 2):n]):
                if j in sig or not _issuer_line(kept[j].text):
                    break
                sig[j] = ("发文机关署名", kept[j].text)
        elif m := re.match(rf"^(\S.{{1,40}}?)[\s\u3000]+({DATE})$", s):
            sig[i] = ("发文机关署名+成文日期", f"{m.group(1)}\x00{m.group(2)}")
        elif m := _ISSUED.match(s):
            sig[i] = ("印发", s)
        elif m := _CC.match(s):
            sig[i] = ("抄送", m.group(2))
        elif _NOTE.match(s):
            sig[i] = ("附注", s)
        elif (m := _ATTACHMENT.match(s)) and (m.group(1) or n + 1 < len(tail)):
            sig[i] = ("附件说明", m.group(1))
    for i in tail if last_body >= 0 else ():
        if i not in sig and not kept[i].table and (f := parse_field(kept[i].text)) is not None:
            sig[i] = ("field", f)
    if any(k.startswith(("成文日期", "发文机关署名")) for k, _ in sig.values()):
        issuers = [v for i, (k, v) in sorted(sig.items()) if k == "发文机关署名"]
        for i, (k, v) in sorted(sig.items()):
            if k == "发文机关署名+成文日期":
                org, date = v.split("\x00")
                t.meta("发文机关署名", org, kept[i])
                t.meta("成文日期", re.sub(r"\s+", "", date), kept[i])
            elif k == "发文机关署名":
                t.meta(k, "、".join(issuers), kept[i])
            elif k == "field":
                t.meta(*v, kept[i])
            else:
                t.meta(k, v, kept[i])
            t.take(i, kept[i], "field" if k == "field" else "signature")
    else:
        for i, (k, v) in sorted(sig.items()):
            if k in ("印发", "抄送", "field"):
                t.meta(*(v if k == "field" else (k, v)), kept[i])
                t.take(i, kept[i], "field" if k == "field" else "signature")
        if cover := _cover_signature(kept, content):
            *issuers, date = cover
            t.meta("发文机关署名", "、".join(kept[j].text for j in issuers), kept[issuers[0]])
            t.meta("成文日期", _date_only(kept[date].text), kept[date])
            for j in cover:
                t.take(j, kept[j], "signature")


def _issuer_line(text: str) -> bool:
    """A line of a signature's issuers above its date: short, ending in an organisation's last
    character, neither a list item nor a field."""
    return len(text) <= 40 and text[-1] in ORG_END and not LIST_ITEM.match(text) and parse_field(text) is None


def _cover_signature(kept: list[Line], content: list[int]) -> list[int] | None:
    """The signature of a cover notice above what it issues (「关于印发…的通知」 and the 办法 after it):
    1–2 issuer lines and a date alone, between the notice's last sentence and a heading, an 附件 line or
    the issued document's title, before any heading or article (the notice comes first). Indexes of
    the issuer lines and the date, or None."""
    for n, i in enumerate(content[:-1]):
        if (kept[i].level and n) or LAW_ARTICLE.match(kept[i].text) or LAW_DIVISION.match(kept[i].text):
            return None   # past the notice (a heading other than the title at the top, an article)
        if not _date_only(kept[i].text) or kept[i].table:
            continue
        after = kept[content[n + 1]]
        if not (after.level or _ATTACHMENT.match(after.text) or _title_shaped(after.text)):
            continue
        issuers: list[int] = []
        for j in reversed(content[max(0, n - 2):n]):
            if kept[j].level or kept[j].table or not _issuer_line(kept[j].text):
                break
            issuers.insert(0, j)
        first = n - len(issuers)
        if issuers and first > 0 and kept[content[first - 1]].text[-1] in "。！？!?":
            return issuers + [i]
    return None


def take_header(t: Taker, kept: list[Line], content: list[int]) -> None:
    """Header metadata: lines from the top until the first that is neither metadata nor title."""
    content = [i for i in content if i not in t.drop]

    def occasion_at(pos: int) -> tuple[re.Match | None, int]:
        """The occasion line at content[pos] and how many lines it takes: a centred occasion line is
        often broken before its meeting (「——2026年1月28日在宣城市」 / 「第五届人民代表大会第五次会议上」)."""
        s = kept[content[pos]].text
        if m := _OCCASION.match(s):
            return m, 1
        if pos + 1 < len(content) and DATE_LINE.match(s) is None and _OCCASION_START.match(s):
            nxt = kept[content[pos + 1]]
            if nxt.start == kept[content[pos]].end + 1 and (m := _OCCASION.match(s + nxt.text.strip())):
                return m, 2
        return None, 0

    occasion = any(occasion_at(p)[0] for p in range(min(8, len(content))))

    def fields_follow(pos: int) -> bool:
        """Whether a field or the 发文字号 comes within the next two lines (past one more label)."""
        for k in (1, 2):
            if pos + k >= len(content):
                return False
            nxt = kept[content[pos + k]].text
            if parse_field(nxt) is not None or _DOC_NUMBER_LINE.match(nxt):
                return True
            if not _BOX_LABEL.fullmatch(nxt):
                return False
        return False

    def take_title(pos: int) -> int:
        """Title lines from content[pos]: a level-1 heading, or 1–3 title-shaped lines not directly
        followed by body text (that line heads the body instead). Returns how many lines were taken."""
        first = kept[content[pos]]
        if first.level == 1:
            parts = [content[pos]]
            # a web page's <title> is 「document_site」 or 「document | site」: keep the document
            segs = [x.strip() for x in re.split(r"_+|\s*[|｜]\s*|\s[-–]\s|(?<=[\u4e00-\u9fff])-(?=[\u4e00-\u9fff])",
                                                first.text) if x.strip()]
            if len(segs) > 1 and len(segs[0]) >= 4:
                t.meta("标题", segs[0], first)
        elif first.level:
            return 0
        else:
            parts = []
            while pos + len(parts) < len(content) and len(parts) < MAX_TITLE_LINES:
                i = content[pos + len(parts)]
                if kept[i].level or not _title_shaped(kept[i].text) or (
                        parts and kept[i].start > kept[parts[-1]].end + 1):
                    break
                parts.append(i)
            while parts:
                nxt_pos = pos + len(parts)
                nxt = kept[content[nxt_pos]] if nxt_pos < len(content) else None
                if nxt is not None and is_body(nxt.text) and nxt.start == kept[parts[-1]].end + 1 \
                        and not _addressee(nxt.text) and not LAW_ARTICLE.match(nxt.text):
                    parts.pop()
                else:
                    break
        if not parts:
            return 0
        title = _join_title([kept[i].text for i in parts])
        if m := _TITLE_WITH_NUMBER.match(title):  # 「…的意见国发〔2014〕43号」 set as one line
            title = m.group(1)
            t.meta("发文字号", m.group(2), kept[parts[0]])
        t.meta("标题", title, kept[parts[0]])
        for i in parts:
            t.take(i, kept[i], "title")
        return len(parts)

    # a standard's cover: its lines are fields until the body; the title comes after the designation
    cover = any(is_designation(kept[i].text) for i in content[:8])
    designated = False
    publishers: list[str] = []   # 「中华人民共和国国家质量监督检验检疫总局」 over 「中国国家标准化管理委员会发布」
    pos = 0
    while pos < len(content):
        i = content[pos]
        ln = kept[i]
        s = ln.text
        if cover and designated and "标题" not in t.out.meta:
            # the title: the Chinese lines after the designation, up to the English title or the dates
            parts = []
            while pos + len(parts) < len(content) and len(parts) < MAX_TITLE_LINES:
                line = kept[content[pos + len(parts)]].text.strip()
                if cover_fields(line, designated) is not None or not re.search(r"[\u4e00-\u9fff]", line) \
                        or len(line) > SHORT:
                    break
                parts.append(content[pos + len(parts)])
            if parts:
                t.meta("标题", _join_title([kept[j].text for j in parts]), kept[parts[0]])
                for j in parts:
                    t.take(j, kept[j], "title")
                pos += len(parts)
                continue
        if cover and (fields := cover_fields(s, designated)) is not None:
            for key, value in fields:
                if key == "标准编号":
                    designated = True
                if key == "发文机关署名":
                    value = "、".join(publishers + [value])
                    publishers.clear()
                t.meta(key, value, ln)
            if not fields:
                t.rows.extend((ln.start, ln.end))
            t.take(i, ln, "cover")
            pos += 1
            continue
        if cover and "标题" in t.out.meta and s.strip() and s.strip()[-1] in ORG_END and len(s) <= 40 \
                and pos + 1 < len(content) and is_publisher(kept[content[pos + 1]].text):
            publishers.append(s.strip())
            t.take(i, ln, "cover")
            pos += 1
            continue
        if "标题" not in t.out.meta and (designated or not cover) and (taken := take_title(pos)):
            pos += taken
            continue
        if ln.level or ln.table:
            break
        gongwen = is_gongwen_title(t.out.meta.get("标题", ""))
        rule = None
        if _is_read_prompt(s):
            t.take(i, ln, "widget")
            pos += 1
            continue
        if m := _DOC_NUMBER_LINE.match(s):
            t.meta("发文字号", m.group(1), ln); rule = "doc-number"
        elif "标题" in t.out.meta and _ORDER_NUMBER.match(s):
            t.meta("发文字号", s, ln); rule = "doc-number"  # 令号 under 「中华人民共和国国务院令」
        elif (om := occasion_at(pos))[0]:
            m, taken = om
            t.meta("日期", re.sub(r"\s+", "", m.group(1)), ln)
            t.meta("会议", m.group(2).strip(), ln); rule = "occasion"
            if taken == 2:   # the meeting's half of a broken occasion line goes with it
                nxt = kept[content[pos + 1]]
                t.take(content[pos + 1], nxt, rule)
                t.rows.extend((nxt.start, nxt.end))
                pos += 1
        elif d := _date_only(s):
            t.meta("成文日期" if gongwen else "日期", d, ln); rule = "date"
        elif m := _PROMULGATION.match(s):
            if m.group(3) in ("施行", "实施") and not m.group(2).strip():
                t.meta("施行日期", re.sub(r"\s+", "", m.group(1)), ln)
            else:
                t.meta("沿革", s.strip("()（）"), ln)
            rule = "promulgation"
        elif (f := parse_field(s)) is not None:
            t.meta(*f, ln); rule = "field"
        elif is_person_name(s):
            t.meta("讲话人" if occasion else "作者", re.sub(r"[\s\u3000]+", "", s), ln); rule = "author"
        elif (b := byline(s)) is not None:
            t.meta("讲话人" if occasion else "作者", b, ln); rule = "byline"
        elif (m := _BRACKETED.match(s)) and len(s) <= SHORT:
            t.meta("栏目", m.group(1).strip(), ln); rule = "column"
        elif (a := _addressee(s)) is not None:
            t.meta("主送机关", a, ln)
            t.take(i, ln, "addressee")
            break  # the body starts after the 主送机关
        elif _BOX_LABEL.fullmatch(s) and fields_follow(pos):
            rule = "widget"
        else:
            break
        t.take(i, ln, rule)
        pos += 1
