"""Scripted evaluation on a question set (JSON lines; format and metrics: docs/evaluation.md).

  python -m qa.eval --questions questions/dev.jsonl --out runs/dev [--model extractive | --retrieval-only]
      [-k 5] [--mode hybrid] [--compare mode=hybrid,bm25,dense] [--compare k=3,5]
      [--limit N] [--kinds number,fact] [--min answer_accuracy=0.8] [--max answer_latency_s.p95=10] [--fresh]

Writes DIR/results.jsonl (one line per question and configuration, appended as each question
finishes, so an interrupted run continues where it stopped), DIR/summary.json and DIR/report.html.
Exit codes: 0 done, 1 a --min/--max gate failed, 2 bad input (question file, flags, model), 130 interrupted.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shlex
import sys
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Mapping

from tqdm import tqdm

from qa.answering.rewrite import own_words
from qa.eval.answer_eval import answer_fields
from qa.verify.checks import spec_of
from qa.ingest.load import load_directory, load_file
from qa.eval.metrics import (
    MODES, RECALL_DEPTH, evidence_coverage, field_lines, gate_metrics, has_gold, hit_rank, metric_names, summarize, with_source,
)
from qa.eval.report import RunInfo, comparison_table, differences_table, failure_summary, fmt, write_report
from qa.settings import Settings
from qa.eval.questions import EvalError, Question, load_questions, select, unknown_documents

RESULTS = "results.jsonl"


@dataclass(frozen=True)
class Config:
    """One way of answering that a run evaluates; results are keyed by (question id, key)."""
    mode: str = "hybrid"
    k: int = 5
    model: str | None = None  # None: retrieval only
    # "full": the pipeline; "naive": the plain loop it is measured against (qa/answering/naive.py)
    pipeline: str = "full"
    ablate: str = ""          # checks switched off (qa/verify/checks.py), comma-separated, sorted

    @property
    def key(self) -> str:
        base = f"{self.mode}-k{self.k}"
        base = f"{base}-{Path(self.model).name}" if self.model else base
        if self.pipeline != "full":
            base += f"-{self.pipeline}"
        return base + (f"-off:{self.ablate}" if self.ablate else "")


def parse_compare(specs: list[str], base: Config) -> list[Config]:
    """`--compare FIELD=V1,V2` (repeatable): every combination of the listed values; unlisted fields
    keep the base configuration's value. Models vary slowest, so each model is loaded once."""
    values: dict[str, list] = {"model": [base.model], "mode": [base.mode], "k": [base.k]}
    seen = set()
    for spec in specs:
        name, sep, listed = (s.strip() for s in spec.partition("="))
        items = list(dict.fromkeys(v.strip() for v in listed.split(",") if v.strip()))
        if not sep or name not in values or not items:
            raise EvalError(f"--compare {spec!r}：应写作 字段=值1,值2，字段为 mode、k 或 model")
        if name in seen:
            raise EvalError(f"--compare 中 {name} 出现了两次")
        seen.add(name)
        if name == "mode" and (bad := [v for v in items if v not in MODES]):
            raise EvalError(f"--compare：未知检索模式 {', '.join(bad)}（可选 {', '.join(MODES)}）")
        if name == "k":
            if not all(v.isdigit() and int(v) >= 1 for v in items):
                raise EvalError(f"--compare k=…：k 应为正整数，得到 {listed}")
            items = [int(v) for v in items]
        if name == "model" and base.model is None:
            raise EvalError("--retrieval-only 不评测回答，不能比较 model")
        values[name] = items
    return [replace(base, model=model, mode=mode, k=k)
            for model in values["model"] for mode in values["mode"] for k in values["k"]]


@dataclass(frozen=True)
class Gate:
    metric: str
    bound: float
    at_least: bool  # --min: the value must be ≥ bound; --max: ≤ bound

    def failure(self, config: str, metrics: dict[str, float | None]) -> str | None:
        value = metrics.get(self.metric)
        sign = "≥" if self.at_least else "≤"
        if value is None:
            return f"未达标：{config} {self.metric} 未测得（没有这类问题），要求 {sign} {self.bound:g}"
        if (value < self.bound) if self.at_least else (value > self.bound):
            return f"未达标：{config} {self.metric} = {value:g}，要求 {sign} {self.bound:g}"
        return None


