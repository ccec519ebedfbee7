"""Stage 3: turn cleaned lines into a section tree of paragraphs, with a kept-text report.

Headings:
  explicit  a heading the format marks (Markdown "#"*n, docx heading styles, html <h1>…): level n
  law       第X编 / 第X分编 / 第X章 / 第X节 (laws and regulations, in any format)
  cn        一、二、…
  paren     (一)（二）…
  arabic    1. 2、 (not 1.5)
  parnum    (1)（2）
  ordinal   第一, 首先, 其次, 再次 — the heading is the opening clause; the paragraph keeps its full text
  title     (plain text only, when the format marks no headings) a standalone short line without
            sentence punctuation, followed by body text; consecutive title lines merge
Explicit levels come first, then law divisions (编 > 章 > 节), then the marker systems in order of
first appearance in each document, so "一、 > (一) > 1." and "一、 > 第一," both nest naturally.
A marked line that carries body text after its heading ("(四)坚持…经济基础一是围绕…") is split at
the first sentence end or inline enumerator; inline enumerations ("一是…二是…") stay in their paragraph.
List items are not headings: a marked line ending in ；，、, two adjacent marked lines of one style
with no text of their own ("(四)组织开展…审查；" / "(五)…其他职能。"), or a marked line that is one
sentence of several clauses ("（2）配偶按规定生育的，男员工可享受陪产假15天。": a rule of a handbook or
guideline, not the name of what follows), stay paragraphs. A heading is a name ("（一）传染源。",
"（三）增强内需拉动经济的主引擎作用。"): one clause, whatever its end.
Laws: a document with consecutive article lines (第一条 … 第二条 …) is a law; each 第X条 with all its
款 and 项 lines is one paragraph whose section path ends with the article number
(「第三章 劳动合同和集体合同 > 第十八条」).
A heading with no text below it before the next heading of its level becomes a paragraph (nothing lost).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from qa.ingest.clean import clean
from qa.ingest.header import byline, is_person_name
from qa.ingest.lines import DATE_LINE, LAW_ARTICLE, LAW_DIVISION, LIST_ITEM, SENTENCE_END, Cleaned, Line, chars
from qa.ingest.load import RawDocument
from qa.ingest.load_common import OPENER, glue
from qa.schema import Document, KeptReport, Paragraph

_MARKERS: list[tuple[str, re.Pattern[str]]] = [
    ("cn", re.compile(r"^[一二三四五六七八九十]{1,3}、")),
    ("cndot", re.compile(r"^[一二三四五六七八九十]{1,3}\s?[.．](?!\d)")),   # 「四. 門禁卡使用規定」
    ("paren", re.compile(r"^[(（][一二三四五六七八九十]{1,3}[)）]")),
    ("parnum", re.compile(r"^[(（]\d{1,2}[)）]")),
    ("arabic", re.compile(r"^\d{1,2}[.．、](?!\d)")),
]
# A heading's list or clause number: "1.", "（1）", "（三）", "二、", and a standard's "5.1 " (GB/T 1.1).
_NUMBERING = re.compile(r"^(?:[(（](?:\d{1,2}|[一二三四五六七八九十]{1,3})[)）]|[一二三四五六七八九十]{1,3}(?:、|\s?[.．](?!\d))"
                        r"|\d{1,2}(?:\.\d{1,2})*(?:[.．、](?!\d)|\s+))")


def unnumbered(heading: str) -> str:
    """A heading without its list or clause number ("1.开创…" → "开创…", "5.1 确定评价范围" →
    "确定评价范围"): the number orders the section, it is no figure of what the section says."""
    return heading[m.end():].lstrip() if (m := _NUMBERING.match(heading)) else heading


_ORDINAL = re.compile(r"^(第[一二三四五六七八九十]{1,3}|首先|其次|再次)[,，、:：]")
_ORDINAL_CLAUSE = re.compile(r"[。；;，,：:！？!?]")
_CLOSING = re.compile(r"^(总之|综上所述|总而言之|总的来看|总的来说)[,，]")
_INLINE_ENUM = re.compile(r"(一是|其一|首先|第一是)")
_ITEM_END = "；;，,、"
_CLAUSE_BREAK = re.compile(r"[，,；;：:]")   # inside a line: more than one clause
MAX_HEADING = 50   # characters; a longer "heading" is a numbered paragraph
MAX_TITLE_LINE = 30
META_SECTION = "文档信息"
# 标题 first, then the 公文 elements in GB/T 9704 order, then bylines; other fields follow as found.
META_ORDER = ("标题", "发文字号", "主送机关", "成文日期", "发文机关署名", "讲话人", "作者", "会议", "日期",
              "沿革", "施行日期", "附件说明", "附注", "抄送", "印发", "来源", "栏目", "编辑")
LAW_RANK = {"编": -4, "分编": -3, "章": -2, "节": -1}
KEPT_WARN = 0.90   # the bar: a document keeping less of its text than this is reported


@dataclass(frozen=True)
class Block:
    kind: str          # "heading" | "para"
    style: str         # heading style, "" for paragraphs ("article" for a law article)
    text: str
    lines: tuple[int, int]
    level: int = 0     # explicit heading level
    article: str = ""  # 第X条 of a law article paragraph


def _marker_style(text: str) -> str | None:
    for style, pat in _MARKERS:
        if pat.match(text):
            return style
    return None


def _split_marked(text: str) -> tuple[str, str]:
    """Split "(四)heading text一是body…" into (heading, body); body may be empty."""
    m_end = re.search(r"[。！？!?]", text)
    cut = m_end.start() if m_end else len(text)
    m_enum = _INLINE_ENUM.search(text, 4)
    if m_enum and m_enum.start() < cut:
        return text[: m_enum.start()].rstrip("，,；; "), text[m_enum.start():]
    if m_end is None:
        return text, ""
    return text[:cut], text[cut + 1:].strip()


def _is_title_line(text: str) -> bool:
    return (
        len(text) <= MAX_TITLE_LINE and text[-1] not in SENTENCE_END and not _ORDINAL.match(text)
        and not re.search(r"[:：]\S", text)  # 「年工作日：365天…＝250天」 is a definition, not a title
        and not LIST_ITEM.match(text) and not DATE_LINE.match(text)  # a signature date is text
        and not is_person_name(text) and byline(text) is None
    )


def _cn_int(s: str) -> int:
    if s.isdigit():
        return int(s)
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
    total, num = 0, 0
    for c in s:
        if c in digits:
            num = digits[c]
        elif c in "十百千":
            total += (num or 1) * {"十": 10, "百": 100, "千": 1000}[c]
            num = 0
    return total + num


def is_law(lines: list[Line]) -> bool:
    """A law or regulation: two article lines in a row number n and n+1 (第一条 … 第二条 …)."""
    nums = [_cn_int(m.group("n")) for ln in lines if (m := LAW_ARTICLE.match(ln.text))]
    return any(b == a + 1 for a, b in zip(nums, nums[1:]))


_SIMPLIFIED_DIVISION = {"編": "编", "分編": "分编", "節": "节"}
# A line that titles a set of rules annexed after the articles (a community covenant's 「一. 安全維護管理辦法」,
# a regulation's 「附件」): words alone, ending in the kind of a rule; an article's 项 has its 、 or bracket.
_ANNEX_TITLE = re.compile(r"^(?:[一二三四五六七八九十]{1,3}\s?[.．]\s?)?[\u4e00-\u9fff]{2,30}"
                          r"(?:办法|辦法|规定|規定|规则|規則|细则|細則|须知|須知|制度|公约|公約|章程)$|^附(?:件|表|录|錄)")


def _law_division(text: str) -> str | None:
    m = LAW_DIVISION.match(text)
    if m and len(text) <= MAX_HEADING and text[-1] not in SENTENCE_END:
        return m.group(1)
    return None


def _one_space(text: str) -> str:
    return re.sub(r"[\s\u3000]+", " ", text).strip()


def to_blocks(lines: list[Line], law: bool = False, guess_titles: bool = True) -> list[Block]:
    blocks: list[Block] = []
    styles = [_marker_style(ln.text) if not ln.level else None for ln in lines]
    bare = [bool(st) and not _split_marked(ln.text)[1] for st, ln in zip(styles, lines)]

    def item_like(i: int) -> bool:
        """A marked line that is an item of a list, not a heading."""
        text = lines[i].text
        if text[-1] in _ITEM_END:
            return True
        if not bare[i]:
            return False
        if text[-1] in "。！？!?" and _CLAUSE_BREAK.search(text):
            return True
        return any(0 <= j < len(lines) and styles[j] == styles[i] and bare[j] for j in (i - 1, i + 1))

    article: Block | None = None
    for i, ln in enumerate(lines):
        text, rng = ln.text, (ln.start, ln.end)
        if ln.level:
            if article:
                blocks.append(article); article = None
            blocks.append(Block("heading", f"h{ln.level}", _one_space(text), rng, level=ln.level))
            continue
        if ln.table:
            if article:
                article = Block("para", "article", article.text + "\n" + text, (article.lines[0], ln.end),
                                article=article.article)
            else:
                blocks.append(Block("para", "", text, rng))
            continue
        if div := _law_division(text):
            if article:
                blocks.append(article); article = None
            blocks.append(Block("heading", f"law-{div}", _one_space(text), rng))
            continue
        if law and (m := LAW_ARTICLE.match(text)):
            if article:
                blocks.append(article)
            label = f"第{m.group('n')}条"
            article = Block("para", "article", text, rng, article=label)
            continue
        if article and _ANNEX_TITLE.match(text):
            blocks.append(article); article = None   # the rules annexed after the articles are no 款
        if article:  # 款 and 项 lines belong to their article; a line wrapped mid-sentence continues its 款
            article = Block("para", "article", _article_line(article.text, text), (article.lines[0], ln.end),
                            article=article.article)
            continue
        style = styles[i]
        if style and not item_like(i):
            head, body = _split_marked(text)
            if len(head) <= MAX_HEADING:
                blocks.append(Block("heading", style, head, rng))
                if body:
                    blocks.append(Block("para", "", body, rng))
                continue
        elif not style and (m := _ORDINAL.match(text)):
            clause = _ORDINAL_CLAUSE.search(text, m.end())
            head = text[: clause.start()] if clause else text
            if len(head) <= MAX_HEADING:
                blocks.append(Block("heading", "ordinal", head, rng))
        elif not style and guess_titles and _is_title_line(text) and i + 1 < len(lines):
            prev = blocks[-1] if blocks else None
            if prev and prev.kind == "heading" and prev.style == "title" and prev.lines[1] + 1 == ln.start:
                sep = "" if prev.text.endswith(("——", "—", "：", ":")) else " "
                blocks[-1] = Block("heading", "title", prev.text + sep + text, (prev.lines[0], ln.end))
            else:
                blocks.append(Block("heading", "title", text, rng))
            continue
        blocks.append(Block("para", "", text, rng))
    if article:
        blocks.append(article)
    return blocks


_HAN = re.compile(r"[\u4e00-\u9fff]")
_NUMBERED = re.compile(r"^\d{1,3}(?:[.．]\d{1,3})+")   # 「3.1甲方…」: a numbered sub-clause of a contract or rule
WRAPPED_LINE_CHARS = 20   # a line cut at the margin is a full line; captions (「第一条（目的）」, 「第三条甲方的义务」) are shorter


def _article_line(article: str, line: str) -> str:
    """An article with its next line: a new 款 or 项 on a line of its own; the rest of a sentence that
    a PDF broke at the margin (「…原环境保护部、国」 + 「家发展和改革委员会…」) joined on. A broken line
    is a full line that stops inside a word: on a Chinese character, not on punctuation or a bracket."""
    last = article.rsplit("\n", 1)[-1]
    if (m := LAW_ARTICLE.match(article)) and m.end() == len(article):
        return article.rstrip() + " " + line   # 「第 1 條」 on a line of its own: its text follows
    if (len(last) >= WRAPPED_LINE_CHARS and _HAN.match(last[-1]) and _HAN.match(line[0])
            and not OPENER.match(line) and not _NUMBERED.match(line)):
        return glue(article, line)
    return article + "\n" + line


def meta_text(meta: dict[str, str]) -> str:
    keys = [k for k in META_ORDER if k in meta] + [k for k in meta if k not in META_ORDER]
    return "\n".join(f"{k}：{meta[k]}" for k in keys)


def _ranks(blocks: list[Block]) -> dict[int, tuple[int, int]]:
    """Heading rank of each heading block (lower = higher in the tree)."""
    order: dict[str, int] = {}
    ranks: dict[int, tuple[int, int]] = {}
    for n, b in enumerate(blocks):
        if b.kind != "heading":
            continue
        if b.level:
            ranks[n] = (b.level, 0)
        elif b.style.startswith("law-"):
            ranks[n] = (7, LAW_RANK[_SIMPLIFIED_DIVISION.get(b.style[4:], b.style[4:])])
        elif b.style == "title" and n + 1 < len(blocks) and blocks[n + 1].style.startswith("law-"):
            ranks[n] = (7, min(LAW_RANK.values()) - 1)  # the title of a regulation set inside the document
        else:
            ranks[n] = (7, order.setdefault(b.style, len(order)))
    return ranks


def named_by(file_name: str) -> str:
    """What a document's file name says of it, when it says something in words (it contains Chinese):
    the user's own name for it, which often gives the place or body its title leaves to the letterhead
    (「平顶山市2019年…决算草案的说明.pdf」, titled 「2019年全市及市本级决算草案的说明」); a file named by a
    number or hash (「000_2fea3bba.txt」) says nothing ("")."""
    stem = Path(file_name).stem
    return stem if re.search(r"[\u4e00-\u9fff]", stem) else ""


def _fallback_title(blocks: list[Block], name: str) -> str:
    """No title line: the file name when it reads as one (named_by); only a file named by a code
    (「002_2d655d4704b4aa68.txt」) falls back to the opening words of its first paragraph, which
    give its passages a topic (measured on questions/dev.jsonl: the file code costs R@1 and R@5)."""
    if named := named_by(name):
        return named
    for b in blocks:
        if b.kind == "para":
            first = re.split(r"[，,。；;！？!?]", b.text, maxsplit=1)[0]
            return first if len(first) <= 30 else first[:30] + "…"
    return Path(name).stem


def is_markdown(raw: RawDocument) -> bool:
    return raw.format == "md" or Path(raw.name).suffix.lower() in (".md", ".markdown")


def build_document(raw: RawDocument, cleaned: Cleaned | None = None) -> Document:
    cleaned = cleaned or clean(raw.text, blocks=raw.blocks)
    law = is_law(cleaned.lines)
    explicit = any(ln.level for ln in cleaned.lines)
    # Only plain text has to have its headings guessed from short lines; other formats mark them.
    plain = not raw.blocks and not is_markdown(raw)
    blocks = to_blocks(cleaned.lines, law=law, guess_titles=plain and not explicit)
    meta = dict(cleaned.meta)
    title = meta.get("标题") or _fallback_title(blocks, raw.name)

    def page(lines: tuple[int, int]) -> int | None:
        return raw.blocks[lines[0] - 1].page if raw.blocks and lines[0] - 1 < len(raw.blocks) else None

    def ocr(lines: tuple[int, int]) -> bool:
        return any(raw.blocks[i].ocr for i in range(lines[0] - 1, min(lines[1], len(raw.blocks))))

    paragraphs: list[Paragraph] = []
    if meta:
        rng = cleaned.meta_lines or (1, 1)
        paragraphs.append(Paragraph(f"{raw.name}#0", raw.name, 0, meta_text(meta), (META_SECTION,), title, rng,
                                    "meta", page(rng)))

    ranks = _ranks(blocks)
    ordinal = next((ranks[n] for n, b in enumerate(blocks) if b.kind == "heading" and b.style == "ordinal"), None)
    stack: list[tuple[tuple[int, int], str]] = []  # (rank, heading text)
    for n, b in enumerate(blocks):
        if b.kind == "heading":
            rank = ranks[n]
            nxt = n + 1
            if nxt >= len(blocks) or (blocks[nxt].kind == "heading" and ranks[nxt] <= rank):
                b = Block("para", "", b.text, b.lines)  # an empty section: its heading is text
            else:
                while stack and stack[-1][0] >= rank:
                    stack.pop()
                stack.append((rank, b.text))
                continue
        if _CLOSING.match(b.text) and stack and stack[-1][0] == ordinal:
            stack.pop()  # "总之，…" closes a 首先/其次 run and belongs to the parent section
        section = tuple(t for _, t in stack) + ((b.article,) if b.article else ())
        n_par = len(paragraphs) + (0 if meta else 1)
        paragraphs.append(Paragraph(f"{raw.name}#{n_par}", raw.name, n_par, b.text, section, title, b.lines,
                                    page=page(b.lines), ocr=ocr(b.lines)))
    return Document(raw.name, title, meta, tuple(paragraphs), raw.sha256,
                    kept_report(raw, cleaned, meta, paragraphs))


def kept_report(raw: RawDocument, cleaned: Cleaned, meta: dict, paragraphs: list[Paragraph]) -> KeptReport:
    """How much of the source text the document keeps (body, headings and metadata), and what went by which rule."""
    dropped_lines = cleaned.dropped()
    dropped = {rule: sum(chars(t) for t in ts) for rule, ts in dropped_lines.items()}
    total = max(cleaned.total_chars, 1)
    kept = max(total - sum(dropped.values()), 0)
    body = [p for p in paragraphs if p.kind == "body"]
    sections = len({p.section for p in body if p.section})
    warnings = list(raw.warnings)
    share = kept / total
    if not body:
        warnings.append("没有提取出任何正文段落")
    if share < KEPT_WARN:
        top = sorted(((v, r) for r, v in dropped.items()), reverse=True)[:3]
        why = "、".join(f"{r} {v} 字" for v, r in top)
        warnings.append(f"只保留了 {share:.0%} 的文字（删除：{why}）")
    return KeptReport(
        format="md" if is_markdown(raw) else raw.format, total_chars=cleaned.total_chars, kept_chars=kept, dropped=dropped,
        examples={r: ts[:5] for r, ts in dropped_lines.items()}, paragraphs=len(body), sections=sections,
        warnings=tuple(warnings),
    )


def reading_order(doc: Document) -> list[tuple[str, str, Paragraph | None]]:
    """The cleaned document as read: ("heading", text, None) and ("para", text, paragraph) items,
    each heading emitted where its section starts."""
    out: list[tuple[str, str, Paragraph | None]] = []
    prev: tuple[str, ...] = ()
    for p in doc.paragraphs:
        if p.kind == "body":
            for depth, heading in enumerate(p.section):
                if depth >= len(prev) or prev[depth] != heading:
                    out.append(("heading", heading, None))
                    prev = ()  # everything below a new heading is new too
            prev = p.section
        out.append(("para", p.text, p))
    return out
