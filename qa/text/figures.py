"""Figures as Chinese official documents write them, reduced to (value, unit) so that two writings
of the same figure compare equal.

  1269万人 = 12,690,000人 = 一千二百六十九万人        unit scaling and Chinese numerals
  1.2万亿元 = 12000亿元                              万 / 亿 / 万亿 multipliers
  百分之九十 = 90%                                    percentages
  80多名 ≈ 80名, 近5000户 ≈ 5000户                   多/余/近/约/超过 approximations (flagged)
  3至5年, 5%—10%, 二至四人                            ranges: both ends carry the unit

Used by verification (qa/verify/cite.py): a claim's figure is supported by a passage figure with the same
value and a compatible unit. Every function is pure and works on normalized text (qa.text.normalize).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import cn2an
import jieba

_CN_DIGITS = "零〇一二两三四五六七八九十百千万亿"
_MULT = {"万": 1e4, "亿": 1e8, "万亿": 1e12, "千万": 1e7, "百万": 1e6, "十万": 1e5}
# A Chinese numeral counts only when it reads as a quantity: two or more numeral characters ("三十",
# "一百二十") or one followed by a measure word ("两名"); "统一" or "一是" are words, not figures.
_MEASURE = "个名人位户家所项期批次条座处件元年月日天倍岁株亩吨公里米"
_ARABIC = r"\d+(?:,\d{3})*(?:\.\d+)?"
# Units written as symbols (standards, technical and labour rules), read as figures() reads the unit
# written out: its first character (「35摄氏度」 → 摄, 「100平方米」 → 平). Without them 「35℃」 was a bare 35,
# which any unit matches, and 「高温津贴35元」 stood on 「35℃以上高温天气」. Normalized text writes ℃ as °c,
# ㎡ and m² as m2, m³ as m3.
_SYMBOL_UNITS = {"°c": "摄", "m2": "平", "m3": "立", "mg/l": "毫", "km": "公", "kg": "公"}
_SYMBOL = "(?:" + "|".join(re.escape(u) for u in sorted(_SYMBOL_UNITS, key=len, reverse=True)) + ")(?![a-z])"
# The first end of a range of Chinese numerals (the 二 of 「副主任二至四人」), read when the second end follows.
_CN_RANGE = r"(?:至|到)[一二两三四五六七八九十百千]"
_FIGURE = re.compile(
    # "最近一次", "附近" are words, not an approximate figure
    rf"(?P<pct>百分之)?(?P<approx1>(?<![最附接将临])近|约|超过|逾|达)?"
    rf"(?P<num>{_ARABIC}|[{_CN_DIGITS}]{{2,}}|[一二两三四五六七八九十](?=[多余]?个?(?:[{_MEASURE}]|小时|分钟|周岁)|{_CN_RANGE})|半(?=个?[年月天]))"
    # PDF text layers often set a space between a number and its unit ("6 个月", "75 %").
    rf"(?P<approx3>多|余)?(?: ?(?P<mult>万亿|千万|百万|十万|万|亿))?(?P<approx2>多|余)?"
    rf"(?: ?(?P<unit>%|‰|个月|个?半?小时|个?(?:自然|工作)日|{_SYMBOL}|[\u4e00-\u9fff]))?"
)
# Durations in one unit: "半年" = "6个月", "一年半" is not parsed (rare).
_MONTHS = {"年": 12.0, "月": 1.0}
# Units written differently for the same thing ("80多名" and "80多人"; laws count days in 日:
# "提前三十日" is "提前30天").
# Function words that can follow a number and are never its unit (per, by, of, and, or, with, long).
_NOT_UNITS = frozenset("每以的和或及与之其久")
_SAME_UNIT = ("名人位", "个家所座处项", "日天", "摄度")
_COUNTERS = "".join(_SAME_UNIT[:2])
_RANGE = re.compile(rf"(?P<a>{_ARABIC})\s*(?:至|到|-|—|~|～|－)\s*(?=\d)|(?P<cn>[{_CN_DIGITS}]+)(?:至|到)(?=[{_CN_DIGITS}])")
# A time of day, however written: 「22:00」 = 「22点」 = 「晚上10点」 = 「二十二时」 after 晚上. Value in minutes
# after midnight, unit 时刻. A Chinese-numeral hour needs its part of the day (「十八点五」 is 18.5).
_HALF_DAY = "上午|早上|早晨|中午|下午|傍晚|晚上|夜间|夜里|凌晨"
_CLOCK = re.compile(
    rf"(?:(?P<half>{_HALF_DAY})\s?)?(?:(?<![\d.第])(?P<h>\d{{1,2}})|(?<=\w)(?P<cn>[一二两三四五六七八九十]{{1,3}}))"
    rf"(?:\s?[:：]\s?(?P<m>\d{{2}})(?!\d)(?:\s?[点时])?|(?P<u>点钟|点|时)(?!许?[\d一二三四五六七八九十]+[倍个])(?:(?P<m2>\d{{1,2}})分|(?P<halfhour>半))?)"
)
_AFTERNOON = ("下午", "傍晚", "晚上", "夜间", "夜里")


def clock_times(text: str) -> list[Figure]:
    """Times of day in normalized text, as figures of unit 时刻 (minutes after midnight)."""
    out = []
    for m in _CLOCK.finditer(text):
        if m.group("cn") and not m.group("half"):
            continue
        hour = int(m.group("h")) if m.group("h") else _value(m.group("cn"))
        minute = int(m.group("m") or m.group("m2") or 0) + (30 if m.group("halfhour") else 0)
        if hour is None or hour > 24 or minute > 59:
            continue
        if m.group("half") in _AFTERNOON and 1 <= hour < 12:
            hour += 12
        value = float(hour * 60 + minute)
        out.append(Figure(value, "时刻", m.group(), m.start(), m.end(), False, value, value))
    return out


@dataclass(frozen=True)
class Figure:
    value: float
    unit: str           # "人", "元", "%", "年", or "" when the text gives none
    text: str           # as written
    start: int
    end: int
    approx: bool = False
    # The values the writing admits: "1200多万" is 1200万 up to 1300万, "近5000" 4500 to 5000,
    # "约5%" within a twentieth; an exact figure admits itself.
    low: float = 0.0
    high: float = 0.0

    def admits(self, value: float) -> bool:
        eps = 1e-9 * max(abs(value), 1.0)
        return self.low - eps <= value <= self.high + eps


def _value(num: str) -> float | None:
    if num == "半":
        return 0.5
    if num[0].isdigit():
        return float(num.replace(",", ""))
    try:
        return float(cn2an.cn2an(num, "normal"))
    except (ValueError, KeyError, TypeError):
        return None


_RANGE_WORD = re.compile(r"\s*(?:至|到|[-—–~～])\s*")


def _ends_day_range(before: list[Figure], text: str, start: int) -> bool:
    """Whether a bare 「N日」 closes a range that opened on a day of a month: 「10月5日至25日」."""
    return bool(before) and before[-1].unit == "号" and bool(_RANGE_WORD.fullmatch(text[before[-1].end:start]))


def figures(text: str) -> list[Figure]:
    """Figures of normalized text, in order. A range's first end takes the unit of its second."""
    out: list[Figure] = []
    for m in _FIGURE.finditer(text):
        value = _value(m.group("num"))
        if value is None:
            continue
        unit = m.group("unit") or ""
        unit = _SYMBOL_UNITS.get(unit, unit)
        if unit == "个月":
            unit = "月"
        elif unit.endswith("小时"):
            unit = "时"
        elif unit.endswith("日") and len(unit) > 1:
            unit = "工作日" if "工作" in unit else "日"   # 「30个自然日」 is 30天; a working day is not
        end = m.end()
        if unit == "周" and text[end:end + 1] == "岁":
            unit, end = "岁", end + 1   # 「年满四十周岁」: 周岁 counts years of age, as 岁 does (周 alone: weeks)
        if unit == "版" and re.fullmatch(r"(19|20)\d\d", m.group("num")):
            unit = "年"   # an edition's year: 「2024版」 is the 「2024年版」 of a guideline or standard
        if unit == "日" and (text[:m.start()].endswith("月") or _ends_day_range(out, text, m.start())):
            unit = "号"   # the day of a date ("7月5日", the 25日 of 「10月5日至25日」), not a count of days ("5天", "三十日")
        if m.group("pct"):
            unit = "%"
        elif unit in _CN_DIGITS or unit in "至到":  # a numeral run's tail or a range word: no unit
            unit = ""
        elif unit in _NOT_UNITS and end == m.end():
            unit, end = "", end - 1   # 「GB 8978每…」, 「8978多久」: a word after the number, not its unit
        scale = _MULT[m.group("mult")] if m.group("mult") else 1.0
        value *= scale
        low = high = value
        word = m.group("approx2") or m.group("approx3") or m.group("approx1") or ""
        if word in ("多", "余", "超过", "逾"):
            digits = m.group("num").replace(",", "").split(".")[0]
            step = 10 ** (len(digits) - len(digits.rstrip("0"))) if digits.isdigit() else 1
            high = value + step * scale
        elif word == "近":
            low = value * 0.9
        elif word == "约":
            low, high = value * 0.95, value * 1.05
        out.append(Figure(value, unit, text[m.start():end], m.start(), end, bool(word), low, high))
    for r in _RANGE.finditer(text):
        for i, f in enumerate(out[:-1]):
            if f.start == r.start("a" if r.group("a") else "cn") and not f.unit:
                out[i] = Figure(f.value, out[i + 1].unit, f.text, f.start, f.end, f.approx, f.low, f.high)
    clocks = clock_times(text)
    if clocks:   # a time of day replaces the numbers it is written with (「22」 and 「00」 of 「22:00」)
        out = sorted([f for f in out if not any(c.start < f.end and f.start < c.end for c in clocks)] + clocks,
                     key=lambda f: f.start)
    return out