def parse_gates(mins: list[str], maxs: list[str], configs: list[Config]) -> list[Gate]:
    valid = list(dict.fromkeys(n for c in configs for n in metric_names(c.k, c.model is not None)))
    gates = []
    for specs, at_least, flag in ((mins, True, "--min"), (maxs, False, "--max")):
        for spec in specs:
            name, sep, value = (s.strip() for s in spec.partition("="))
            if name not in valid:
                raise EvalError(f"{flag} {spec!r}：未知指标 {name!r}；可用指标：{', '.join(valid)}")
            try:
                gates.append(Gate(name, float(value), at_least))
            except ValueError:
                raise EvalError(f"{flag} {spec!r}：应写作 指标=数值，例如 {flag} answer_accuracy=0.8") from None
    return gates


def read_rows(path: Path) -> dict[tuple[str, str], dict]:
    """The latest row per (question id, configuration); a line cut short by a kill is skipped."""
    rows = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
                rows[(row["id"], row["config"])] = row
            except (json.JSONDecodeError, KeyError, TypeError):
                continue
    return rows


def corpus_digest(docs_dir: Path) -> tuple[str, set[str]]:
    """(digest of the documents' contents, their names): results of another corpus are stale."""
    raws, _ = load_directory(Path(docs_dir))
    names = sorted((r.name, r.sha256) for r in raws)
    return hashlib.sha1(json.dumps(names).encode()).hexdigest()[:12], {r.name for r in raws}


def _passages(hits, sources: Mapping[str, str]) -> list[tuple[str, str]]:
    return [(h.chunk.doc, with_source(h.chunk.text, h.chunk.para_ids[0], sources)) for h in hits]


def meta_sources(documents, docs_dir: Path, ocr_cache: Path | None = None) -> dict[str, str]:
    """paragraph id → field_lines() of each document's metadata paragraph, read from the source file."""
    out = {}
    for doc in documents:
        meta = next((p for p in doc.paragraphs if p.kind == "meta"), None)
        path = Path(docs_dir) / doc.name
        if meta is not None and path.is_file():
            out[meta.id] = field_lines(meta.text, load_file(path, ocr_cache).text)
    return out


def timed_search(engine, depth: int) -> Callable[[str, str], tuple]:
    """search(query, mode) → (hits, seconds): one timed search per query text and mode, shared by
    the configurations of a run."""
    searched: dict[tuple[str, str], tuple] = {}

    def search(query: str, mode: str, also: str | None = None) -> tuple:
        if (query, mode, also) not in searched:
            t0 = time.perf_counter()
            hits = engine.search(query, k=depth, mode=mode, also=also)
            searched[(query, mode, also)] = hits, time.perf_counter() - t0
        return searched[(query, mode, also)]
    return search


def run_retrieval(engine, questions: list[Question], k: int, mode: str, progress: bool = True) -> tuple[list[dict], dict]:
    """Retrieval rows and summary (with the three-mode comparison in "modes") on an open engine, no files."""
    config, search = Config(mode, k), timed_search(engine, max(RECALL_DEPTH, k))
    sources = meta_sources(engine.index.documents.values(), engine.settings.docs_dir, Path(engine.settings.cache_dir) / "ocr")
    rows = [evaluate_question(q, config, search, None, "", sources)
            for q in tqdm(questions, desc=f"检索 {mode}", disable=not progress, file=sys.stderr)]
    return rows, summarize(rows, k, with_answers=False)


def evaluate_question(q: Question, config: Config, search: Callable, answerer, corpus: str,
                      sources: Mapping[str, str] | None = None) -> dict:
    """One result row. `search(query, mode)` → (hits to RECALL_DEPTH or deeper, seconds).

    With an answerer, retrieval is measured on the query the answer was built from: a question the
    model rewrote (an English question translated) is searched as rewritten, so the row's retrieved
    passages and retrieval failures are those the answer actually had."""
    sources = sources or {}
    fields = answer_fields(answerer, q, sources) if answerer is not None else None
    query = (fields or {}).get("standalone") or q.question
    also = own_words(q.question, query)   # as the answerer searches (qa/answering/rewrite.py)
    ranks, own = {}, None
    for mode in MODES:  # all three, so every row also carries the retrieval mode comparison
        hits, seconds = search(query, mode, also)
        ranks[mode] = hit_rank(_passages(hits, sources), q.evidence) if q.answerable else None
        if mode == config.mode:
            own = hits[: config.k], seconds
    top, seconds = own
    row = {
        "id": q.id, "config": config.key, "qhash": q.digest, "corpus": corpus,
        "question": q.question, "query": query, "kind": q.kind, "answerable": q.answerable, "answers": list(q.answers),
        "answers_all": [list(p) for p in q.answers_all], "history": list(q.history),
        "evidence": [{"doc": d, "quote": t} for d, t in q.evidence],
        "hit_rank": ranks[config.mode], "mode_ranks": ranks, "coverage": evidence_coverage(_passages(top, sources), q.evidence),
        "retrieved": [{"doc": h.chunk.doc, "para": h.chunk.para_ids[0], "section": h.chunk.section_path,
                       "text": h.chunk.text, "score": round(h.score, 5), "dense": h.dense, "bm25": h.bm25,
                       "gold": has_gold(h.chunk.doc, with_source(h.chunk.text, h.chunk.para_ids[0], sources), q.evidence)}
                      for h in top],
        "latency_s": {"search": round(seconds, 4)}, "time_s": round(seconds, 4),
    }
    if fields is not None:
        row.update(fields, latency_s={**row["latency_s"], **fields["latency_s"]}, time_s=fields["latency_s"]["wall"])
    row["ts"] = datetime.now().isoformat(timespec="milliseconds")
    return row


