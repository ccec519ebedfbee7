"""Presentation of an evaluation run: the side-by-side table printed by python -m qa.eval, and
DIR/report.html — one self-contained page (inline CSS, charts as base64 PNG, no script, nothing
fetched) with the metrics, charts and every failure. Questions, answers and passages are untrusted
text: everything is escaped."""
from __future__ import annotations

import base64
import io
import json
from collections import Counter
from dataclasses import dataclass
from html import escape
from pathlib import Path

import matplotlib
from matplotlib import font_manager
from matplotlib.figure import Figure  # no pyplot: no global backend state, Agg renders the PNGs

from qa.eval.metrics import CHECKS, RECALL_DEPTH, failed_checks, gate_metrics, has_gold


@dataclass(frozen=True)
class RunInfo:
    questions_file: str
    command: str
    created: str
    warnings: tuple[str, ...] = ()


# The side-by-side table: (header, metric; None = recall at the configuration's own k).
TABLE = (("R@1", "recall@1"), ("R@k", None), ("MRR", "mrr"), ("答案准确率", "answer_accuracy"),
         ("引用命中率", "citation_hit_rate"), ("引用精度", "citation_precision"),
         ("数字可核对", "numbers_in_cited_passages"), ("数字可核对(原文)", "raw_numbers_in_cited_passages"),
         ("拒答准确率", "refusal_accuracy"), ("误拒率", "false_refusal_rate"),
         ("误删答案", "deleted_acceptable_rate"), ("核验丢答案", "lost_acceptable_rate"),
         ("核验放过错答", "verify_passed_wrong_rate"), ("错答率", "wrong_answer_rate"), ("秒/题", "time_per_question_s"))

LABELS = {
    "questions": "问题数", "n": "可回答问题数", "mrr": "MRR（前 k 内）",
    "latency_s.p50": "检索耗时 p50（秒）", "latency_s.p95": "检索耗时 p95（秒）", "time_per_question_s": "平均每题耗时（秒）",
    "answer_accuracy": "答案准确率", "citation_hit_rate": "引用命中率", "citation_precision": "引用精度",
    "numbers_in_cited_passages": "数字可核对率", "refusal_accuracy": "拒答准确率", "false_refusal_rate": "误拒率",
    "raw_numbers_in_cited_passages": "模型原文数字可核对率（核验前）", "sentences_deleted": "核验删除的句子数",
    "sentences_marked": "核验标记的句子数", "deleted_acceptable_rate": "核验误删正确答案的问题占比",
    "lost_acceptable_rate": "核验使正确答案变错或拒答的问题占比",
    "verify_passed_wrong_rate": "模型原文答错、检查后仍给出错误答案的可回答问题占比",
    "verify_stopped_wrong": "模型原文答错、检查后改为拒答的问题数", "wrong_answer_rate": "给出错误答案的问题占比（全部问题）",
    "answer_latency_s.p50": "回答耗时 p50（秒）", "answer_latency_s.p95": "回答耗时 p95（秒）",
    "answer_latency_s.first_token_p50": "首字 p50（秒）", "answer_latency_s.first_token_p95": "首字 p95（秒）",
}


def fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return str(value) if isinstance(value, int) else f"{value:.3f}"


def label(metric: str) -> str:
    if metric in LABELS:
        return LABELS[metric]
    name, _, k = metric.partition("@")
    return {"recall": f"前 {k} 命中率", "evidence_recall": f"前 {k} 证据覆盖率"}.get(name, metric)


def comparison_table(summaries: dict[str, dict]) -> str:
    """Markdown, so it pastes into docs/ as printed."""
    lines = ["| 配置 | " + " | ".join(h for h, _ in TABLE) + " |", "|---" * (len(TABLE) + 1) + "|"]
    for key, s in summaries.items():
        m = gate_metrics(s)
        lines.append(f"| {key} | " + " | ".join(fmt(m.get(name or f"recall@{s['k']}")) for _, name in TABLE) + " |")
    return "\n".join(lines)


# ---------------------------------------------------------------- charts (ASCII axis text; names may be Chinese)

