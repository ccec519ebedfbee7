"""Word (.docx) → RawBlocks with python-docx.

Headings: Word's heading styles (Heading n / 标题 n / Title) and outline levels (w:outlineLvl on
the paragraph or its style chain). List and heading numbers that Word generates (numbering.xml)
are rendered as Word shows them ("5.1 ", "a) ", "一、"). Tables become one block per row,
「列名：值；列名：值」. Field instructions (FORMTEXT, TOC, HYPERLINK, PAGEREF) never reach the text;
the results of TOC/PAGEREF fields and paragraphs in TOC styles (the table of contents) are dropped.
A paragraph that packs several paragraphs with line breaks or "　　" indents is split.
A body imported whole (w:altChunk: the web page or MHT archive that web exporters such as html-docx-js
wrap in a .docx, where document.xml holds nothing else) is read by the web-page loader in its place.
"""
from __future__ import annotations

import email
import email.policy
import io
import posixpath
import re
import zipfile

from qa.ingest.blocks import RawBlock, RejectedFile
from qa.ingest.decode import decode
from qa.ingest.load_common import glue, table_rows

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
MAX_UNPACKED = 300 * 1024 * 1024
_TOC_STYLE = re.compile(r"^(toc|目录)\s*\d|^TOC Heading$|^目录标题$", re.I)
_HEADING_STYLE = re.compile(r"^(?:heading|标题)\s*(\d)$", re.I)
_TOC_TITLE = re.compile(r"^(目\s*录|目\s*次|contents)$", re.I)
# A pseudo paragraph break inside one Word paragraph: two or more ideographic spaces after text
_PSEUDO_BREAK = re.compile(r"(?<=\S)[\u3000]{2,}(?=\S)")
# Outline-level-1 headings that name a part of the document, not the document
# (a short label with a number, 「附件1」「大纲1」「表2」, marks an attachment, not its title)
_FRONT_MATTER = re.compile(r"^(前言|引言|序言|序|说明|编制说明|摘要|目录|目次|附录.*|附件.*|参考文献|总则|附则|\d.*"
                           r"|[\u4e00-\u9fff]{1,4}\d{1,3}"
                           r"|[一二三四五六七八九十]+、.*|第[一二三四五六七八九十百零〇\d]+[章节编部分条].*)$")
_DROPPED_FIELDS = ("TOC", "PAGEREF", "PAGE", "NUMPAGES", "SECTIONPAGES")


def _val(el, tag: str) -> str | None:
    child = el.find(W + tag) if el is not None else None
    return child.get(W + "val") if child is not None else None


# ----------------------------------------------------------------------------- numbering

_CN_DIGITS = "零一二三四五六七八九"


def _chinese(n: int) -> str:
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    return str(n)