def run(settings: Settings, questions: list[Question], configs: list[Config], results: Path,
        corpus: str, progress: bool = True) -> int:
    """Evaluate every (question, configuration) pair that has no current row in `results`; returns
    how many were evaluated. Each row is appended and flushed as soon as it is done."""
    from qa.answering.answer import Answerer
    from qa.retrieval.engine import Engine
    from qa.answering.naive import NaiveAnswerer
    from qa.serve.service import EXTRACTIVE, load_answerer

    done = read_rows(results)
    depth = max(RECALL_DEPTH, *(c.k for c in configs))
    engine = None
    loaded: dict[str, Answerer] = {}
    count = 0
    with open(results, "a", encoding="utf-8") as f:
        if f.tell() and not results.read_bytes().endswith(b"\n"):
            f.write("\n")  # the previous run was killed mid-line
        for config in configs:
            todo = [q for q in questions
                    if (row := done.get((q.id, config.key))) is None or (row.get("qhash"), row.get("corpus")) != (q.digest, corpus)]
            if not todo:
                continue
            if engine is None:
                engine = Engine.open(settings, progress=lambda m: print(m, file=sys.stderr))
                for mode in MODES:  # first-call costs (dictionaries, kernels) are not a question's time
                    engine.search("预热", k=1, mode=mode)
                search = timed_search(engine, depth)
                sources = meta_sources(engine.index.documents.values(), settings.docs_dir, Path(settings.cache_dir) / "ocr")
            view = replace(engine, settings=engine.settings.with_(mode=config.mode, top_k=config.k, ablate=config.ablate))
            answerer = None
            if config.model:
                if config.model not in loaded:
                    loaded = {config.model: load_answerer(view, config.model)}  # one model in memory at a time
                    if config.model != EXTRACTIVE and loaded[config.model].generator is None:
                        raise EvalError(loaded[config.model].load_notice)  # never record extractive answers as the model's
                answerer = Answerer(view, loaded[config.model].generator, view.settings)
                if config.pipeline == "naive":
                    answerer = NaiveAnswerer(answerer)

            for q in tqdm(todo, desc=config.key, disable=not progress, file=sys.stderr):
                f.write(json.dumps(evaluate_question(q, config, search, answerer, corpus, sources), ensure_ascii=False) + "\n")
                f.flush()
                count += 1
    return count


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m qa.eval", description="在问题集上评测检索与问答")
    ap.add_argument("--questions", required=True, type=Path, help="问题集（JSON Lines，格式见 docs/evaluation.md）")
    ap.add_argument("--out", required=True, type=Path, help="输出目录：results.jsonl、summary.json、report.html")
    ap.add_argument("--retrieval-only", action="store_true", help="只评测检索")
    ap.add_argument("-k", type=int, help="交给回答的段落数（默认 5）")
    ap.add_argument("--mode", choices=MODES, help="检索模式（默认 hybrid）")
    ap.add_argument("--docs", help="文档目录（默认 seeds/）")
    ap.add_argument("--model", help="1.5b | 0.5b | extractive | 模型路径")
    ap.add_argument("--compare", action="append", default=[], metavar="FIELD=V1,V2",
                    help="同时评测多种配置，如 mode=hybrid,bm25,dense 或 k=3,5 或 model=1.5b,extractive；可重复，取组合")
    ap.add_argument("--limit", type=int, help="只评测（筛选后的）前 N 个问题")
    ap.add_argument("--kinds", help="只评测这些类型，逗号分隔，如 number,fact")
    ap.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE", help="指标低于该值时退出码为 1；可重复")
    ap.add_argument("--max", action="append", default=[], metavar="METRIC=VALUE", help="指标高于该值时退出码为 1；可重复")
    ap.add_argument("--fresh", action="store_true", help="丢弃输出目录中已有的结果，从头评测")
    ap.add_argument("--baseline", choices=["naive"],
                    help="同时评测朴素基线（同样的检索与段落、普通提示词、不做任何检查），并逐题对比")
    ap.add_argument("--ablate", metavar="NAME,…", help="关闭这些检查项（名称见 qa/verify/checks.py），衡量各项的作用")
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(argv)
    args.command = "python -m qa.eval " + shlex.join(argv)
    try:
        return _main(args)
    except EvalError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\n已中断：完成的问题已写入 {args.out / RESULTS}，再次运行同一命令即从中断处继续。", file=sys.stderr)
        return 130


