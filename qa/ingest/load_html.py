"""Web page (.html/.htm) → RawBlocks: the main content, found by trafilatura, without page chrome.

Before extraction the DOM is repaired and stripped of what a reader never sees as the document:
  stray </html>/</body>   a template that closes the page after its header (gov.cn) would hide
                          the rest from the parser
  hidden copies           display:none, hidden attribute, ng-hide/hidden/d-none classes (print
                          copies and Angular templates repeat the document); never <body> itself,
                          which some CMSs hide until their scripts run
  navigation furniture    nav/header/footer/aside, and elements whose class or id names
                          a menu, navigation, breadcrumb, share box, toolbar, sidebar, QR code or
                          copyright block (banquan is 版权)
  link tables             a table whose text is mostly links is a menu: dropped
  data tables             rewritten as one paragraph per row 「列名：值；…」 (rowspan/colspan
                          cells repeated in every row they cover) so the extractor keeps them;
                          layout tables (nested tables, long cells) are left to the extractor
After extraction: <br>-broken lines of one paragraph are joined unless they end a sentence, and
chrome lines (字号 大中小, 打印/关闭, 扫一扫, 分享到, ICP/公网安备, 版权所有/主办单位, visit counters)
are dropped. Title: a government page's <meta name="ArticleTitle">, else its <h1>, else its <title> minus the site name; when the content opens
with it (often broken over lines), that opening becomes the title block.
"""
from __future__ import annotations

import re

from qa.ingest.blocks import RawBlock, RejectedFile
from qa.ingest.chrome import is_chrome, strip_chrome_tail
from qa.ingest.load_common import glue, join_broken_lines, table_rows, title_from_page_title

ROW_MARK = "〖表格行〗"   # marks a paragraph that was a table row (the extractor drops private-use marks)
# no "form": CMS templates (VSB and others) wrap the article itself in a <form>
_DROP_TAGS = ("script", "style", "noscript", "iframe", "nav", "header", "footer", "aside",
              "select", "button", "input", "textarea", "svg", "canvas", "template")
_HIDDEN_CLASS = re.compile(r"(?:^|\s)(?:ng-hide|hide|hidden|d-none|invisible|sr-only)(?:\s|$)", re.I)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:nav\w*|\w*navbar|menu\w*|\w*breadcrumb\w*|crumbs?|share\w*|toolbar|sidebar|side-bar|"
    r"footer\w*|header\w*|banquan\w*|copyright|qrcode|qr|sweep\w*|related|xg-list|login|search\w*|"
    r"friendlink|links?box|gotop|backtop)(?:$|[\s_-])",
    re.I,
)


def _text(el) -> str:
    return re.sub(r"\s+", " ", el.text_content().replace("\u3000", " ")).strip()


