"""How often the gold answer stands in what the model reads, for several window settings.

    python tools/windows.py --questions questions/wild-tune.jsonl --docs corpora/wild \
        360,160,160 360,320,160 480,320,160

Each setting is budget_tokens,first_chars,max_chars[,max_items] (qa/answering/prompt.py select_passages). For every
answerable question, the passages are selected as the answerer selects them (same retrieval, token
budget counted with the packaged model's tokenizer) and the gold answer is looked for in the
windows. Prints the share found and the prompt's passage tokens (mean, p90): the window sizes in
qa/answering/prompt.py are chosen with it, on tune and dev questions, without running the model.
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qa.eval.answer_eval import answer_correct  # noqa: E402
from qa.retrieval.engine import Engine  # noqa: E402
from qa.eval.questions import load_questions  # noqa: E402
from qa.generate.llm import token_counter  # noqa: E402
from qa.answering.prompt import render_passage, select_passages  # noqa: E402
from qa.settings import Settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("settings", nargs="+", help="budget_tokens,first_chars,max_chars")
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--docs", type=Path, default=None)
    ap.add_argument("--model", default="1.5b", help="whose tokenizer budgets the passages")
    ap.add_argument("-k", type=int, default=5)
    ap.add_argument("--missed", action="store_true", help="list the questions whose gold is not read")
    a = ap.parse_args(argv)
    settings = Settings() if a.docs is None else Settings(docs_dir=a.docs)
    engine = Engine.open(settings)
    count = token_counter(a.model, settings.cache_dir)
    qs = [q for q in load_questions(a.questions) if q.answerable and not q.history]
    hits = {q.id: engine.search(q.question, k=a.k) for q in qs}
    idf = engine.retriever.bm25.idf
    for spec in a.settings:
        budget, first, max_chars, *rest = (int(x) for x in spec.split(","))
        found, tokens, missed = 0, [], []
        for q in qs:
            ps = select_passages(q.question, hits[q.id], engine.index.paragraphs, budget, count,
                                 max_chars=max_chars, first_chars=first, idf=idf,
                                 **({"max_items": rest[0]} if rest else {}))
            read = " ".join(p.text for p in ps)
            ok = (all(any(answer_correct(read, (g,)) for g in part) for part in q.answers_all) if q.answers_all
                  else answer_correct(read, q.answers))
            found += ok
            missed += [] if ok else [q.id]
            tokens.append(sum(count(render_passage(p)) for p in ps))
        p90 = sorted(tokens)[int(0.9 * (len(tokens) - 1))]
        print(f"{spec}: gold read {found}/{len(qs)} ({found / len(qs):.3f}); passage tokens mean "
              f"{statistics.mean(tokens):.0f}, p90 {p90}" + (f"; missed {' '.join(missed)}" if a.missed else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
