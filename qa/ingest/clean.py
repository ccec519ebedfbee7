"""Stage 2: remove site and database boilerplate, keep document metadata, repair scraping damage.

Every rule keys on the *shape* of a line (a URL alone, a breadcrumb, a copyright or ICP notice, a
date line under a title, a 发文字号, an issuer above a date at the end), never on a particular
document. Each rule has a name, recorded with every line it removes, so the kept-text report (and
a curious user) can see why a line went. docs/formats.md lists which documents test each rule.

Markup: the loaders give each line's heading level and table mark (qa/ingest/load_*.py; Markdown
comments, emphasis and table syntax never reach this stage); a level-1 heading at the very top is
the document title.
Boilerplate rules (lines removed):
  url             a line that is only a URL, optionally labelled (原文链接：https://…), or a URL and a page counter
  citation-code   a database citation code (【法宝引证码】CLI.2.331159, 引证码：CLI.1.xxx)
  widget          print/close/share/font-size widgets (【打印】【关闭】, 字号：大 中 小, 扫一扫…); in the header,
                  a portal's download/read prompts (下载到本地 , 更方便阅读)
  copyright       copyright, ICP and site-registration lines (版权所有, 京ICP备…, 网站标识码…)
  page-info       a line of several 「key：value」 page fields (发布时间：… 来源：… 浏览次数：…);
                  document fields in it (来源, 作者, 日期) are kept as metadata, counters dropped
  page-number     a page counter alone (3/3, 第 2 页 共 5 页, - 4 -)
  running-header  plain text saved from a PDF: a short line recurring on every page (a running header or
                  footer, RUNNING_MIN times or more) and the bare page number beside it
  teaser-list     from a "其他文献 / 相关稿件 / 推荐阅读…" marker in the second half to the end
  timestamp       a scrape or browser-print timestamp, alone or followed by the page title
  breadcrumb      site navigation such as "首页>今日要论", "当前位置：首页 > …"
  photo-caption   a short line ending with a photo credit such as "…。新华社发"
  footer          a trailing run (3+ lines) of short, unpunctuated, unnumbered lines after the last
                  sentence (related links, name lists), minus the metadata lines inside it
Metadata rules (lines moved into Document.meta, shown as the document's first paragraph):
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
                  附注 「（此件公开发布）」, 抄送, 印发
Repairs:
  pinyin         drop romanization glued after a character: 鄉(xiāng) → 鄉
  letter-spacing join a letter-spaced line: 「机 动 车 登 记 规 定」 → 「机动车登记规定」
  glued-heading  a heading marker after a sentence end and 2+ spaces starts a new line
  wrapped-line   a long line cut off mid-sentence is joined with the next line (plain text only:
                 the blocks of other formats are paragraphs already); long is 40 characters, or 90%
                 of the width of a file wrapped at a narrower column (wrap_length)
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import jieba.posseg

from qa.text.normalize import strip_controls, to_simplified
from qa.ingest.chrome import FONT_SIZES, WIDGET_WORDS
from qa.ingest.cover import cover_fields, is_designation, is_publisher

SENTENCE_END = "。！？!?；;：:"
# A line ending in any of these is complete; without one, a long line was cut mid-sentence.
LINE_END = SENTENCE_END + "…”\"」』）)】》"

CN_NUM = "一二三四五六七八九十百千零〇两"
HEADING_MARKER = (
    r"(?:[(（][一二三四五六七八九十]{1,3}[)）]|[一二三四五六七八九十]{1,3}、"
    r"|[(（]\d{1,2}[)）]|\d{1,2}[.．、](?!\d)|第[一二三四五六七八九十]{1,3}[,，、])"
)
_HEADING_START = re.compile(HEADING_MARKER)
# Law divisions (第一编/第二章/第三节) and articles (第十八条): laws and regulations of every kind.
LAW_DIVISION = re.compile(rf"^第[{CN_NUM}\d]{{1,5}}(编|分编|章|节)(?:[\s\u3000]+|$)")
LAW_ARTICLE = re.compile(rf"^第([{CN_NUM}\d]{{1,6}})条(?:[\s\u3000]+|(?=[【\u4e00-\u9fff（(]))")
# A list item: bullets, numbered items, circled numbers. Never page furniture.
LIST_ITEM = re.compile(r"^(?:[-*+•·▪●○■□]\s|\d{1,2}[.、)）]|[(（][一二三四五六七八九十\d]{1,3}[)）]|[①-⑳])")

_PINYIN = re.compile(
    r"(?<=[\u3400-\u9fff])[(（]([a-zü]*[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ][a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]*)[)）]"
)
_GLUED_HEADING = re.compile(r"(?<=[。！？!?；;])[ \t\u3000]{2,}(?=" + HEADING_MARKER + ")")

# --- boilerplate shapes -------------------------------------------------------------------------
_URL = r"(?:https?://|www\.)[^\s\u4e00-\u9fff]+"
_URL_LINE = re.compile(rf"^(?:[【\[]?[\u4e00-\u9fff]{{1,8}}[】\]]?\s*[:：]?\s*)?{_URL}(?:\s+\d+\s*/\s*\d+)?$")
_CITATION_CODE = re.compile(
    r"^(?:【[^】]{1,12}】|[\u4e00-\u9fff]{1,10}码\s*[:：])\s*[A-Za-z]{2,}[A-Za-z0-9]*(?:[.\-/][A-Za-z0-9]+)+$"
)
_WIDGET_PUNCT = re.compile(r"[\s\[\]【】()（）|｜:：,，、/>＞]")
# A document portal's reading prompts above the text (下载到本地, 更方便阅读, 全文阅读): short parts that each
# offer to download or read; only in the header, where a title-like line with these verbs is not text.
_READ_PROMPT_PART = re.compile(r"^\S{0,6}(?:下载|阅读)\S{0,6}$")
_COPYRIGHT = re.compile(
    r"版权(?:所有|归属|声明|争议|与免责)|Copyright|©|ICP备|ICP证|公网安备|网站标识码", re.I
)
_SITE_KEY = re.compile(r"主办|承办|运行|维护|技术支持|域名|版权|备案")
_PAGE_NUMBER = re.compile(r"^(?:\d{1,4}\s*/\s*\d{1,4}|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|[-—－]\s*\d{1,4}\s*[-—－])$")
_PAIR = re.compile(r"([\u4e00-\u9fff]{2,6})\s*[:：]\s*([^:：|｜]*?)(?=\s*(?:[|｜]|\s[\u4e00-\u9fff]{2,6}\s*[:：]|$))")
_TEASER_MARKER = re.compile(r"^(其他|相关|推荐|延伸|更多|热门)(文献|阅读|文章|新闻|链接|稿件|报道|推荐)$|^猜你喜欢$")
_DATED_TEASER = re.compile(r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)\s*$")
# A government page's info box opens with section labels (「政策解读」, 「基本信息」) over its fields.
_BOX_LABEL = re.compile(r"[\u4e00-\u9fff]{2,6}")
_TIMESTAMP = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s+\d{1,2}:\d{2}(:\d{2})?(\s+[^。！？!?]{0,100})?$")
_BREADCRUMB = re.compile(r"^(首页|主页|[\u4e00-\u9fff]{0,6}位置\s*[:：])\s*[>＞»›]?.*[>＞»›]")   # 「您当前所在的位置：首页 > …」
_PHOTO_CREDIT = re.compile(
    r"[\u4e00-\u9fff]{1,6}(社|网|报)\s*(记者\s*\S{2,4}\s*)?(发|摄)$|(记者|通讯员)\s*\S{2,4}\s*摄$"
)

# --- metadata shapes ----------------------------------------------------------------------------
DATE = rf"(?:\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*日|[{CN_NUM}○Ｏ]{{4}}年[{CN_NUM}]{{1,3}}月[{CN_NUM}]{{1,3}}日)"
DATE_LINE = re.compile(rf"^[(（]?\s*({DATE})\s*[)）]?$")
_BRACKETED = re.compile(r"^[(（【](.+)[)）】]$")
# 发文字号: issuer code, year in brackets of any of the forms people type, serial number.
YEAR_OPEN, YEAR_CLOSE = "〔\\[［﹝【(（", "〕\\]］﹞】)）"   # the brackets around its year
DOC_NUMBER = rf"[\u4e00-\u9fff]{{1,12}}\s*[{YEAR_OPEN}]\s*\d{{4}}\s*[{YEAR_CLOSE}]\s*第?\s*\d{{1,5}}\s*号"
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

# Rules whose lines move into metadata (kept), the rest drop text (listed in the kept-text report).
META_RULES = frozenset({"title", "doc-number", "addressee", "date", "occasion", "byline", "author",
                        "promulgation", "column", "field", "signature"})


@dataclass(frozen=True)
class Line:
    start: int  # 1-based source line numbers, inclusive
    end: int
    text: str
    level: int = 0       # heading level given by the format (Markdown #, docx/html heading), else 0
    table: bool = False  # a table row


@dataclass
class Cleaned:
    lines: list[Line]                                  # content lines, stripped, non-empty
    meta: dict[str, str] = field(default_factory=dict)
    meta_lines: tuple[int, int] | None = None         # source range the metadata came from
    removed: list[tuple[Line, str]] = field(default_factory=list)  # (line, rule name)
    total_chars: int = 0                               # non-space characters of the source text

    def dropped(self) -> dict[str, list[str]]:
        """Lines whose text left the document (not moved into metadata), by rule."""
        out: dict[str, list[str]] = {}
        for ln, rule in self.removed:
            if rule not in META_RULES and ln.text.strip():
                out.setdefault(rule, []).append(ln.text.strip())
        return out


def chars(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def is_person_name(text: str) -> bool:
    s = to_simplified(text.replace(" ", "").replace("\u3000", ""))
    if not 2 <= len(s) <= 4 or not all("\u4e00" <= c <= "\u9fff" for c in s):
        return False
    return [p.flag for p in jieba.posseg.cut(s)] == ["nr"]


def is_body(text: str) -> bool:
    return len(text) >= 40 or (len(text) > 0 and text[-1] in "。！？!?")


def is_gongwen_title(title: str) -> bool:
    return title.rstrip("》>）)").endswith(GONGWEN_TYPES)


def drop_pinyin(text: str) -> str:
    return _PINYIN.sub("", text)


# Characters of Chinese text (ideographs and full-width punctuation), and the gap letter-spacing puts
# between two of them.
_HAN = "\u4e00-\u9fff\u3001-\u303f\uff01-\uff0f\uff1a-\uff20"
_HAN_GAP = re.compile(rf"(?<=[{_HAN}])[ \u3000]{{1,3}}(?=[{_HAN}])")
LETTER_SPACED_GAPS = 3   # a line needs this many letter-spacing gaps: two (「现行 建议」) are words apart


def join_letter_spaced(text: str) -> str:
    """A letter-spaced line as written (「机 动 车 登 记 规 定」, 「行 政 院施 政 報 告」, 「2023 年 末 ， 全 国
    民 营 企 业」: PDF covers and text converted from PDF): a gap is letter-spacing when a single character
    stands on one side of it; with LETTER_SPACED_GAPS or more such gaps the line's gaps between Chinese
    characters go. Words set apart (「第一章 总则」, 「现行 建议/新增」) have no single character."""
    def single(i: int) -> bool:   # text[i] stands alone: a gap or the line's end on both sides
        return (i == 0 or text[i - 1] in " \u3000") and (i + 1 == len(text) or text[i + 1] in " \u3000")

    gaps = [m for m in _HAN_GAP.finditer(text) if single(m.start() - 1) or single(m.end())]
    if len(gaps) < LETTER_SPACED_GAPS:
        return text
    return _HAN_GAP.sub("", text)


def split_glued_headings(line: Line) -> list[Line]:
    parts = _GLUED_HEADING.split(line.text)
    return [Line(line.start, line.end, p, line.level, line.table) for p in parts]


# A plain-text line this long that stops mid-sentence was wrapped; a file cut at a narrower width (a
# PDF's column dumped to text) is judged by its own width: 90% of the length most of its lines reach.
WRAP_MIN_CHARS = 40
NARROW_COLUMN_MIN = 20   # shorter "widths" are lists of names or numbers, not a column of text


def wrap_length(lines: list[Line]) -> int:
    """How long a line must be to count as wrapped when it stops mid-sentence: WRAP_MIN_CHARS, or
    less in a file hard-wrapped at a narrower column (its 90th-percentile line length)."""
    lengths = sorted(len(ln.text.strip()) for ln in lines if ln.text.strip())
    if not lengths:
        return WRAP_MIN_CHARS
    width = lengths[int(len(lengths) * 0.9)]
    if NARROW_COLUMN_MIN <= width and width * 0.9 < WRAP_MIN_CHARS:
        return max(NARROW_COLUMN_MIN, int(width * 0.9))
    return WRAP_MIN_CHARS


# A PDF saved as text repeats its running header or footer on every page (the report's title, 「立法會
# ─ 2013年 2月 21日」) and prints the page number beside it: such a line recurs, a paragraph does not.
RUNNING_MIN = 3
_BARE_NUMBER = re.compile(r"^\d{1,4}$")


def running_lines(lines: list[Line]) -> set[int]:
    """Indexes of a plain-text file's running headers and footers: a short line (6–40 characters, no
    sentence end, not a heading, article or list item) written RUNNING_MIN times or more, and a bare
    page number right before or after one of them."""
    def key(text: str) -> str:
        return re.sub(r"[\s\u3000]+", "", text)

    counts: dict[str, int] = {}
    for ln in lines:
        k = key(ln.text)
        counts[k] = counts.get(k, 0) + 1
    heads = {k for k, n in counts.items() if n >= RUNNING_MIN and 6 <= len(k) <= 40 and k[-1] not in LINE_END
             and not (_HEADING_START.match(k) or LAW_ARTICLE.match(k) or LAW_DIVISION.match(k) or LIST_ITEM.match(k))}
    if not heads:
        return set()
    found = {i for i, ln in enumerate(lines) if key(ln.text) in heads}
    filled = [i for i, ln in enumerate(lines) if ln.text.strip()]
    for a, b in zip(filled, filled[1:]):
        if a in found and _BARE_NUMBER.match(key(lines[b].text)):
            found.add(b)
        elif b in found and _BARE_NUMBER.match(key(lines[a].text)):
            found.add(a)
    return found


def join_wrapped(lines: list[Line]) -> list[Line]:
    """Join a long line that stops mid-sentence with the line right after it (no blank between)."""
    out: list[Line] = []
    min_len = wrap_length(lines)
    for ln in lines:
        prev = out[-1] if out else None
        if (
            prev is not None
            and ln.text.strip()
            and prev.text.strip()
            and prev.end + 1 == ln.start
            and not prev.level and not ln.level and not prev.table and not ln.table
            and len(prev.text.strip()) >= min_len
            and prev.text.rstrip()[-1] not in LINE_END
            and not _HEADING_START.match(ln.text.strip())
            and not LAW_ARTICLE.match(ln.text.strip()) and not LAW_DIVISION.match(ln.text.strip())
        ):
            out[-1] = Line(prev.start, ln.end, prev.text.rstrip() + ln.text.strip())
        else:
            out.append(ln)
    return out


def _field_key(key: str) -> str:
    key = to_simplified(re.sub(r"[\s\u3000]", "", key))
    return FIELD_NAMES.get(key, key)


def _parse_field(text: str) -> tuple[str, str] | None:
    m = _FIELD.match(text)
    if m and m.group(2)[-1] not in "。！？!?；;，,":
        return _field_key(m.group(1)), m.group(2).strip()
    m = _CREDIT.match(text)
    if m:
        return "来源", text.strip()  # keep the credit as written: it is what a reader can find in the file
    return None


# The labels of a government site's document info table (gov.cn and the provinces' copies of it). A
# printed page or its OCR glues a cell to the next label (「发文机关：国务院办公厅成文日期：2024年12月22日」).
_INFO_LABELS = r"索引号|主题分类|发文机关|成文日期|发文字号|发布日期|主送机关"
_INFO_LABEL = re.compile(rf"(?<=[^\s|｜])(?=(?:{_INFO_LABELS})\s*[:：])")     # a label glued to the cell before it
# Labels counted toward the two: 标题 too, though it is not split off (副标题, 小标题 end in it).
_INFO_LABEL_ANY = re.compile(rf"(?:{_INFO_LABELS}|标\s*题)\s*[:：]")


def _unglued(text: str) -> str:
    """A line holding two or more info-table labels, with a space before each label glued to the cell
    before it."""
    if len(_INFO_LABEL_ANY.findall(text)) < 2:
        return text
    return _INFO_LABEL.sub(" ", text)


def _page_fields(text: str) -> list[tuple[str, str]] | None:
    """Several 「key：value」 pairs on one line (a page's info bar), or None."""
    pairs = [(k, v.strip()) for k, v in _PAIR.findall(_unglued(text))]
    if len(pairs) < 2 or any(c in text for c in "。！？!?；"):
        return None
    return pairs


def _is_document_value(value: str) -> bool:
    """A field value that describes the document (a name, a date), not a page counter or a user id."""
    if re.fullmatch(r"[\d,.]+\s*\S?", value):  # a counter: 0次, 1234
        return False
    return not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.]*", value)  # a user id: yangmx198808


