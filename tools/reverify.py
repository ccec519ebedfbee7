"""Replay verification on a run's recorded model answers, without running the model again.

    python tools/reverify.py runs/wild-tune --questions questions/wild-tune.jsonl --docs corpora/wild

For each result row of a model run (results.jsonl), the passages are selected again exactly as the
answerer selects them (same retrieval, same token budget, counted with the packaged model's own
tokenizer), the recorded raw text goes through `Answerer.check` (verification, conflicts), and the
row is scored again. Prints the rows whose verdict changes and the totals before and after: a change
to qa/verify/cite.py or qa/text/figures.py is measured on every recorded answer in seconds instead of an hour.
Generation is deterministic (greedy) and its prompt does not depend on verification, so the replay
gives what a new run would give, as long as retrieval and the prompt are unchanged.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.answering.answer import Answerer  # noqa: E402
from qa.eval.answer_eval import answer_correct, final_verdict  # noqa: E402
from qa.retrieval.engine import Engine  # noqa: E402
from qa.eval.run import meta_sources  # noqa: E402
from qa.eval.questions import load_questions  # noqa: E402
from qa.generate.llm import token_counter  # noqa: E402
from qa.eval.metrics import has_gold, with_source  # noqa: E402
from qa.settings import Settings  # noqa: E402


def _has(text: str, gold: str) -> bool:
    return answer_correct(text, (gold,))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--docs", type=Path, default=None)
    ap.add_argument("--model", default="1.5b", help="whose tokenizer budgets the passages")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--diagnose", action="store_true",
                    help="for each wrong answer: is the gold answer in the passages the model read, in the hits?")
    ap.add_argument("--only", nargs="*", default=None, help="replay these question ids and print why sentences went")
    ap.add_argument("--config", default=None, help="replay the rows of this configuration only (e.g. hybrid-k5-1.5b)")
    a = ap.parse_args(argv)
    settings = Settings() if a.docs is None else Settings(docs_dir=a.docs)
    engine = Engine.open(settings)
    answerer = Answerer(engine, None, settings)
    sources = meta_sources(engine.index.documents.values(), settings.docs_dir, Path(settings.cache_dir) / "ocr")
    count = token_counter(a.model, settings.cache_dir)
    questions = {q.id: q for q in load_questions(a.questions)}
    rows = [json.loads(line) for line in (a.run / "results.jsonl").open(encoding="utf-8")]
    before = after = refused_before = refused_after = answered_before = answered_after = n = 0
    lost_before = lost_after = 0   # acceptable raw answers that verification made wrong or refused
    cited_before = cited_after = 0  # answerable questions whose answer cites a gold paragraph
    for row in rows:
        q = questions.get(row["id"])
        if q is None or not row.get("raw") or q.history or (a.only and row["id"] not in a.only) \
                or (a.config and row.get("config") != a.config):
            continue
        n += 1
        query = row.get("standalone") or q.question
        ans = answerer.replay(q.question, query, row["raw"], a.k, count)
        hits, passages, raw = ans.hits, ans.passages, ans.raw
        ok = final_verdict(ans, q)
        if a.only:
            print(f"{row['id']} {q.question}\n   raw: {raw}\n   now: {ans.text}\n   deleted: {ans.deleted}"
                  f"\n   marked: {ans.marked}\n   notices: {ans.notices}")
            for p in passages:
                print(f"   [{p.n}] {p.para.text[p.start:p.end][:300]}")
        was = bool(row["correct"])
        before += was
        after += ok
        refused_before += q.answerable and row["abstained"]
        refused_after += q.answerable and ans.abstained
        raw_ok = q.answerable and answer_correct(raw, q.answers, q.answers_all)
        lost_before += raw_ok and not was
        lost_after += raw_ok and not ok
        answered_before += not q.answerable and not row["abstained"]
        gold_now = q.answerable and not ans.abstained and any(has_gold(c.doc, with_source(c.text, c.para, sources), q.evidence)
                                                                         for c in ans.citations)
        gold_was = q.answerable and not row["abstained"] and any(row["gold_cited"])
        cited_before += gold_was
        cited_after += gold_now
        answered_after += not q.answerable and not ans.abstained
        if a.diagnose and q.answerable and not ok:
            golds = [g for g in q.answers] + [g for part in q.answers_all for g in part]
            read = " ".join(p.text for p in passages)
            found = " ".join(h.chunk.text for h in hits)
            paras = " ".join(p.para.text for p in passages)
            where = ("read" if any(_has(read, g) for g in golds) else
                     "paragraph read, outside its window" if any(_has(paras, g) for g in golds) else
                     "in hits, paragraph not read" if any(_has(found, g) for g in golds) else "not retrieved")
            print(f"[{where}] {row['id']} {q.kind} {q.question} | gold {golds[:3]} | {ans.text[:120]}")
        if ok != was or (q.answerable and ans.abstained != row["abstained"]) or gold_now != gold_was:
            print(f"{row['id']}: {'right' if was else 'wrong'} → {'right' if ok else 'wrong'}, gold cited "
                  f"{gold_was} → {gold_now}  {q.question}")
            print(f"   was: {row['answer'][:160]}")
            print(f"   now: {ans.text[:160]}")
    print(f"{n} answers replayed: correct {before} → {after}; answerable refused {refused_before} → {refused_after}; "
          f"unanswerable answered {answered_before} → {answered_after}; "
          f"acceptable raw answers lost by verification {lost_before} → {lost_after}; "
          f"answers citing a gold paragraph {cited_before} → {cited_after}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