def same_unit(a: str, b: str) -> bool:
    """An empty unit matches any ("1269万" is the 1269万人 figure); 名/人/位 and 个/家/所… count alike,
    and 个, the general classifier, counts people too ("五个代表" are "五人")."""
    return (not a or not b or a == b or any(a in g and b in g for g in _SAME_UNIT)
            or ("个" in (a, b) and all(u in _COUNTERS for u in (a, b))))


_ASKED = re.compile(r"多少|(?<!哪)几(?!乎)")   # 哪几: which ones, no count


_MONEY_ASKED = re.compile(r"多少钱|几块钱")
# What answers a question for an amount of money: 元 (万元, 亿元), or a multiple or share of another sum
# (「违法所得一倍以上五倍以下的罚款」, 「合同金额的1%」).
_MONEY_UNITS = ("元", "倍", "%")


def asked_unit(question: str) -> str:
    """The unit a question asks its figure in ("多少个中试基地" → 个, "几个月" → 月, "百分之多少" → %,
    "罚款多少钱" → 元), read as figures() reads a figure's unit; "" when it asks none ("多少特别国债")."""
    if _MONEY_ASKED.search(question):
        return "元"
    text = _ASKED.sub("9", question)
    for f in figures(text):
        if f.text.lstrip("百分之约近超过逾达").startswith("9") and (f.unit in _MEASURE or f.unit in ("%", "时")):
            # a unit character that starts a word is no unit ("多少人才" asks for no 人)
            at = f.end - 1
            word_end = next((e for _, b, e in jieba.tokenize(text) if b <= at < e), f.end)
            return f.unit if word_end <= f.end else ""
    return ""


