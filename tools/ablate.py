"""What each check of qa/verify/checks.py is worth on a recorded run: the ablation table of docs/checks.md.

    python tools/ablate.py runs/blind --questions questions/blind.jsonl --docs corpora/blind [--checks place,unit]

Checks that run after generation (verification, conflicts) are measured by replaying the run's
recorded model answers through `Answerer.check` with the check switched off: generation does not
depend on them, so the replay is what a new run would give. Checks before generation (gate, frame,
fields) change what the model reads; they are measured from rows of the same results.jsonl that a run
with `python -m qa.eval … --ablate NAME` added (configuration key `…-off:NAME`).

For each check, over the questions: right answers it saves (right with it, not without), right
answers it costs (right without it, not with), wrong answers it stops (a wrong answer without it, a
refusal or a right answer with it) and wrong answers it causes.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.answering.answer import Answerer  # noqa: E402
from qa.eval.answer_eval import final_verdict  # noqa: E402
from qa.verify.checks import CHECKS, DEFAULT_OFF  # noqa: E402
from qa.retrieval.engine import Engine  # noqa: E402
from qa.eval.questions import load_questions  # noqa: E402
from qa.generate.llm import token_counter  # noqa: E402
from qa.eval.report import outcome  # noqa: E402
from qa.settings import Settings  # noqa: E402

BEFORE_GENERATION = ("gate", "frame", "fields")


def effect(with_check: dict[str, str], without: dict[str, str]) -> dict[str, list[str]]:
    """Question ids by what the check does: outcomes (right/refused/wrong) with it and without it."""
    out: dict[str, list[str]] = {"saves": [], "costs": [], "stops": [], "causes": []}
    for qid, on in with_check.items():
        off = without.get(qid)
        if off is None or off == on:
            continue
        if on == "right":
            out["saves"].append(qid)
        if off == "right":
            out["costs"].append(qid)
        if off == "wrong":
            out["stops"].append(qid)
        if on == "wrong":
            out["causes"].append(qid)
    return out


def replay(engine, rows, questions, count, k: int, spec: str = "") -> dict[str, str]:
    """Outcomes of the recorded answers checked again with the checks `spec` switches (qa/verify/checks.py)."""
    answerer = Answerer(engine, None, engine.settings.with_(ablate=spec))
    out = {}
    for row in rows:
        q = questions.get(row["id"])
        if q is None or q.history:
            continue
        if not row.get("raw"):   # refused before the model: verification does not run
            out[row["id"]] = outcome(row)
            continue
        ans = answerer.replay(q.question, row.get("standalone") or q.question, row["raw"], k, count)
        out[row["id"]] = outcome({"correct": final_verdict(ans, q), "abstained": ans.abstained})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--docs", type=Path, default=None)
    ap.add_argument("--model", default="1.5b", help="whose tokenizer budgets the passages")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--checks", help="comma-separated (default: all)")
    ap.add_argument("--json", type=Path, help="also write the table as JSON here")
    a = ap.parse_args(argv)
    names = [n for n in (a.checks.split(",") if a.checks else CHECKS) if n]
    settings = Settings.load(docs_dir=a.docs)
    engine = Engine.open(settings)
    count = token_counter(a.model, settings.cache_dir)
    questions = {q.id: q for q in load_questions(a.questions)}
    rows_by_config: dict[str, dict[str, dict]] = {}
    for line in (a.run / "results.jsonl").open(encoding="utf-8"):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if row["id"] in questions and "answer" in row:
            rows_by_config.setdefault(row["config"], {})[row["id"]] = row
    full_key = next(k for k in rows_by_config if "-off:" not in k and "-naive" not in k)
    full_rows = list(rows_by_config[full_key].values())
    recorded = {r["id"]: outcome(r) for r in full_rows}
    base = replay(engine, full_rows, questions, count, a.k)
    drift = [qid for qid in base if base[qid] != recorded[qid]]
    print(f"{full_key}: {len(full_rows)} rows; replay with the default checks differs from the record on {len(drift)}"
          + (f" ({', '.join(drift)})" if drift else ""))
    table = {}
    for name in names:
        if name in BEFORE_GENERATION:
            key = f"{full_key}-off:{name}"
            if key not in rows_by_config:
                print(f"{name}: no rows of {key} (run python -m qa.eval … --ablate {name} --out {a.run})")
                continue
            without = {qid: outcome(r) for qid, r in rows_by_config[key].items()}
            table[name] = effect(recorded, without)
        elif name in DEFAULT_OFF:   # off by default: its worth is what switching it on changes
            table[name] = effect(replay(engine, full_rows, questions, count, a.k, f"+{name}"), base)
        else:
            table[name] = effect(base, replay(engine, full_rows, questions, count, a.k, name))
    print("\n| check | saves right | costs right | stops wrong | causes wrong | net right |")
    print("|---|---|---|---|---|---|")
    for name, e in table.items():
        print(f"| {name} | {len(e['saves'])} | {len(e['costs'])} | {len(e['stops'])} | {len(e['causes'])} "
              f"| {len(e['saves']) - len(e['costs']):+d} |")
    for name, e in table.items():
        if any(e.values()):
            print(f"{name}: " + "; ".join(f"{k} {', '.join(v)}" for k, v in e.items() if v))
    if a.json:
        a.json.write_text(json.dumps(table, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