def _roman(n: int) -> str:
    out = ""
    for v, s in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
                 (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= v:
            out, n = out + s, n - v
    return out


def _letter(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def _format_number(n: int, fmt: str) -> str:
    if fmt in ("decimal", "decimalZero"):
        return f"{n:02d}" if fmt == "decimalZero" and n < 10 else str(n)
    if fmt == "lowerLetter":
        return _letter(n)
    if fmt == "upperLetter":
        return _letter(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "ideographDigital",
               "taiwaneseCounting", "taiwaneseCountingThousand"):
        return _chinese(n)
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "ideographTraditional" and 1 <= n <= 10:
        return "甲乙丙丁戊己庚辛壬癸"[n - 1]
    if fmt == "decimalFullWidth":
        return str(n).translate({ord(c): 0xFF10 + int(c) for c in "0123456789"})
    if fmt in ("none", "bullet"):
        return ""
    return str(n)


class Numbering:
    """Counters of Word's automatic numbering, advanced paragraph by paragraph in document order."""

    def __init__(self, doc):
        self.levels: dict[str, dict[int, dict]] = {}    # abstractNumId → ilvl → {start, fmt, text}
        self.num_abstract: dict[str, str] = {}          # numId → abstractNumId
        self.overrides: dict[str, dict[int, int]] = {}  # numId → ilvl → start override
        self.counters: dict[str, dict[int, int]] = {}   # abstractNumId → ilvl → current value
        self.started: set[str] = set()
        try:
            root = doc.part.numbering_part.element
        except (NotImplementedError, KeyError, AttributeError):
            return
        for an in root.findall(W + "abstractNum"):
            aid = an.get(W + "abstractNumId")
            lv = {}
            for lvl in an.findall(W + "lvl"):
                ilvl = int(lvl.get(W + "ilvl", "0"))
                lv[ilvl] = {"start": int(_val(lvl, "start") or 1), "fmt": _val(lvl, "numFmt") or "decimal",
                            "text": _val(lvl, "lvlText") or ""}
            self.levels[aid] = lv
        for num in root.findall(W + "num"):
            nid = num.get(W + "numId")
            self.num_abstract[nid] = _val(num, "abstractNumId") or ""
            for ov in num.findall(W + "lvlOverride"):
                start = ov.find(W + "startOverride")
                if start is not None:
                    self.overrides.setdefault(nid, {})[int(ov.get(W + "ilvl", "0"))] = int(start.get(W + "val"))

    def label(self, num_id: str, ilvl: int) -> str:
        aid = self.num_abstract.get(num_id)
        if aid is None or aid not in self.levels or num_id == "0":
            return ""
        levels = self.levels[aid]
        counters = self.counters.setdefault(aid, {})
        if num_id not in self.started:  # a list instance with start overrides restarts its levels
            self.started.add(num_id)
            for lv, start in self.overrides.get(num_id, {}).items():
                counters[lv] = start - 1
        start = levels.get(ilvl, {}).get("start", 1)
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        spec = levels.get(ilvl)
        if spec is None or spec["fmt"] == "bullet":
            return ""

        def level_value(m: re.Match) -> str:
            k = int(m.group(1)) - 1
            sub = levels.get(k, {"start": 1, "fmt": "decimal"})
            return _format_number(counters.get(k, sub["start"]), sub["fmt"] if k != ilvl else spec["fmt"])

        return re.sub(r"%(\d)", level_value, spec["text"])


# ----------------------------------------------------------------------------- paragraphs

def _style_chain(style):
    while style is not None:
        yield style
        style = style.base_style


class _Styles:
    """Paragraph styles by id, looked up once per document (python-docx searches the XML each time)."""

    def __init__(self, styles):
        self.styles = styles
        self.cache: dict[str | None, object] = {}

    def get(self, sid: str | None):
        if sid not in self.cache:
            try:
                style = self.styles.get_by_id(sid, 1) if sid else None  # WD_STYLE_TYPE.PARAGRAPH
            except Exception:
                style = None
            if style is None:
                try:
                    style = self.styles.default(1)
                except Exception:
                    style = None
            self.cache[sid] = style
        return self.cache[sid]


def _style_format(p, styles: _Styles) -> tuple[str | None, float]:
    """(alignment, font size in half-points) a paragraph inherits from its style chain."""
    style = styles.get(_val(p.pPr, "pStyle") if p.pPr is not None else None)
    align, size = None, 0.0
    for st in _style_chain(style):
        if align is None:
            align = _val(st.element.pPr, "jc")
        if not size and st.font is not None and st.font.size is not None:
            size = st.font.size.pt * 2
    return align, size


def _para_props(p, styles: _Styles) -> tuple[str, int | None, tuple[str, int] | None]:
    """(style name, outline level 0-8 or None, (numId, ilvl) or None), following the style chain."""
    ppr = p.pPr
    style = styles.get(_val(ppr, "pStyle") if ppr is not None else None)
    name = style.name if style is not None else ""
    outline = _val(ppr, "outlineLvl")
    numpr = ppr.find(W + "numPr") if ppr is not None else None
    for st in _style_chain(style):
        sppr = st.element.pPr
        if outline is None:
            outline = _val(sppr, "outlineLvl")
        if numpr is None and sppr is not None:
            numpr = sppr.find(W + "numPr")
        m = _HEADING_STYLE.match(st.name or "")
        if outline is None and m:
            outline = str(int(m.group(1)) - 1)
        if outline is None and (st.name or "").lower() in ("title", "标题"):
            outline = "0"
    num = None
    if numpr is not None:
        nid, ilvl = _val(numpr, "numId"), _val(numpr, "ilvl")
        if nid is not None:
            if ilvl is None:  # a style carrying the numbering names its level in the abstractNum
                ilvl = "0"
            num = (nid, int(ilvl))
    lvl = int(outline) if outline is not None and outline.isdigit() and int(outline) < 9 else None
    return name, lvl, num


def _field_name(instr: str) -> str:
    words = instr.strip().split()
    return words[0].upper() if words else ""


def _runs_text(p) -> list[tuple[str, float]]:
    """Visible text of a paragraph element, one (text, largest font size in half-points or 0) per
    line (w:br splits lines).

    Walks the XML in order: w:t/w:tab/w:br of runs, inside hyperlinks, smart tags, content controls
    and insertions; skips deletions, field instructions, and the results of TOC/PAGEREF/PAGE fields."""
    lines: list[list] = [["", 0.0]]
    fields: list[list] = []  # stack of [instruction, in_result]

    def hidden() -> bool:
        return any(not f[1] or _field_name(f[0]) in _DROPPED_FIELDS for f in fields)

    def walk(el):
        for child in el:
            tag = child.tag
            if tag == W + "r":
                rpr = child.find(W + "rPr")
                for item in child:
                    t = item.tag
                    if t == W + "fldChar":
                        kind = item.get(W + "fldCharType")
                        if kind == "begin":
                            fields.append(["", False])
                        elif kind == "separate" and fields:
                            fields[-1][1] = True
                        elif kind == "end" and fields:
                            fields.pop()
                    elif t == W + "instrText":
                        if fields and not fields[-1][1]:
                            fields[-1][0] += item.text or ""
                    elif hidden():
                        continue
                    elif t == W + "t":
                        lines[-1][0] += item.text or ""
                        sz = _val(rpr, "sz")
                        if sz and sz.isdigit() and (item.text or "").strip():
                            lines[-1][1] = max(lines[-1][1], float(sz))
                    elif t in (W + "tab", W + "ptab"):
                        lines[-1][0] += " "
                    elif t in (W + "br", W + "cr"):
                        if item.get(W + "type") not in ("page", "column"):
                            lines.append(["", 0.0])
                    elif t == W + "noBreakHyphen":
                        lines[-1][0] += "-"
            elif tag == W + "fldSimple":
                if _field_name(child.get(W + "instr", "")) not in _DROPPED_FIELDS:
                    walk(child)
            elif tag in (W + "hyperlink", W + "smartTag", W + "ins", W + "customXml", W + "sdtContent", W + "sdt"):
                walk(child)
            # w:del, w:pPr, bookmarks, comments: nothing visible

    walk(p)
    return [(t, sz) for t, sz in lines]


def _split_pseudo_paragraphs(lines: list[tuple[str, float]]) -> list[tuple[str, float]]:
    """Line breaks and runs of ideographic spaces inside one Word paragraph are paragraph breaks."""
    out = []
    for line, size in lines:
        for piece in _PSEUDO_BREAK.split(line):
            piece = re.sub(r"[ \t\u00a0\u2002\u2003\u3000]+", " ", piece).strip()
            if piece:
                out.append((piece, size))
    return out


# ----------------------------------------------------------------------------- tables

def _cell_text(tc) -> str:
    pieces = []
    for p in tc.iter(W + "p"):
        t = " ".join(line for line, _ in _runs_text(p))
        t = re.sub(r"\s+", " ", t).strip()
        if t:
            pieces.append(t)
    return " ".join(pieces)


def _table_grid(tbl) -> list[list[str]]:
    """Cells row by row; a vertically merged cell repeats its value in every row it spans."""
    grid: list[list[str]] = []
    above: dict[int, str] = {}
    for tr in tbl.iter(W + "tr"):
        if tr.getparent() is not tbl:
            continue
        row, col = [], 0
        for tc in tr.findall(W + "tc"):
            tcpr = tc.find(W + "tcPr")
            span = int(_val(tcpr, "gridSpan") or 1)
            vm = tcpr.find(W + "vMerge") if tcpr is not None else None
            text = _cell_text(tc)
            if vm is not None and vm.get(W + "val") != "restart" and not text:
                text = above.get(col, "")
            for k in range(span):
                above[col + k] = text
                row.append(text)   # a merged cell fills every column it spans, as on the page
            col += span
        grid.append(row)
    return grid


# ----------------------------------------------------------------------------- document

def docx_blocks(data: bytes) -> tuple[list[RawBlock], list[str]]:
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise RejectedFile("不是有效的 Word 文档（.docx 文件已损坏，或是改了扩展名的其他文件；旧版 .doc 请先另存为 .docx）")
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(i.file_size for i in package.infolist())
        if unpacked <= MAX_UNPACKED:
            data, dropped = _without_dangling_parts(package, data)
    except (zipfile.BadZipFile, OSError) as exc:
        raise RejectedFile("不是有效的 Word 文档（压缩包已损坏）") from exc
    if unpacked > MAX_UNPACKED:  # a zip bomb, or a document that is mostly media
        raise RejectedFile(f"Word 文档解压后过大（{unpacked // 1024 // 1024} MB）")
    notes: list[str] = []
    if dropped:
        notes.append(f"文档引用了 {dropped} 个不存在的内嵌部件（如图片），已跳过，正文照常读取")
    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise RejectedFile("不是有效的 Word 文档（压缩包里没有 Word 正文，可能是改了扩展名的其他文件）") from exc
    except Exception as exc:
        raise RejectedFile(f"Word 文档无法解析（{type(exc).__name__}）") from exc

    styles = _Styles(document.styles)
    numbering = Numbering(document)
    items: list[dict] = []  # {text, level, size, align, table}
    pending_number = ""

    def add_paragraph(p):
        nonlocal pending_number
        name, outline, num = _para_props(p, styles)
        label = numbering.label(*num) if num else ""
        if _TOC_STYLE.match(name):
            return
        pieces = _split_pseudo_paragraphs(_runs_text(p))
        if pieces and outline is not None:  # a heading broken over lines stays one heading
            pieces = [(" ".join(t for t, _ in pieces), max(sz for _, sz in pieces))]
        if not pieces:
            if label.strip() and outline is not None:
                pending_number = label.strip()  # a numbered heading whose text is in the next paragraph
            return
        number = label.strip() or pending_number
        if number:
            pieces[0] = (f"{number} {pieces[0][0]}", pieces[0][1])
        pending_number = ""
        style_align, style_size = _style_format(p, styles)
        align = (_val(p.pPr, "jc") if p.pPr is not None else None) or style_align
        for k, (piece, size) in enumerate(pieces):
            size = size or style_size
            items.append({"text": piece, "level": (outline + 1) if outline is not None and k == 0 else 0,
                          "size": size, "align": align, "style": name, "table": False})

    def walk(container):
        for child in container:
            if child.tag == W + "p":
                add_paragraph(child)
            elif child.tag == W + "tbl":
                for row in table_rows(_table_grid(child)):
                    items.append({"text": row, "level": 0, "size": 0, "align": None, "style": "", "table": True})
            elif child.tag == W + "altChunk":
                part = document.part.related_parts.get(child.get(R_ID))
                for b in _alt_chunk_blocks(part.content_type, part.blob) if part is not None else ():
                    items.append({"text": b.text, "level": b.level, "size": 0, "align": None, "style": "",
                                  "table": b.table})
            elif child.tag == W + "sdt":
                gallery = child.find(f".//{W}docPartGallery")
                if gallery is not None and "Table of Contents" in (gallery.get(W + "val") or ""):
                    continue
                content = child.find(W + "sdtContent")
                if content is not None:
                    walk(content)

    walk(document.element.body)
    items = _drop_toc_heading(items)
    return _with_title(items), notes


def _alt_chunk_blocks(content_type: str, blob: bytes) -> list[RawBlock]:
    """The blocks of an imported body part: an MHT archive's page, a web page or plain text
    (anything else, e.g. a nested .docx or RTF, is skipped)."""
    from qa.ingest.load_html import html_blocks

    if content_type == "message/rfc822" or blob.lstrip().startswith(b"MIME-Version"):
        message = email.message_from_bytes(blob, policy=email.policy.default)
        pages = [p for p in message.walk() if p.get_content_type() == "text/html"]
        text, content_type = (pages[0].get_content(), "text/html") if pages else ("", "")
    elif content_type in ("text/html", "application/xhtml+xml", "text/plain"):
        try:
            text = decode(blob)[0]   # as a .html or .txt file of its own would be read
        except RejectedFile:
            return []
    else:
        return []
    if content_type == "text/plain":
        return [RawBlock(line.strip()) for line in text.splitlines() if line.strip()]
    try:
        return html_blocks(text)[0] if text.strip() else []
    except RejectedFile:
        return []


_REL = re.compile(rb'<Relationship\b[^>]*?/>')
_TARGET = re.compile(rb'\bTarget="([^"]*)"')


def _without_dangling_parts(zf: zipfile.ZipFile, data: bytes) -> tuple[bytes, int]:
    """The docx (data, opened as zf) without the relationships whose internal target is not in the
    package, and how many went. Some editors write a relationship to a part they never saved (an
    image as 「../NULL」); Word and WPS skip it, python-docx stops at it. External targets (hyperlinks)
    are left alone."""
    names = set(zf.namelist())
    fixed: dict[str, bytes] = {}
    dropped = 0
    for name in names:
        if not name.endswith(".rels"):
            continue
        base = posixpath.dirname(posixpath.dirname(name))  # word/_rels/document.xml.rels → word
        xml = zf.read(name)

        def keep(m: re.Match) -> bytes:
            nonlocal dropped
            rel = m.group(0)
            target = _TARGET.search(rel)
            if b'TargetMode="External"' in rel or target is None:
                return rel
            ref = target.group(1).decode("utf-8", "replace").split("#")[0]
            path = ref.lstrip("/") if ref.startswith("/") else posixpath.normpath(posixpath.join(base, ref))
            if path in names:
                return rel
            dropped += 1
            return b""

        new = _REL.sub(keep, xml)
        if new != xml:
            fixed[name] = new
    if not fixed:
        return data, 0
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in zf.infolist():
            dst.writestr(info, fixed.get(info.filename, zf.read(info.filename)))
    return out.getvalue(), dropped


def _drop_toc_heading(items: list[dict]) -> list[dict]:
    """A 「目录/目次」 heading left after its TOC entries went: nothing follows it but the next heading."""
    return [it for it in items if not _TOC_TITLE.match(re.sub(r"\s+", "", it["text"]))]


def _with_title(items: list[dict]) -> list[RawBlock]:
    """Put the document title first as a level-1 heading.

    The title is, in this order: a paragraph in Word's Title style; the first outline-level-1
    heading; or (公文 typed without styles) the leading centred paragraphs set in the document's
    largest font, joined — a 公文 title is often broken over two or three lines."""
    blocks_of = lambda its: [RawBlock(it["text"], min(it["level"], 6), table=it["table"]) for it in its]  # noqa: E731
    title_idx = [i for i, it in enumerate(items) if (it["style"] or "").lower() in ("title", "标题")]
    if not title_idx:
        title_idx = [i for i, it in enumerate(items) if it["level"] == 1
                     and not _FRONT_MATTER.match(re.sub(r"\s+", "", it["text"]))][:1]
    if title_idx:
        title = "".join(items[i]["text"] for i in title_idx)
        # other level-1 headings (appendices) keep their level; only the title moves to the top
        return [RawBlock(title, 1)] + blocks_of([it for i, it in enumerate(items) if i not in title_idx])
    sizes = sorted(it["size"] for it in items if it["size"] and not it["table"])
    body = sizes[len(sizes) // 2] if sizes else 0
    lead = []
    for i, it in enumerate(items[:6]):
        if it["align"] == "center" and it["size"] > body > 0 and not it["table"]:
            lead.append(i)
        elif lead:
            break
    if lead:
        title = ""
        for i in lead:
            title = glue(title, items[i]["text"])
        return [RawBlock(title, 1)] + blocks_of(items[:lead[0]] + items[lead[-1] + 1:])
    return blocks_of(items)