def _main(args: argparse.Namespace) -> int:
    try:
        settings = Settings.load(docs_dir=args.docs, top_k=args.k, mode=args.mode, llm=args.model, ablate=args.ablate)
    except ValueError as exc:
        raise EvalError(str(exc)) from exc
    model = None if args.retrieval_only else settings.llm
    if args.baseline and (model is None or model == "extractive"):
        raise EvalError("--baseline naive 需要生成模型（不能与 --retrieval-only 或 extractive 同用）")
    configs = parse_compare(args.compare, Config(settings.mode, settings.top_k, model,
                                                 ablate=spec_of(settings.checks_off)))
    if args.baseline:
        configs += [replace(c, pipeline=args.baseline, ablate="") for c in configs]
    gates = parse_gates(args.min, args.max, configs)
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()] if args.kinds else None
    questions = select(load_questions(args.questions), kinds, args.limit)
    corpus, doc_names = corpus_digest(settings.docs_dir)
    warnings = unknown_documents(questions, doc_names)
    for w in warnings:
        print(f"警告：{w}", file=sys.stderr)

    args.out.mkdir(parents=True, exist_ok=True)
    results = args.out / RESULTS
    if args.fresh:
        results.unlink(missing_ok=True)
    n_new = run(settings, questions, configs, results, corpus)

    latest = read_rows(results)
    rows = {c.key: [latest[(q.id, c.key)] for q in questions] for c in configs}
    summaries = {c.key: {"config": c.key, "mode": c.mode, "k": c.k, "model": c.model,
                         **summarize(rows[c.key], c.k, c.model is not None)} for c in configs}
    primary = summaries[configs[0].key]
    summary = {**primary, "configs": summaries, "warnings": warnings}
    (args.out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), encoding="utf-8")
    report = args.out / "report.html"
    created = datetime.now().isoformat(timespec="seconds")
    write_report(report, RunInfo(str(args.questions), args.command, created, tuple(warnings)), summaries, rows)

    k = primary["k"]
    print(f"\n{len(questions)} 个问题 × {len(configs)} 种配置：新评测 {n_new} 项，沿用已有结果 {len(questions) * len(configs) - n_new} 项")
    print(f"\n检索（{configs[0].key}，{primary['n']} 个可回答问题）")
    print(f"{'模式':<8}{'R@1':>8}{f'R@{k}':>8}{'MRR':>8}")
    for m, s in primary["modes"].items():
        print(f"{m:<8}{fmt(s['recall@1']):>8}{fmt(s[f'recall@{k}']):>8}{fmt(s['mrr']):>8}")
    print(f"\n按类型（{configs[0].key}）：")
    for kind, s in primary["by_kind"].items():
        print(f"  {kind:<12} n={s['n']:<3} R@1={fmt(s['recall@1'])}  R@{k}={fmt(s[f'recall@{k}'])}")
    print("\n" + comparison_table(summaries) + "\n")
    for c in configs:
        print(f"{c.key} 未通过：{failure_summary(rows[c.key], c.k)}")
    for c in configs[1:]:
        if c.model is not None and (c.pipeline, c.ablate) != (configs[0].pipeline, configs[0].ablate):
            print(f"\n{differences_table(configs[0].key, rows[configs[0].key], c.key, rows[c.key])}")
    print(f"\n结果：{results}、{args.out / 'summary.json'}；报告：{report}")

    failures = [msg for c in configs for g in gates
                if (msg := g.failure(c.key, gate_metrics(summaries[c.key]))) is not None]
    for msg in failures:
        print(msg, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
