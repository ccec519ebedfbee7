"""Stage 6a: make the question standalone before retrieval.

A follow-up ("那定西呢？") is rewritten from the conversation; a question not written in Chinese
is translated, since the index and the BM25 vocabulary are Chinese. The local model does both
when it is loaded; without it a rule swaps the follow-up's place/person/organisation name into
the previous question.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable, Mapping

from pypinyin import lazy_pinyin

from .normalize import to_simplified
from .sentences import PLACE_SUFFIXES, named_entities

# Openers that lean on the previous turn; "这篇…" or a merely short question can stand alone.
_FOLLOWUP_START = re.compile(r"^(那|那么|还有|另外|此外|它的|其|他们|她|他|上述|同样)")
_ENTITY_FLAGS = ("ns", "nr", "nt", "nz")
_CJK = re.compile(r"[\u3400-\u9fff]")

REWRITE_SYSTEM = "你把用户的最后一个问题改写成一个意思完整、可以单独理解的中文问题。只输出改写后的问题，不要回答。"


def is_followup(question: str, history: list[tuple[str, str]]) -> bool:
    q = question.strip()
    return bool(history) and (bool(_FOLLOWUP_START.match(q)) or q.rstrip("？?。 ").endswith("呢"))


def needs_translation(question: str) -> bool:
    letters = [c for c in question if c.isalpha()]
    return bool(letters) and len(_CJK.findall(question)) < 0.3 * len(letters)


def _entities(text: str) -> list[tuple[str, str]]:
    return named_entities(text, _ENTITY_FLAGS)


_PLACE_SUFFIX = re.compile(f"[{PLACE_SUFFIXES}]$")
_LATIN_NAME = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z]+)?\b")


def name_glossary(texts: Iterable[str]) -> dict[str, str]:
    """Pinyin spelling → Chinese name, for the place and person names of the corpus ("longnan" →
    "陇南"): a small model transliterates names badly, the corpus knows how they are written."""
    out: dict[str, str] = {}
    for text in texts:
        for word, flag in _entities(text):
            if flag not in ("ns", "nr") or len(word) < 2:
                continue
            base = _PLACE_SUFFIX.sub("", word) if len(word) > 2 else word
            if len(base) >= 2 and all(_CJK.match(c) for c in base):
                out.setdefault("".join(lazy_pinyin(base)), base)
    return out


# Names whose usual English form is not their pinyin (陕西 is spelled Shaanxi to tell it from 山西).
EXONYMS = {"shaanxi": "陕西", "innermongolia": "内蒙古", "tibet": "西藏", "hongkong": "香港", "macau": "澳门",
           "macao": "澳门", "beijing": "北京"}
# The policy vocabulary a small model translates loosely ("village-based team" → "村-based团队"), in
# the words the documents use, so the translated question finds them.
TERMS = {
    "cpc central committee": "党中央", "party central committee": "党中央", "central committee": "中央",
    "state council": "国务院", "organization department": "组织部", "party committee": "党委",
    "party branch": "党支部", "party organization": "党组织", "party secretary": "党组织书记",
    "party member": "党员", "first secretary": "第一书记", "first secretaries": "第一书记",
    "village-stationed": "驻村", "village-based": "驻村", "stationed in villages": "驻村",
    "work team": "工作队", "cadre": "干部", "targeted poverty alleviation": "精准扶贫",
    "poverty alleviation": "扶贫", "poverty relief": "扶贫", "battle against poverty": "脱贫攻坚",
    "poverty eradication": "脱贫攻坚", "poor village": "贫困村", "poverty-stricken village": "贫困村",
    "poor household": "贫困户", "poor population": "贫困人口", "poverty incidence": "贫困发生率",
    "poverty rate": "贫困发生率", "disposable income": "可支配收入", "collective economy": "集体经济",
    "collective economies": "集体经济", "village committee": "村委会", "living allowance": "生活补助",
    "living subsidy": "生活补助", "training class": "培训班", "township": "乡镇",
}
_TERM = re.compile(r"\b(" + "|".join(re.sub(r"[ -]", "[ -]", t) for t in sorted(TERMS, key=len, reverse=True))
                   + r")(?:e?s)?\b", re.I)
_TERM_KEYS = {re.sub(r"[ -]", " ", t): zh for t, zh in TERMS.items()}


def glossary_hints(question: str, glossary: Mapping[str, str]) -> list[tuple[str, str]]:
    """(English, Chinese) pairs for an English question: its capitalised names found in the corpus
    glossary (or a known exonym), a two-word name also word by word ("Huayuan County" → 花垣), and
    policy terms."""
    hints: list[tuple[str, str]] = []

    def add(latin: str, chinese: str) -> None:
        if (latin, chinese) not in hints:
            hints.append((latin, chinese))

    def lookup(name: str) -> str | None:
        key = re.sub(r"[ -]", "", name).lower()
        return glossary.get(key) or EXONYMS.get(key)

    for m in _LATIN_NAME.finditer(question):
        if (zh := lookup(m.group())) is not None:
            add(m.group(), zh)
            continue
        for word in re.split(r"[ -]", m.group()):
            if (zh := lookup(word)) is not None:
                add(word, zh)
    for m in _TERM.finditer(question):
        add(m.group(), _TERM_KEYS[re.sub(r"[ -]", " ", m.group(1).lower())])
    return hints


def rule_rewrite(question: str, previous: str) -> str:
    """Swap the follow-up's named entity into the previous question; else join the two."""
    new = _entities(question)
    if not new:
        return f"{previous.rstrip('？?。')}，{question}"
    word, flag = new[0]
    prev_simpl = to_simplified(previous)
    for old, old_flag in _entities(previous):
        if old_flag == flag and old in prev_simpl:
            at = prev_simpl.index(old) + len(old)
            if prev_simpl[at:at + 1] == word[-1]:  # "陇南|市" + "定西市" must not give "定西市市"
                word = word[:-1]
            return prev_simpl.replace(old, word, 1)
    return f"{word}：{previous}"


