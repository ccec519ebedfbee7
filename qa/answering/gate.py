"""Stage 6b: the relevance gate — refuse before the model when no document is about the question.

The gate's thresholds are not typed in: they are calibrated on the corpus and the embedding model in
use, and stored next to the index build they belong to (`gate.json`), so a new model or a new corpus
gets its own. Calibration asks two kinds of probe questions of the index:

  on-topic   made from the corpus itself: for paragraphs spread evenly over the documents, the most
             informative words of one sentence, asked as a question ("城镇 新增 就业 调查 失业率？");
  off-topic  everyday questions no policy corpus answers (weather, cooking, sport, gadgets), fixed.

For each probe it records the best dense cosine and the share of its words found in the top
passages (coverage). Each threshold sits just above the highest off-topic probe, and the margin —
how far the median on-topic probe clears it — is reported (python -m qa index prints it). A question
passes when either signal reaches its threshold.
"""
from __future__ import annotations

import json
import logging
import re
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from qa.text.normalize import tokenize
from qa.text.sentences import content_tokens, sentence_spans

if TYPE_CHECKING:
    from qa.retrieval.retrieve import Retriever
    from qa.schema import Hit

log = logging.getLogger(__name__)
GATE_FILE = "gate.json"
GATE_VERSION = 1
N_ONTOPIC = 48          # corpus probes: enough to see the spread, cheap to embed (one batch)
PROBE_WORDS = 5         # a question names a handful of content words
COVERAGE_TOP = 3        # passages whose words count for coverage
_LATIN = re.compile(r"[a-z][a-z.'\-]*")   # tokens are lower-cased

# Everyday questions outside any body of official documents. They are the negative side of the
# calibration for every corpus; none is about a policy, a law, a place or a figure.
OFFTOPIC_PROBES = (
    "明天上海会下雨吗？", "怎样煮一碗好吃的面条？", "篮球比赛每节打多长时间？", "推荐一本适合周末读的小说。",
    "如何给猫洗澡？", "手机电池不耐用怎么办？", "怎么练好英语口语？", "周末去哪里爬山比较好？",
    "JavaScript 和 Java 有什么区别？", "世界上最高的山是哪座？", "帮我写一段生日祝福语。", "咖啡和茶哪个更提神？",
    "如何挑选一台笔记本电脑？", "太阳系有几颗行星？", "钢琴初学者应该先练什么？", "阳台上怎么种西红柿？",
    "火锅底料怎么炒才香？", "吉他的六根弦分别是什么音？", "怎么折一只纸飞机？", "电影院的爆米花为什么这么贵？",
    "How do I bake bread at home?", "What time does the football match start tonight?",
    "Which programming language should I learn first?", "Tell me a joke about cats.",
)


@dataclass(frozen=True)
class Gate:
    dense: float                    # best dense cosine at or above which a question is on topic
    coverage: float                 # coverage at or above which a question is on topic
    dense_margin: float             # distance of the dense threshold to the nearest probe
    coverage_margin: float
    model_id: str
    stats: dict = field(default_factory=dict)

    def passes(self, top_dense: float, cov: float) -> bool:
        return top_dense >= self.dense or cov >= self.coverage


def coverage(question: str, hits: Sequence["Hit"], translated: bool = False) -> float:
    """Length-weighted share of the question's content words found in the top passages.
    translated: the question is our translation of the user's; a name it left in Latin letters
    (「Ping An International Financial Leasing的…」) says how the translator did, not whether the
    documents are about it, and counts only when found."""
    q = content_tokens(question)
    found = set().union(*(content_tokens(h.chunk.context_text) for h in hits[:COVERAGE_TOP])) if hits else set()
    if translated:
        q = {t for t in q if t in found or not _LATIN.fullmatch(t)}
    if not q:
        return 0.0
    return sum(len(t) for t in q if t in found) / sum(len(t) for t in q)


def probe_questions(paragraphs: Sequence, idf: dict[str, float], n: int = N_ONTOPIC) -> list[str]:
    """On-topic probes: for paragraphs spread evenly over the corpus, the most informative words of
    their longest sentence, in reading order, asked as a question."""
    body = [p for p in paragraphs if p.kind == "body" and len(p.text) >= 20]
    if not body:
        return []
    step = max(1, len(body) // n)
    out = []
    for p in body[::step][:n]:
        sents = [p.text[s:e] for s, e in sentence_spans(p.text)] or [p.text]
        sent = max(sents, key=len)
        words = [w for w in dict.fromkeys(tokenize(sent, search=False)) if len(w) >= 2 and not any(c.isdigit() for c in w)]
        keep = set(sorted(words, key=lambda w: -idf.get(w, 0.0))[:PROBE_WORDS])
        picked = [w for w in words if w in keep]
        if len(picked) >= 2:
            out.append(" ".join(picked) + "？")
    return out


def signals(question: str, hits: Sequence["Hit"], translated: bool = False) -> tuple[float, float]:
    """(best dense cosine among the hits, coverage): what the gate judges a question by."""
    return max((h.dense or 0.0 for h in hits), default=0.0), coverage(question, hits, translated)


def _signals(retriever: "Retriever", questions: list[str], k: int) -> list[tuple[float, float]]:
    return [signals(q, retriever.search(q, k, "hybrid")) for q in questions]


def calibrate(retriever: "Retriever", paragraphs: Sequence, model_id: str, k: int = 5) -> Gate:
    """k: the hits a question is judged on (settings.top_k), the same at calibration as in use.

    Each threshold sits just above the highest off-topic probe: a question passes when it is closer
    to the corpus than any everyday question, by meaning (dense) or by words (coverage). The margin
    is how far the typical on-topic probe clears it."""
    on = _signals(retriever, probe_questions(paragraphs, retriever.idf), k)
    off = _signals(retriever, list(OFFTOPIC_PROBES), k)
    dense = round(max(d for d, _ in off) + 1e-4, 4)
    cov = round(max(c for _, c in off) + 1e-4, 4)

    def summary(xs: list[float]) -> dict:
        return {"n": len(xs), "min": round(min(xs), 4), "median": round(statistics.median(xs), 4), "max": round(max(xs), 4)} if xs else {"n": 0}
    on_d, on_c = [d for d, _ in on], [c for _, c in on]
    stats = {"ontopic_dense": summary(on_d), "offtopic_dense": summary([d for d, _ in off]),
             "ontopic_coverage": summary(on_c), "offtopic_coverage": summary([c for _, c in off]),
             "ontopic_passing": round(sum(d >= dense or c >= cov for d, c in on) / len(on), 4) if on else None,
             "version": GATE_VERSION, "k": k}
    dense_margin = round(statistics.median(on_d) - dense, 4) if on else 0.0
    cov_margin = round(statistics.median(on_c) - cov, 4) if on else 0.0
    return Gate(dense, cov, dense_margin, cov_margin, model_id, stats)


def load_or_calibrate(build_dir: Path, retriever: "Retriever", paragraphs: Sequence, model_id: str, k: int = 5) -> Gate:
    """The gate stored with an index build, calibrated (and stored) when missing or made for another
    embedding model; a build directory that cannot be written still gets a working gate."""
    path = Path(build_dir) / GATE_FILE
    try:
        o = json.loads(path.read_text(encoding="utf-8"))
        if o.get("model_id") == model_id and o.get("stats", {}).get("version") == GATE_VERSION and o["stats"].get("k") == k:
            return Gate(**o)
    except (OSError, ValueError, TypeError):
        pass
    gate = calibrate(retriever, paragraphs, model_id, k)
    try:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(gate), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("门限无法保存：%s", exc)
    return gate