def answers_unit(unit: str, asked: str) -> bool:
    """Whether a figure in unit answers a question asking in asked: the same unit as same_unit()
    reads it, a duration for a duration ("几个月" → "半年"), a multiple or share for money."""
    return (same_unit(unit, asked) or (unit in _MONTHS and asked in _MONTHS)
            or (asked == "元" and unit in _MONEY_UNITS))


# Words that state a change, by direction. A report gives a quantity both as a level (「还有49万贫困人口」,
# 「全市共有贫困村1101个」) and as a change (「减少1650万人」, 「由31.7%下降到9.12%」); a question for the
# change is not answered by the level.
_CHANGES = {
    "down": re.compile(r"减少|下降|降低|减贫|缩小|缩减|压减|下调|回落|降(?=[到至])"),
    "up": re.compile(r"增加|增长|提高|新增|上升|扩大|提升|上调"),
}
_REACHES = re.compile(r"了?[到至]")   # 「下降到」, 「提高到了」: the level a change reaches


def asked_change(question: str) -> str:
    """The direction of the change a question for one quantity asks ("实际减少了多少" → "down",
    "城镇新增就业多少人" → "up"): a change word in the clause before its 多少/几. "" when it asks a
    level — also the level a change reaches ("下降到多少", "提高到了多少": 「达到23%」 answers it) — or
    several things ("增长了多少？总量大概多少？")."""
    asks = list(_ASKED.finditer(question))
    if len(asks) != 1:
        return ""
    clause = re.split(r"[，,。；;？?！!]", question[:asks[0].start()])[-1]
    changes = [(d, bool(_REACHES.match(clause, m.end()))) for d, words in _CHANGES.items() for m in words.finditer(clause)]
    directions = {d for d, _ in changes}
    return directions.pop() if len(directions) == 1 and not any(r for _, r in changes) else ""


