"""Helpers shared by the block loaders: joining wrapped lines, web page chrome, title clean-up."""
from __future__ import annotations

import re

# A line ending in one of these is complete; a line without one was wrapped (or is a heading).
LINE_END = "。！？!?；;：:…”\"」』"
# Paragraph openers of Chinese official documents: 一、 （一） 1. （1） 第一条 ① ——
OPENER = re.compile(
    r"^\s*(?:[(（][一二三四五六七八九十百]{1,3}[)）]|[一二三四五六七八九十百]{1,3}[、.．]"
    r"|[(（]\d{1,3}[)）]|\d{1,3}(?:[.．]\d{1,3})*[.．、]?\s|\d{1,3}[.．、](?!\d)"
    r"|第[一二三四五六七八九十百零〇]{1,5}[章节条部分编]|[①-⑳]|——|[•·●■◆▪]\s?)"
)
_ASCII_WORD_END = re.compile(r"[A-Za-z0-9,.;:%)\]]$")
_ASCII_WORD_START = re.compile(r"^[A-Za-z0-9(\[]")


def glue(a: str, b: str) -> str:
    """Join two pieces of one wrapped paragraph: no space between CJK, one between Latin words."""
    a, b = a.rstrip(), b.lstrip()
    if a and b and _ASCII_WORD_END.search(a) and _ASCII_WORD_START.match(b):
        return a + " " + b
    return a + b


def breaks_off(line: str, after: str) -> bool:
    """Whether a line stops mid-sentence and the line after it opens nothing new (an item 一、/（一）/
    第X条/… or a bracketed note): the two are one sentence broken across lines."""
    return line[-1] not in LINE_END and not OPENER.match(after) and after[0] not in "(（【["


def join_broken_lines(lines: list[str]) -> list[str]:
    """Lines of one HTML paragraph split by <br>: a line that does not end a sentence is continued
    by the next one unless that one opens a new item (一、/（一）/第X条/…) or a bracketed note, or
    a short line (a title line) is followed by a sentence (the 主送机关 line after a title)."""
    out: list[str] = []
    for ln in (s.strip() for s in lines):
        if not ln:
            continue
        if out and breaks_off(out[-1], ln) and (len(out[-1]) >= 25 or not any(c in ln for c in "，。；：！？,;:!?")):
            out[-1] = glue(out[-1], ln)
        else:
            out.append(ln)
    return out


# Page chrome of Chinese government web pages, also printed into PDFs saved from a browser.
# Each pattern matches a whole line that is chrome, never a sentence of a document.
_CHROME_LINE = re.compile(
    r"^\s*(?:"
    r"[【\[]?\s*(?:打印(?:本页|此页|文章)?|关闭(?:窗口|本页)?|返回顶部|收藏|纠错|分享)\s*[】\]]?"
    r"(?:\s*[|｜]?\s*[【\[]?\s*(?:打印(?:本页|此页|文章)?|仅打印内容|关闭(?:窗口|本页)?|返回顶部|收藏|纠错|分享)\s*[】\]]?)*"
    r"|.*(?:ICP备|ICP证|公网安备|网站标识码|网站识别码).*"
    r"|.{0,40}(?:邮编|邮政编码)[:：]\s*\d{6}.{0,60}"
    r"|.{0,40}(?:版权所有|Copyright|©).{0,60}"
    r"|(?:主办单位|承办单位|主办|承办|技术支持|联系我们|网站地图|设为首页|加入收藏|添加收藏夹)[:：\s|｜].{0,80}"
    r"|.*(?:扫一扫|手机扫一扫|在手机打开|分享到).{0,30}"
    r"|.*(?:浏览次数|访问次数|点击数|阅读次数|浏览量)[:：]?\s*\d*.{0,10}"
    r"|.*字号[:：]?\s*[\[【]?\s*(?:大|默认)\s*[\]】]?\s*[\[【]?\s*(?:中|大)\s*[\]】]?.*"
    r"|(?:首页|主页)\s*[|｜>＞].*"
    r"|(?:当前位置|当前所在位置|您的位置|您现在的位置|您当前的位置|您当前所在的位置)[:：].*"
    r"|\S+\s*[>＞»›]\s*\S+(?:\s*[>＞»›]\s*\S+)+"
    r"|https?://\S+(?:\s+\d+\s*/\s*\d+)?"
    r"|\d{4}/\d{1,2}/\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?\s.*"
    r")\s*$",
    re.I,
)
# 「字号：大 中 小」 glued to the end of a useful line (发布时间… 来源… 字号…): cut it off.
_CHROME_TAIL = re.compile(r"\s*(?:字号[:：].*|[\[【]?打印[\]】]?.*|分享到[:：]?.*)$")


# Words of share/print button rows: a line made of nothing else is chrome
_CHROME_WORDS = frozenset("打印 关闭 收藏 分享 分享到 微博 微信 QQ QQ空间 朋友圈 复制链接 返回顶部 纠错 "
                          "大 中 小 默认 超大 A+ A- 【大】 【中】 【小】 [大] [中] [小] 字号 字号： | ｜".split())


def is_chrome(line: str) -> bool:
    words = [w for w in re.split(r"[\s|｜/、]+", line) if w]
    return bool(_CHROME_LINE.match(line)) or (bool(words) and all(w in _CHROME_WORDS for w in words))


def strip_chrome_tail(line: str) -> str:
    cut = _CHROME_TAIL.sub("", line)
    return cut if len(cut) >= 4 else line


_TITLE_SEPARATORS = re.compile(r"\s*(?:_{1,2}|\s[-–—|｜]\s|[-–|｜])\s*")


def title_from_page_title(title: str) -> str:
    """<title> of a web page minus its site name: the longest '_'/'-'/'|'-separated part."""
    title = re.sub(r"\s+", " ", title.replace("\u3000", " ")).strip()
    parts = [p for p in _TITLE_SEPARATORS.split(title) if p.strip()]
    return max(parts, key=len) if parts else title


def table_rows(grid: list[list[str]]) -> list[str]:
    """「列名：值；列名：值」 rows of a table whose first row (or first two rows, when the first one
    groups columns with merged cells) names the columns; a table without such a header gives its
    cells joined by 「；」. Cells repeated by a merge appear once per row."""
    grid = [[c.strip() for c in row] for row in grid if any(c.strip() for c in row)]
    if not grid:
        return []
    width = max(len(r) for r in grid)
    grid = [r + [""] * (width - len(r)) for r in grid]

    def header_like(row: list[str]) -> bool:
        filled = [c for c in row if c]
        return bool(filled) and len(filled) * 2 >= len(row) and all(len(c) <= 30 for c in filled)

    header, body = grid[0], grid[1:]
    filled = [c for c in header if c]
    if len(grid) > 2 and len(set(filled)) < len(filled) and header_like(grid[1]):
        header = [" ".join(dict.fromkeys(x for x in (a, b) if x)) for a, b in zip(grid[0], grid[1])]
        body = grid[2:]
    if width < 2 or not body or not header_like(header):
        return ["；".join(dict.fromkeys(c for c in row if c)) for row in grid]
    rows = []
    for row in body:
        cells = [f"{name}：{value}" if name and name != value else value
                 for name, value in zip(header, row) if value]
        if cells:
            rows.append("；".join(dict.fromkeys(cells)))
    return rows
