"""Stage 2: remove site and database boilerplate, keep document metadata, repair scraping damage.

Every rule keys on the *shape* of a line (a URL alone, a breadcrumb, a copyright or ICP notice, a
date line under a title, a 发文字号, an issuer above a date at the end), never on a particular
document. Each rule has a name, recorded with every line it removes, so the kept-text report (and
a curious user) can see why a line went. docs/formats.md lists which documents test each rule.
The metadata rules (title, 发文字号, dates, signature…) are in header.py, the line repairs (pinyin,
letter-spacing, glued headings, wrapped lines) in lines.py; this module runs them in order.

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
"""
from __future__ import annotations

import re

from qa.text.normalize import strip_controls
from qa.ingest.chrome import FONT_SIZES, WIDGET_WORDS
from qa.ingest.header import SHORT, Taker, field_key, parse_field, take_header, take_signature
from qa.ingest.lines import (
    HEADING_START, LAW_ARTICLE, LAW_DIVISION, LINE_END, LIST_ITEM, URL_LINE, Cleaned, Line, chars, drop_pinyin,
    join_letter_spaced, join_wrapped, split_glued_headings,
)

# --- boilerplate shapes -------------------------------------------------------------------------
_CITATION_CODE = re.compile(
    r"^(?:【[^】]{1,12}】|[\u4e00-\u9fff]{1,10}码\s*[:：])\s*[A-Za-z]{2,}[A-Za-z0-9]*(?:[.\-/][A-Za-z0-9]+)+$"
)
_WIDGET_PUNCT = re.compile(r"[\s\[\]【】()（）|｜:：,，、/>＞]")
_COPYRIGHT = re.compile(
    r"版权(?:所有|归属|声明|争议|与免责)|Copyright|©|ICP备|ICP证|公网安备|网站标识码", re.I
)
_SITE_KEY = re.compile(r"主办|承办|运行|维护|技术支持|域名|版权|备案")
_PAGE_NUMBER = re.compile(r"^(?:\d{1,4}\s*/\s*\d{1,4}|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|[-—－]\s*\d{1,4}\s*[-—－])$")
_PAIR = re.compile(r"([\u4e00-\u9fff]{2,6})\s*[:：]\s*([^:：|｜]*?)(?=\s*(?:[|｜]|\s[\u4e00-\u9fff]{2,6}\s*[:：]|$))")
_TEASER_MARKER = re.compile(r"^(其他|相关|推荐|延伸|更多|热门)(文献|阅读|文章|新闻|链接|稿件|报道|推荐)$|^猜你喜欢$")
_DATED_TEASER = re.compile(r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{4}年\d{1,2}月\d{1,2}日)\s*$")
_TIMESTAMP = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\s+\d{1,2}:\d{2}(:\d{2})?(\s+[^。！？!?]{0,100})?$")
_BREADCRUMB = re.compile(r"^(首页|主页|[\u4e00-\u9fff]{0,6}位置\s*[:：])\s*[>＞»›]?.*[>＞»›]")   # 「您当前所在的位置：首页 > …」
_PHOTO_CREDIT = re.compile(
    r"[\u4e00-\u9fff]{1,6}(社|网|报)\s*(记者\s*\S{2,4}\s*)?(发|摄)$|(记者|通讯员)\s*\S{2,4}\s*摄$"
)


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
             and not (HEADING_START.match(k) or LAW_ARTICLE.match(k) or LAW_DIVISION.match(k) or LIST_ITEM.match(k))}
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
    if HEADING_START.match(text) or LIST_ITEM.match(text):
        return False  # 「一、」 or 「（二）」 alone on a line is a heading marker, not a widget
    bare = _WIDGET_PUNCT.sub("", text)
    if not bare or FONT_SIZES.fullmatch(bare):
        return True
    rest = _WIDGET_PUNCT.sub("", WIDGET_WORDS.sub("", text))
    if re.search(r"字号|字体", text):
        rest = FONT_SIZES.sub("", rest)
    return len(rest) <= 2 and bool(WIDGET_WORDS.search(text))


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
    t = Taker(out)

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
        elif URL_LINE.match(s):
            rule = "url"
        elif _CITATION_CODE.match(s):
            rule = "citation-code"
        elif _PAGE_NUMBER.match(s):
            rule = "page-number"
        elif len(s) <= 120 and _COPYRIGHT.search(s) and not LAW_ARTICLE.match(s) and not HEADING_START.match(s):
            rule = "copyright"
        elif (pairs := _page_fields(s)) is not None and any(_SITE_KEY.search(k) for k, _ in pairs):
            rule = "copyright"  # 「主办单位：… 运行维护单位：…」: who runs the site, not the document
        elif pairs is not None:
            # A page's info bar still names the source and date: "来源 :发展 | 被引量 : 0次 | …"
            for k, v in pairs:
                if _is_document_value(v) and not _is_widget(v):
                    t.meta(field_key(k), v, ln)
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
    take_signature(t, kept, content)
    _take_footer(t, kept)
    take_header(t, kept, content)

    kept = [ln for i, ln in enumerate(kept) if i not in t.drop]
    split: list[Line] = []
    for ln in kept:
        split.extend(split_glued_headings(ln) if not ln.level else [ln])
    for ln in (split if blocks else join_wrapped(split)):
        if ln.text.strip():
            out.lines.append(Line(ln.start, ln.end, ln.text.strip(), ln.level, ln.table))
    if t.rows:
        out.meta_lines = (min(t.rows), max(t.rows))
    return out


def _take_footer(t: Taker, kept: list[Line]) -> None:
    """A trailing run of 3+ short unpunctuated lines after the last sentence (related links, name
    lists); metadata among them is kept as metadata."""
    end = len(kept)
    run: list[int] = []
    while end > 0:
        i = end - 1
        s = kept[i].text
        if i in t.drop or not s:
            end -= 1
            continue
        if len(s) >= SHORT or s[-1] in "。！？!?" or LIST_ITEM.match(s) or kept[i].table or kept[i].level:
            break
        run.append(i)
        end -= 1
    before = kept[end - 1].text if end > 0 else ""
    if len(run) >= 3 and before and before[-1] in "。！？!?…”":
        for i in sorted(run):
            f = parse_field(kept[i].text)
            if f:
                t.meta(*f, kept[i])
            t.take(i, kept[i], "field" if f else "footer")