def states_change(text: str, direction: str) -> bool:
    return bool(_CHANGES[direction].search(text))


def _in_months(f: Figure) -> Figure:
    k = _MONTHS[f.unit]
    return Figure(f.value * k, "月", f.text, f.start, f.end, f.approx, f.low * k, f.high * k)


def same_figure(a: Figure, b: Figure) -> bool:
    """Same unit, and one writing admits the other's value: "1200多万人" is the 1269万人 of a report,
    "1269万人" is its "一千二百六十九万人"; a duration in years is one in months ("半年" = "6个月")."""
    if a.unit != b.unit and a.unit in _MONTHS and b.unit in _MONTHS:
        a, b = _in_months(a), _in_months(b)
    if not same_unit(a.unit, b.unit):
        return False
    return a.admits(b.value) or b.admits(a.value)


def find(fig: Figure, text_figures: list[Figure]) -> list[Figure]:
    return [f for f in text_figures if same_figure(fig, f)]


_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")


def date_spans(text: str) -> list[tuple[tuple[int, int, int], int, int]]:
    """Full dates written in digits with where each starts and ends: 「2007年4月5日」 → ((2007, 4, 5), start, end)."""
    return [((int(m.group(1)), int(m.group(2)), int(m.group(3))), m.start(), m.end()) for m in _DATE.finditer(text)]


def dated(text: str) -> list[tuple[tuple[int, int, int], int]]:
    """Full dates written in digits with where each starts: 「2007年4月5日」 → ((2007, 4, 5), start)."""
    return [(d, start) for d, start, _ in date_spans(text)]


def dates(text: str) -> list[tuple[int, int, int]]:
    """Full dates written in digits, (year, month, day): 「2007年4月5日」 → (2007, 4, 5)."""
    return [d for d, _ in dated(text)]


def misdated(claim_dates: list[tuple[int, int, int]], sentence: str) -> bool:
    """Whether a sentence gives a claimed date's month and day with another year: the day of a date
    belongs to the year written with it, so 「2000年3月17日」 does not support 「2008年3月17日」 even
    when the question gives 2008."""
    given = dates(sentence)
    return any(d not in given and any(g[1:] == d[1:] for g in given) for d in claim_dates)
