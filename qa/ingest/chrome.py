"""One vocabulary of web-page chrome: toolbar buttons, font-size widgets, footers, breadcrumbs.

A page's chrome comes as whole lines in a loader (qa/ingest/load_html.py, and PDFs saved from a
browser in qa/ingest/load_pdf.py) and again, when a loader could not tell, as lines of text that
qa/ingest/clean.py drops. Both read the same words from here.
"""
from __future__ import annotations

import re

# Widget words of page toolbars; a line made of nothing else (≤ 2 other characters) is a widget.
WIDGET_WORDS = re.compile(
    r"仅?打印(?:本页|此页|全文|内容)?|关闭(?:窗口|本页)?|(?:加入)?收藏(?:本页)?|分享到?|扫一扫\S{0,12}|"
    r"在手机打开当前页|(?:返回|回到)顶部|字号|字体|微信|微博|QQ空间|QQ|朋友圈|复制链接|(?:我要)?纠错|"
    r"[\[【(（]\s*(?:大|中|小|超大|特大|默认)\s*[\]】)）]"
)
# The size choices of a font-size widget: bare only after 字号/字体, or alone on their own line.
FONT_SIZES = re.compile(r"超大|特大|默认|大|中|小|A\+|A-")

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


def _button(word: str) -> bool:
    word = word.rstrip(":：")
    return bool(WIDGET_WORDS.fullmatch(word) or FONT_SIZES.fullmatch(word))


def is_chrome(line: str) -> bool:
    """A whole line of page chrome: one of the lines above, or a row of toolbar buttons only."""
    words = [w for w in re.split(r"[\s|｜/、]+", line) if w]
    return bool(_CHROME_LINE.match(line)) or (bool(words) and all(_button(w) for w in words))


def strip_chrome_tail(line: str) -> str:
    cut = _CHROME_TAIL.sub("", line)
    return cut if len(cut) >= 4 else line
