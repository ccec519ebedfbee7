"""Stage 8a: an answer as claims — its sentences, each with the [n] markers that follow it — and
whether it is a refusal. Shared by verification (qa/verify/cite.py), the naive loop and the eval."""
from __future__ import annotations

import re
from dataclasses import dataclass

REFUSAL = "文档中没有找到相关信息"
MARKER = re.compile(r"[\[【［]\s*(\d{1,2}(?:\s*[,，、]\s*\d{1,2})*)\s*[\]】］]")
SENT_END = "。！？!?；;"
_REFUSAL_PAT = re.compile(
    r"(没有找到|未找到|找不到|没有提[到及供]|未提[到及供]|并未(提|说明|涉及)|没有(相关|涉及|说明|给出|具体)|"
    r"无法(回答|确定|得知|判断)|不包含|不涉及|未说明|未涉及|资料中没有|文档中没有)"
)


@dataclass(frozen=True)
class RawClaim:
    text: str                  # without markers
    markers: tuple[int, ...]


def parse_claims(answer: str) -> list[RawClaim]:
    """Split an answer into sentences, attaching each [n] marker to the sentence it follows."""
    claims: list[list] = []          # [text, markers, closed]
    pos = 0

    def add_text(t: str) -> None:
        for ch in t:
            if not claims or claims[-1][2]:
                if ch.isspace():
                    continue
                claims.append(["", [], False])
            claims[-1][0] += ch
            if ch in SENT_END or ch == "\n":
                claims[-1][2] = True

    for m in MARKER.finditer(answer):
        add_text(answer[pos:m.start()])
        nums = [int(x) for x in re.split(r"[,，、]", m.group(1))]
        if claims:
            claims[-1][1].extend(n for n in nums if n not in claims[-1][1])
        pos = m.end()
    add_text(answer[pos:])
    return [RawClaim(t.strip(), tuple(mk)) for t, mk, _ in claims if t.strip() and re.search(r"\w", t)]


def is_refusal(text: str) -> bool:
    first = parse_claims(text)[:1]
    return bool(first) and bool(_REFUSAL_PAT.search(first[0].text)) or not text.strip()