def _fonts() -> list[str]:
    # Kinds and model names come from the user's files: a CJK font (Debian fonts-noto-cjk) as fallback
    # keeps them from rendering as boxes; without one, matplotlib's default is used.
    cjk = sorted({f.name for f in font_manager.fontManager.ttflist if "CJK" in f.name and "Mono" not in f.name})
    simplified = [n for n in cjk if n.endswith(" SC")]
    return ["DejaVu Sans", *(simplified or cjk)[:1]]


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(width: float = 8.0, height: float = 3.2):
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    ax.grid(axis="y", alpha=0.3)
    return fig, ax


def bar_chart(groups: list[str], series: dict[str, list[float | None]], ylabel: str) -> str:
    """Grouped bars: one group per kind, one bar per configuration; a missing value leaves a gap."""
    fig, ax = _figure(max(6.0, 0.9 * len(groups) * max(1, len(series)) ** 0.5 + 2))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [g + i * width for g, v in enumerate(values) if v is not None]
        bars = ax.bar(xs, [v for v in values if v is not None], width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)  # a 0 bar is visible as its label
    ax.set_xticks([g + width * (len(series) - 1) / 2 for g in range(len(groups))], groups, rotation=20)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def latency_chart(times: dict[str, list[float]]) -> str:
    fig, ax = _figure(8.0, 0.5 * len(times) + 1.5)
    ax.boxplot(list(times.values()), orientation="horizontal", tick_labels=list(times))
    ax.set_xscale("log")
    ax.set_xlabel("seconds per question (log scale)")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def recall_chart(curves: dict[str, list[float | None]]) -> str:
    fig, ax = _figure()
    ks = list(range(1, RECALL_DEPTH + 1))
    for name, values in curves.items():
        ax.plot(ks, [float("nan") if v is None else v for v in values], marker="o", label=name)
    ax.set_xticks(ks)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, loc="lower right")
    return _png(fig)


def charts(summaries: dict[str, dict], rows: dict[str, list[dict]]) -> list[tuple[str, str]]:
    """(caption, data URI) for each chart of the report."""
    out = []
    with matplotlib.rc_context({"font.family": _fonts()}):
        answered = {key: s for key, s in summaries.items() if "answer_by_kind" in s}
        if answered:
            kinds = sorted({kind for s in answered.values() for kind in s["answer_by_kind"]})
            out.append(("各类型答案准确率（不可回答的类型：拒答即为正确）", bar_chart(
                kinds, {key: [s["answer_by_kind"].get(kind, {}).get("accuracy") for kind in kinds]
                        for key, s in answered.items()}, "answer accuracy")))
        kinds = sorted({kind for s in summaries.values() for kind in s["by_kind"]})
        out.append(("各类型检索命中率（前 k 段内，k 为各配置的 k）", bar_chart(
            kinds, {key: [s["by_kind"].get(kind, {}).get(f"recall@{s['k']}") for kind in kinds]
                    for key, s in summaries.items()}, "recall@k")))
        out.append(("每题耗时分布（有模型时为回答耗时，否则为检索耗时）",
                    latency_chart({key: [r["time_s"] for r in rs] for key, rs in rows.items()})))
        out.append((f"检索命中率 recall@k，k = 1…{RECALL_DEPTH}", recall_chart(
            {key: list(s["recall_curve"].values()) for key, s in summaries.items()})))
    return out


# ---------------------------------------------------------------- HTML

CSS = """
body{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:1400px;
 padding:0 1em;color:#222;line-height:1.45}
table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:.3em .5em;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.failures td{font-size:.9em;max-width:28em}.check{color:#a00;white-space:nowrap}.gold{background:#e7f6e7}
.warn{color:#8a5a00}details{margin:.6em 0}figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:.9em;color:#555}
ol{margin:0;padding-left:1.4em}code{font-size:.9em}
"""