def _drop(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _grid(table) -> list[list[str]]:
    """Cells of a table row by row, rowspan/colspan cells repeated where they reach."""
    grid: list[list[str]] = []
    pending: dict[tuple[int, int], str] = {}
    rows = [tr for tr in table.iter("tr") if tr.xpath("ancestor::table[1]")[0] is table]
    for r, tr in enumerate(rows):
        row: list[str] = []
        col = 0
        for cell in tr:
            if cell.tag not in ("td", "th"):
                continue
            while (r, col) in pending:
                row.append(pending.pop((r, col)))
                col += 1
            text = _text(cell)
            rs = int(cell.get("rowspan", "1") or 1) if str(cell.get("rowspan", "1")).isdigit() else 1
            cs = int(cell.get("colspan", "1") or 1) if str(cell.get("colspan", "1")).isdigit() else 1
            for k in range(min(cs, 50)):
                row.append(text)
                for down in range(1, min(rs, 200)):
                    pending[(r + down, col + k)] = text
            col += min(cs, 50)
        while (r, col) in pending:
            row.append(pending.pop((r, col)))
            col += 1
        grid.append(row)
    # a colspan title row over the whole table repeats one value: keep it once
    return [list(dict.fromkeys(row)) if len(set(row)) == 1 else row for row in grid]


def _is_data_table(table) -> bool:
    if table.xpath(".//table"):
        return False
    grid = _grid(table)
    if len(grid) < 2 or max((len(r) for r in grid), default=0) < 2:
        return False
    cells = [c for r in grid for c in r]
    return max((len(c) for c in cells), default=0) <= 300


def _prepare(doc) -> None:
    from lxml import etree

    etree.strip_elements(doc, etree.Comment, with_tail=False)
    body = doc.find("body")
    page = len(_text(body if body is not None else doc))
    for el in list(doc.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None:
            continue
        # a <body> hidden until the page's scripts have run (against a flash of unstyled text) is
        # still the page: only elements inside it are hidden copies
        hideable = el.tag != "body"
        if el.tag in _DROP_TAGS or (hideable and (
                el.get("hidden") is not None or el.get("aria-hidden") == "true"
                or _HIDDEN_STYLE.search(el.get("style", "")) or _HIDDEN_CLASS.search(el.get("class", "")))):
            _drop(el)
            continue
        names = f"{el.get('class', '')} {el.get('id', '')}"
        # A wrapper named like furniture that holds most of the page (a prefecture's site sets the whole
        # page inside 「nav_background」) is the page's layout, not a menu: only its parts can be dropped.
        if el.tag not in ("html", "body") and _FURNITURE.search(names) and len(_text(el)) < 0.5 * page:
            _drop(el)
    for table in list(doc.iter("table")):
        if table.getparent() is None:
            continue
        text = len(_text(table))
        links = sum(len(_text(a)) for a in table.iter("a"))
        if not table.xpath(".//table") and text and links >= 0.6 * text:
            _drop(table)   # a table of links is a menu
            continue
        if not _is_data_table(table):
            continue
        div = etree.Element("div")
        for row in table_rows(_grid(table)):
            p = etree.SubElement(div, "p")
            p.text = ROW_MARK + row
        div.tail = table.tail
        table.getparent().replace(table, div)


def _wrap_bare_body(doc) -> None:
    """Headings set straight under <body> (a page rendered from Markdown, a Word export) go in an
    <article>: without a container the extractor keeps the paragraphs of a long page and drops its headings."""
    from lxml import etree

    body = doc.find("body")
    if body is None or not body.xpath("./h2|./h3|./h4|./h5|./h6"):
        return
    article = etree.SubElement(body, "article")
    article.text, body.text = body.text, None
    for child in list(body):
        if child is not article:
            article.append(child)


def _page_title(doc) -> str:
    # Chinese government sites carry the article's own title in <meta name="ArticleTitle"> (the
    # national web-page specification's metadata); their first <h1> can be a print header or a breadcrumb
    for t in doc.xpath('//meta[@name="ArticleTitle"]/@content'):
        t = re.sub(r"\s+", " ", t).strip()
        if 4 <= len(t) <= 120:
            return t
    # A heading the page's <title> also names is the article's (a CMS sets it as 「<h2 class="title">」),
    # not an <h1> pasted into the body with a table from Word (「全市省二级以上幼儿园比例（%）」).
    titles = doc.xpath("//title")
    page = _key(_text(titles[0])) if titles else ""
    for h in doc.xpath("//h1|//h2|//h3"):
        t = _text(h)
        if 4 <= len(t) <= 120 and len(_key(t)) * 2 > len(page) and _key(t) in page:
            return t
    for h in doc.iter("h1"):
        t = _text(h)
        if 4 <= len(t) <= 120:
            return t
    return title_from_page_title(_text(titles[0])) if titles else ""


def _blocks_from_xml(xml: str) -> list[RawBlock]:
    from lxml import etree

    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    blocks: list[RawBlock] = []
    if main is None:
        return blocks

    def lines_of(el) -> list[str]:
        parts, cur = [], [el.text or ""]
        for child in el:
            if child.tag == "lb":
                parts.append("".join(cur))
                cur = []
            else:
                cur.append("".join(child.itertext()))
            cur.append(child.tail or "")
        parts.append("".join(cur))
        return [re.sub(r"[\s\u3000]+", " ", p).strip() for p in parts]

    def emit(el):
        tag = el.tag
        if tag == "head":
            level = int(el.get("rend", "h2")[1:] or 2) if re.match(r"h\d$", el.get("rend", "")) else 2
            text = " ".join(t for t in lines_of(el) if t)
            if text:
                blocks.append(RawBlock(text, min(max(level, 2), 6)))
        elif tag in ("item", "cell") and any(c.tag in ("p", "list", "head", "table", "quote") for c in el):
            for child in el:
                emit(child)
        elif tag in ("p", "quote", "item", "cell"):
            for line in join_broken_lines(lines_of(el)):
                if line.startswith(ROW_MARK):
                    blocks.append(RawBlock(line[len(ROW_MARK):].strip(), table=True))
                else:
                    blocks.append(RawBlock(line))
        elif tag in ("list", "table", "row", "div", "main"):
            for child in el:
                emit(child)
        elif tag == "graphic":
            return
        else:
            text = "".join(el.itertext()).strip()
            if text:
                blocks.append(RawBlock(re.sub(r"\s+", " ", text)))

    for child in main:
        emit(child)
    return blocks


def html_blocks(text: str) -> tuple[list[RawBlock], list[str]]:
    import lxml.html
    import trafilatura
    from lxml import etree

    # a template that closes the page after its header would hide the document from the parser
    text = re.sub(r"</(?:html|body)\s*>", "", text, flags=re.I)
    text = re.sub(r"^\s*<\?xml[^>]*>", "", text)
    try:
        doc = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise RejectedFile("网页无法解析（不是有效的 HTML）") from exc
    title = _page_title(doc)
    _prepare(doc)
    _wrap_bare_body(doc)
    cleaned = lxml.html.tostring(doc, encoding="unicode")
    xml = trafilatura.extract(cleaned, output_format="xml", include_tables=True, include_comments=False,
                              include_images=False, include_links=False, with_metadata=False, favor_recall=True,
                              deduplicate=False)
    blocks = _blocks_from_xml(xml) if xml else []
    kept: list[RawBlock] = []
    for b in blocks:
        if is_chrome(b.text):
            continue
        cut = strip_chrome_tail(b.text)
        kept.append(RawBlock(cut, b.level, table=b.table) if cut != b.text else b)
    return _with_title(kept, title), []


def _key(s: str) -> str:
    return re.sub(r"[\s\u3000]+", "", s)


def _with_title(blocks: list[RawBlock], title: str) -> list[RawBlock]:
    """Title block first. Near the top of the content, lines that spell the title (whole, or broken
    over several lines) are dropped; a content line that extends a bare site-name title
    (「国家金融监督管理总局」 → 「国家金融监督管理总局浙江监管局行政处罚信息公开表（…）」) becomes the title."""
    key = _key(title)
    for b in blocks[:10]:
        k = _key(b.text)
        if key and k.startswith(key) and len(key) < len(k) <= 120 and not b.table and not k.endswith("。"):
            title, key = b.text, k   # the page's own heading is fuller than the <title>
            break
    out = list(blocks)
    i = 0
    while key and i < min(len(out), 12):
        acc, j = "", i
        while j < len(out) and len(acc) < len(key) and not out[j].table:
            acc += _key(out[j].text)
            j += 1
        if j > i and acc == key:
            spelled = ""
            for b in out[i:j]:
                spelled = glue(spelled, b.text)
            title = spelled          # the document's own spelling, not the <title> tag's spacing
            del out[i:j]
            continue
        i += 1
    return ([RawBlock(title, 1)] if title else []) + out