def _is_widget(text: str) -> bool:
    """Toolbar words and their brackets/separators only (≤ 2 other characters), or separators alone."""
    if _HEADING_START.match(text) or LIST_ITEM.match(text):
        return False  # 「一、」 or 「（二）」 alone on a line is a heading marker, not a widget
    bare = _WIDGET_PUNCT.sub("", text)
    if not bare or FONT_SIZES.fullmatch(bare):
        return True
    rest = _WIDGET_PUNCT.sub("", WIDGET_WORDS.sub("", text))
    if re.search(r"字号|字体", text):
        rest = FONT_SIZES.sub("", rest)
    return len(rest) <= 2 and bool(WIDGET_WORDS.search(text))


def _is_read_prompt(text: str) -> bool:
    parts = [x for x in re.split(r"[,，、\s]+", text) if x]
    return len(text) <= 20 and bool(parts) and all(_READ_PROMPT_PART.match(x) for x in parts)


def _addressee(text: str) -> str | None:
    """The 主送机关 of a 公文 (organisations listed before a colon), or None for a salutation."""
    m = _ADDRESSEE.match(text)
    if not m or _HEADING_START.match(text) or LAW_ARTICLE.match(text):
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
        and not _HEADING_START.match(text) and not LAW_DIVISION.match(text) and not LAW_ARTICLE.match(text)
        and not DATE_LINE.match(text) and not _BRACKETED.match(text) and not _DOC_NUMBER_LINE.match(text)
        and _parse_field(text) is None and not is_person_name(text) and byline(text) is None
        and not _OCCASION.match(text) and not _PROMULGATION.match(text) and not _ORDER_NUMBER.match(text)
        and not LIST_ITEM.match(text) and not _URL_LINE.match(text) and not _is_read_prompt(text)
    )