def _metric_table(summaries: dict[str, dict]) -> str:
    flat = {key: gate_metrics(s) for key, s in summaries.items()}
    names = list(dict.fromkeys(n for m in flat.values() for n in m))
    head = "".join(f"<th>{escape(key)}</th>" for key in summaries)
    body = "".join(
        f"<tr><th>{escape(label(n))} <code>{escape(n)}</code></th>"
        + "".join(f'<td class="num" data-config="{escape(key)}" data-metric="{escape(n)}" '
                  f'data-value="{escape(json.dumps(m.get(n)))}">{fmt(m.get(n))}</td>' for key, m in flat.items())
        + "</tr>" for n in names)
    return f"<table><tr><th>指标</th>{head}</tr>{body}</table>"


def _passages(items: list[dict], gold: list[bool], text_key: str) -> str:
    lis = "".join(f'<li{" class=gold" if g else ""}><code>{escape(p["para"])}</code> {escape(p[text_key])}</li>'
                  for p, g in zip(items, gold))
    return f"<ol>{lis}</ol>" if lis else "—"


def _query_note(row: dict) -> str:
    # A rewritten (translated) question is what retrieval and the answer were built from.
    query = row.get("query")
    return f'<br><small>检索用：{escape(query)}</small>' if query and query != row["question"] else ""