def model_rewrite(question: str, history: list[tuple[str, str]], chat: Callable[[list[dict], int], str],
                  hints: list[tuple[str, str]] = ()) -> str | None:
    turns = "\n".join(f"用户：{q}\n助手：{a[:80]}" for q, a in history[-2:])
    examples = (
        "示例：\n对话：用户：陇南市的贫困发生率降到了多少？\n助手：7.8%。\n最后的问题：那定西呢？\n"
        "改写：定西市的贫困发生率降到了多少？\n\n"
        "示例：\n最后的问题：How much is the monthly living allowance for county-level village doctors?\n"
        "改写：县级乡村医生每月的生活补助是多少？\n\n"
    )
    names = f"译名：{'、'.join(f'{a}={b}' for a, b in hints)}\n" if hints else ""
    user = f"{examples}对话：\n{turns}\n最后的问题：{question}\n{names}改写："
    out = chat([{"role": "system", "content": REWRITE_SYSTEM}, {"role": "user", "content": user}], 60)
    out = out.strip().splitlines()[0].strip() if out.strip() else ""
    out = re.sub(r"^(改写|问题)[:：]\s*", "", out)
    for latin, chinese in hints:  # a name the model left in Latin letters ("Longnan有多少…")
        out = re.sub(rf"\b{re.escape(latin)}\b", chinese, out)
    if not out or len(out) > 120 or not _CJK.search(out):
        return None
    return out


def standalone_question(
    question: str,
    history: list[tuple[str, str]],
    chat: Callable[[list[dict], int], str] | None,
    glossary: Mapping[str, str] | None = None,
) -> str | None:
    """The rewritten question, or None when the question already stands alone."""
    follow = is_followup(question, history)
    translate = needs_translation(question)
    if not (follow or translate):
        return None
    if chat is not None:
        hints = glossary_hints(question, glossary or {}) if translate else []
        rewritten = model_rewrite(question, history if follow else [], chat, hints)
        if rewritten:
            return rewritten
    if follow:
        return rule_rewrite(question, history[-1][0])
    return None