def _join_title(parts: list[str]) -> str:
    out = parts[0]
    for p in parts[1:]:
        sep = " " if (out[-1].isascii() and out[-1].isalnum() and p[0].isascii() and p[0].isalnum()) else ""
        out += sep + p
    return re.sub(r"[\s\u3000]+", " ", out).strip()


def _marked_lines(src: list[str], blocks: tuple) -> list[Line]:
    """Source lines → Lines with the heading level and table mark of their block (plain text: none)."""
    lines: list[Line] = []
    for i, t in enumerate(src, 1):
        level, table = 0, False
        if blocks and i - 1 < len(blocks):
            b = blocks[i - 1]
            level, table = b.level, b.table
            if level:
                t = re.sub(r"^\s*#{1,6}\s+", "", t)
        lines.append(Line(i, i, join_letter_spaced(drop_pinyin(t.strip())), level, table))
    return lines


def clean(text: str, *, blocks: tuple = ()) -> Cleaned:
    raw = strip_controls(text.replace("\r\n", "\n").replace("\r", "\n")).replace("\xa0", " ")
    lines = _marked_lines(raw.split("\n"), blocks)
    out = Cleaned(lines=[])
    out.total_chars = sum(chars(ln.text) for ln in lines)
    meta_rows: list[int] = []

    def add_meta(key: str, value: str, ln: Line) -> None:
        value = re.sub(r"[\s\u3000]+", " ", value).strip()
        if value and key not in out.meta:
            out.meta[key] = value
        elif value and key in ("沿革",) and value not in out.meta[key]:
            out.meta[key] += "；" + value
        meta_rows.extend((ln.start, ln.end))

    # teaser-list: everything from the marker on, if the marker sits in the second half.
    for i, ln in enumerate(lines):
        if _TEASER_MARKER.match(ln.text) and i >= len(lines) // 2:
            out.removed += [(x, "teaser-list") for x in lines[i:] if x.text]
            lines = lines[:i]
            break

    # a related-news box above the document (a government page's 「相关新闻」): the marker and the
    # teasers under it, each ending in its date
    for i, ln in enumerate(lines[: len(lines) // 2]):
        if _TEASER_MARKER.match(ln.text):
            j, dated = i + 1, 0
            while j < len(lines) and (not lines[j].text or len(lines[j].text) <= 80 and _DATED_TEASER.search(lines[j].text)):
                dated += bool(lines[j].text)
                j += 1
            if dated:
                out.removed += [(x, "teaser-list") for x in lines[i:j] if x.text]
                lines = lines[:i] + lines[j:]
            break

    running = set() if blocks else running_lines(lines)
    kept: list[Line] = []
    for i, ln in enumerate(lines):
        s = ln.text
        if not s:
            kept.append(ln)
            continue
        rule = None
        if i in running:
            rule = "running-header"
        elif _URL_LINE.match(s):
            rule = "url"
        elif _CITATION_CODE.match(s):
            rule = "citation-code"
        elif _PAGE_NUMBER.match(s):
            rule = "page-number"
        elif len(s) <= 120 and _COPYRIGHT.search(s) and not LAW_ARTICLE.match(s) and not _HEADING_START.match(s):
            rule = "copyright"
        elif (pairs := _page_fields(s)) is not None and any(_SITE_KEY.search(k) for k, _ in pairs):
            rule = "copyright"  # 「主办单位：… 运行维护单位：…」: who runs the site, not the document
        elif pairs is not None:
            # A page's info bar still names the source and date: "来源 :发展 | 被引量 : 0次 | …"
            for k, v in pairs:
                if _is_document_value(v) and not _is_widget(v):
                    add_meta(_field_key(k), v, ln)
            rule = "page-info"
        elif len(s) <= 40 and _is_widget(s):
            rule = "widget"
        elif _TIMESTAMP.match(s):
            rule = "timestamp"
        elif _BREADCRUMB.match(s):
            rule = "breadcrumb"
        elif len(s) <= 80 and _PHOTO_CREDIT.search(s):
            rule = "photo-caption"
        if rule:
            out.removed.append((ln, rule))
        else:
            kept.append(ln)

    content = [i for i, ln in enumerate(kept) if ln.text]
    drop: set[int] = set()

    # signature block at the end: 附件说明, 发文机关署名 + 成文日期, 附注, 抄送, 印发.
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
                t = kept[j].text
                if j in sig or len(t) > 40 or t[-1] not in ORG_END or LIST_ITEM.match(t) or _parse_field(t):
                    break
                sig[j] = ("发文机关署名", t)
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
        if i not in sig and not kept[i].table and (f := _parse_field(kept[i].text)) is not None:
            sig[i] = ("field", f)
    if any(k.startswith(("成文日期", "发文机关署名")) for k, _ in sig.values()):
        issuers = [v for i, (k, v) in sorted(sig.items()) if k == "发文机关署名"]
        for i, (k, v) in sorted(sig.items()):
            if k == "发文机关署名+成文日期":
                org, date = v.split("\x00")
                add_meta("发文机关署名", org, kept[i])
                add_meta("成文日期", re.sub(r"\s+", "", date), kept[i])
            elif k == "发文机关署名":
                add_meta(k, "、".join(issuers), kept[i])
            elif k == "field":
                add_meta(*v, kept[i])
            else:
                add_meta(k, v, kept[i])
            drop.add(i)
            out.removed.append((kept[i], "field" if k == "field" else "signature"))
    else:
        for i, (k, v) in sorted(sig.items()):
            if k in ("印发", "抄送", "field"):
                add_meta(*(v if k == "field" else (k, v)), kept[i])
                drop.add(i)
                out.removed.append((kept[i], "field" if k == "field" else "signature"))

    # footer: a trailing run of 3+ short unpunctuated lines after the last sentence (related links,
    # name lists); metadata among them is kept as metadata.
    end = len(kept)
    run: list[int] = []
    while end > 0:
        i = end - 1
        s = kept[i].text
        if i in drop or not s:
            end -= 1
            continue
        if len(s) >= SHORT or s[-1] in "。！？!?" or LIST_ITEM.match(s) or kept[i].table or kept[i].level:
            break
        run.append(i)
        end -= 1
    before = kept[end - 1].text if end > 0 else ""
    if len(run) >= 3 and before and before[-1] in "。！？!?…”":
        for i in sorted(run):
            f = _parse_field(kept[i].text)
            if f:
                add_meta(*f, kept[i])
                out.removed.append((kept[i], "field"))
            else:
                out.removed.append((kept[i], "footer"))
            drop.add(i)

    # header metadata: lines from the top until the first line that is neither metadata nor title.
    content = [i for i in content if i not in drop]
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
            t = kept[content[pos + k]].text
            if _parse_field(t) is not None or _DOC_NUMBER_LINE.match(t):
                return True
            if not _BOX_LABEL.fullmatch(t):
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
                add_meta("标题", segs[0], first)
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
            add_meta("发文字号", m.group(2), kept[parts[0]])
        add_meta("标题", title, kept[parts[0]])
        for i in parts:
            drop.add(i)
            out.removed.append((kept[i], "title"))
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
        if cover and designated and "标题" not in out.meta:
            # the title: the Chinese lines after the designation, up to the English title or the dates
            parts = []
            while pos + len(parts) < len(content) and len(parts) < MAX_TITLE_LINES:
                t = kept[content[pos + len(parts)]].text.strip()
                if cover_fields(t, designated) is not None or not re.search(r"[\u4e00-\u9fff]", t) or len(t) > SHORT:
                    break
                parts.append(content[pos + len(parts)])
            if parts:
                add_meta("标题", _join_title([kept[j].text for j in parts]), kept[parts[0]])
                for j in parts:
                    drop.add(j)
                    out.removed.append((kept[j], "title"))
                pos += len(parts)
                continue
        if cover and (fields := cover_fields(s, designated)) is not None:
            for key, value in fields:
                if key == "标准编号":
                    designated = True
                if key == "发文机关署名":
                    value = "、".join(publishers + [value])
                    publishers.clear()
                add_meta(key, value, ln)
            if not fields:
                meta_rows.extend((ln.start, ln.end))
            drop.add(i)
            out.removed.append((ln, "cover"))
            pos += 1
            continue
        if cover and "标题" in out.meta and s.strip() and s.strip()[-1] in ORG_END and len(s) <= 40 \
                and pos + 1 < len(content) and is_publisher(kept[content[pos + 1]].text):
            publishers.append(s.strip())
            drop.add(i)
            out.removed.append((ln, "cover"))
            pos += 1
            continue
        if "标题" not in out.meta and (designated or not cover) and (taken := take_title(pos)):
            pos += taken
            continue
        if ln.level or ln.table:
            break
        gongwen = is_gongwen_title(out.meta.get("标题", ""))
        rule = None
        if _is_read_prompt(s):
            drop.add(i)
            out.removed.append((ln, "widget"))
            pos += 1
            continue
        if m := _DOC_NUMBER_LINE.match(s):
            add_meta("发文字号", m.group(1), ln); rule = "doc-number"
        elif "标题" in out.meta and _ORDER_NUMBER.match(s):
            add_meta("发文字号", s, ln); rule = "doc-number"  # 令号 under 「中华人民共和国国务院令」
        elif (om := occasion_at(pos))[0]:
            m, taken = om
            add_meta("日期", re.sub(r"\s+", "", m.group(1)), ln)
            add_meta("会议", m.group(2).strip(), ln); rule = "occasion"
            if taken == 2:   # the meeting's half of a broken occasion line goes with it
                nxt = kept[content[pos + 1]]
                drop.add(content[pos + 1])
                out.removed.append((nxt, rule))
                meta_rows.extend((nxt.start, nxt.end))
                pos += 1
        elif d := _date_only(s):
            add_meta("成文日期" if gongwen else "日期", d, ln); rule = "date"
        elif m := _PROMULGATION.match(s):
            if m.group(3) in ("施行", "实施") and not m.group(2).strip():
                add_meta("施行日期", re.sub(r"\s+", "", m.group(1)), ln)
            else:
                add_meta("沿革", s.strip("()（）"), ln)
            rule = "promulgation"
        elif (f := _parse_field(s)) is not None:
            add_meta(*f, ln); rule = "field"
        elif is_person_name(s):
            add_meta("讲话人" if occasion else "作者", re.sub(r"[\s\u3000]+", "", s), ln); rule = "author"
        elif (b := byline(s)) is not None:
            add_meta("讲话人" if occasion else "作者", b, ln); rule = "byline"
        elif (m := _BRACKETED.match(s)) and len(s) <= SHORT:
            add_meta("栏目", m.group(1).strip(), ln); rule = "column"
        elif (a := _addressee(s)) is not None:
            add_meta("主送机关", a, ln)
            drop.add(i)
            out.removed.append((ln, "addressee"))
            break  # the body starts after the 主送机关
        elif _BOX_LABEL.fullmatch(s) and fields_follow(pos):
            rule = "widget"
        else:
            break
        drop.add(i)
        out.removed.append((ln, rule))
        pos += 1

    kept = [ln for i, ln in enumerate(kept) if i not in drop]
    split: list[Line] = []
    for ln in kept:
        split.extend(split_glued_headings(ln) if not ln.level else [ln])
    for ln in (split if blocks else join_wrapped(split)):
        if ln.text.strip():
            out.lines.append(Line(ln.start, ln.end, ln.text.strip(), ln.level, ln.table))
    if meta_rows:
        out.meta_lines = (min(meta_rows), max(meta_rows))
    return out