def _failure_row(key: str, row: dict, checks: list[str]) -> str:
    evidence = [(e["doc"], e["quote"]) for e in row["evidence"]]
    retrieved = row["retrieved"]
    cells = [
        escape(row["id"]), escape(row["kind"]), escape(row["question"]) + _query_note(row),
        escape(" / ".join(row["answers"])) or "（不可回答）",
        "<br>".join(f"<code>{escape(d)}</code> {escape(q)}" for d, q in evidence) or "—",
        escape(row.get("answer", "（只评测检索）")),
        _passages(row.get("citations", []), row.get("gold_cited", []), "quote"),
        f"<details><summary>前 {len(retrieved)} 段</summary>"
        f"{_passages(retrieved, [p.get('gold', has_gold(p['doc'], p['text'], evidence)) for p in retrieved], 'text')}</details>",
        "<br>".join(f'<span class="check">{escape(CHECKS[c])}</span>' for c in checks),
    ]
    return (f'<tr class="failure" data-config="{escape(key)}" data-id="{escape(row["id"])}" '
            f'data-checks="{" ".join(checks)}">' + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")


def outcome(row: dict) -> str:
    """right | refused (an answerable question refused) | wrong (a wrong answer, or an unanswerable one answered)."""
    if row["correct"]:
        return "right"
    return "refused" if row["abstained"] else "wrong"


_OUTCOME = {"right": "对", "refused": "拒答", "wrong": "错"}


def _paired(rows_a: list[dict], rows_b: list[dict]) -> list[tuple[dict, dict]]:
    """The rows of the same question in two configurations, in the order of rows_a."""
    b_by_id = {r["id"]: r for r in rows_b}
    return [(a, b_by_id[a["id"]]) for a in rows_a if a["id"] in b_by_id]


def differences(rows_a: list[dict], rows_b: list[dict]) -> list[tuple[dict, dict]]:
    """The questions (same order) whose outcome differs between two configurations."""
    return [(a, b) for a, b in _paired(rows_a, rows_b) if outcome(a) != outcome(b)]


def differences_table(key_a: str, rows_a: list[dict], key_b: str, rows_b: list[dict]) -> str:
    """Markdown: how the outcomes of two configurations cross, then each question that differs."""
    pairs = differences(rows_a, rows_b)
    cross = Counter((outcome(a), outcome(b)) for a, b in _paired(rows_a, rows_b))
    names = list(_OUTCOME)
    lines = [f"{key_a}（行）对 {key_b}（列）：", "| | " + " | ".join(_OUTCOME[n] for n in names) + " |", "|---" * 4 + "|"]
    lines += [f"| {_OUTCOME[a]} | " + " | ".join(str(cross.get((a, b), 0)) for b in names) + " |" for a in names]
    lines.append(f"\n逐题差异（{len(pairs)} 题）：")
    for a, b in pairs:
        lines.append(f"- {a['id']} {a['question']}：{_OUTCOME[outcome(a)]}「{_short(a.get('answer', ''))}」"
                     f" / {_OUTCOME[outcome(b)]}「{_short(b.get('answer', ''))}」")
    return "\n".join(lines)


def _short(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n] + "…"


def _differences_html(keys: list[str], rows: dict[str, list[dict]]) -> str:
    out = []
    for key in keys[1:]:
        if "answer" not in next(iter(rows[key]), {}) or "answer" not in next(iter(rows[keys[0]]), {}):
            continue
        pairs = differences(rows[keys[0]], rows[key])
        body = "".join(f"<tr><td>{escape(a['id'])}</td><td>{escape(a['question'])}</td>"
                       f"<td>{_OUTCOME[outcome(a)]}：{escape(a.get('answer', ''))}</td>"
                       f"<td>{_OUTCOME[outcome(b)]}：{escape(b.get('answer', ''))}</td></tr>" for a, b in pairs)
        out.append(f"<details open><summary><b>{escape(keys[0])} 对 {escape(key)}：{len(pairs)} 题结果不同</b></summary>"
                   f"<table><tr><th>编号</th><th>问题</th><th>{escape(keys[0])}</th><th>{escape(key)}</th></tr>{body}</table></details>")
    return "".join(out)


def failure_summary(rows: list[dict], k: int) -> str:
    """「检索未命中 2，答案错误 1」: how many questions fail each check."""
    failed = [failed_checks(r, k) for r in rows]
    return "，".join(f"{CHECKS[c]} {n}" for c in CHECKS if (n := sum(c in cs for cs in failed))) or "全部通过"


def _failures(key: str, k: int, rows: list[dict], open_: bool) -> str:
    failed = [(r, checks) for r in rows if (checks := failed_checks(r, k))]
    head = "".join(f"<th>{h}</th>" for h in ("编号", "类型", "问题", "期望答案", "标准出处", "给出的回答",
                                               "引用（绿色：含标准出处）", "检索到的段落（绿色：含标准出处）", "未通过的检查"))
    table = (f'<table class="failures"><tr>{head}</tr>' + "".join(_failure_row(key, r, c) for r, c in failed)
             + "</table>") if failed else ""
    return (f"<details{' open' if open_ else ''}><summary><b>{escape(key)}：{len(failed)} / {len(rows)} 题未通过</b>"
            f"（{escape(failure_summary(rows, k))}）</summary>{table}</details>")


def render(info: RunInfo, summaries: dict[str, dict], rows: dict[str, list[dict]]) -> str:
    """The whole page; `rows[key]` are the result rows (one per question) of configuration `key`."""
    n = len(next(iter(rows.values()), []))
    warnings = "".join(f"<li>{escape(w)}</li>" for w in info.warnings)
    figures = "".join(f'<figure><img alt="{escape(caption)}" src="{uri}"><figcaption>{escape(caption)}</figcaption></figure>'
                      for caption, uri in charts(summaries, rows))
    failures = "".join(_failures(key, s["k"], rows[key], i == 0) for i, (key, s) in enumerate(summaries.items()))
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>问答评测报告</title><style>{CSS}</style></head>
<body>
<h1>问答评测报告</h1>
<p>问题集 <code>{escape(info.questions_file)}</code>，{n} 个问题，{len(summaries)} 种配置；生成于 {escape(info.created)}。<br>
命令：<code>{escape(info.command)}</code></p>
{f'<h2>警告</h2><ul class="warn">{warnings}</ul>' if warnings else ''}
<h2>指标</h2>
<p>定义见 docs/evaluation.md「Metrics」。— 表示没有可计算的问题（例如问题集中没有不可回答的问题）。</p>
{_metric_table(summaries)}
<h2>图表</h2>
{figures}
<h2>逐题差异</h2>
{_differences_html(list(summaries), rows) or '<p>—</p>'}
<h2>未通过的问题</h2>
{failures}
</body></html>
"""


def write_report(path: Path, info: RunInfo, summaries: dict[str, dict], rows: dict[str, list[dict]]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(render(info, summaries, rows), encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a report
