"""Check the wild question sets (questions/wild-*.jsonl) against the documents of corpora/wild/.

    python tools/check_questions.py                 # all four wild sets (tune, holdout, follow-ups, fresh)
    python tools/check_questions.py FILE [FILE …]   # given sets
    python tools/check_questions.py --dump DIR      # write each document's extracted text to DIR
    python tools/check_questions.py --pipeline      # also: which quotes no chunk of qa's own pipeline contains
    python tools/check_questions.py --docs DIR FILE # a new (blind) set over documents in another folder

Checks: each set loads with qa.eval.run.load_questions (falling back to a tolerant copy that also
accepts the new fields answers_all / history / split while the evaluator does not know them);
ids unique across the sets; every quote occurs in its document's extracted text after
qa.text.normalize.compact (so whitespace and line wraps do not matter); every answer or
answers_all part occurs in the evidence document (warning otherwise); no tune question
cites a holdout document or the reverse; follow-ups carry split and history; no two questions
share a quote. Errors make the exit status 1; warnings do not.
"""
from __future__ import annotations

import collections
import html.parser
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from xml.etree import ElementTree as ET

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.ingest.load import decode  # noqa: E402
from qa.text.normalize import compact  # noqa: E402

CORPUS = ROOT / "corpora" / "wild"
SETS = {
    "tune": ROOT / "questions" / "wild-tune.jsonl",
    "holdout": ROOT / "questions" / "wild-holdout.jsonl",
    "followups": ROOT / "questions" / "wild-followups.jsonl",
    "fresh": ROOT / "questions" / "wild-fresh.jsonl",
}
HOLDOUT_DOCS = frozenset({
    "2014年政府工作报告.txt",
    "中华人民共和国劳动法（2018修正）.md",
    "关于职工全年月平均工作时间和工资折算问题的通知（劳社部发〔2008〕3号）.md",
    "国务院关于加强地方政府性债务管理的意见（国发〔2014〕43号）.docx",
    "中华人民共和国监察法_高校纪检网站转载页.html",
    "2024年北京市政府工作报告.pdf",
    "最高人民法院关于审理政府信息公开行政案件若干问题的规定.md",
})
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def docx_text(path: Path) -> str:
    """Every w:p of the body (tables included, in document order), one per line; field-code
    instructions (w:instrText) are not text and are left out."""
    with zipfile.ZipFile(path) as z:
        root = ET.fromstring(z.read("word/document.xml"))
    lines = []
    for p in root.iter(W + "p"):
        parts = []
        for el in p.iter():
            if el.tag == W + "t" and el.text:
                parts.append(el.text)
            elif el.tag == W + "tab":
                parts.append("\t")
            elif el.tag in (W + "br", W + "cr"):
                parts.append("\n")
        lines.append("".join(parts))
    return "\n".join(lines)


class _Visible(html.parser.HTMLParser):
    SKIP = {"script", "style", "noscript", "template"}
    BLOCK = {"p", "div", "br", "tr", "td", "th", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skip += 1
        elif tag in self.BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        elif tag in self.BLOCK:
            self.out.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def html_text(path: Path) -> str:
    p = _Visible()
    p.feed(path.read_text(encoding="utf-8"))
    return re.sub(r"\n\s*\n+", "\n", "".join(p.out))


def pdf_text(path: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def doc_text(path: Path) -> str:
    ext = path.suffix.lower()
    if ext == ".docx":
        return docx_text(path)
    if ext == ".pdf":
        return pdf_text(path)
    if ext in (".html", ".htm"):
        return html_text(path)
    return decode(path.read_bytes(), path.name)[0]   # any Chinese encoding, as the loader reads it


_FIELDS = {"id", "question", "answers", "answers_all", "evidence", "answerable", "kind", "history", "split"}


def tolerant_load(path: Path) -> list[dict]:
    """The rules of qa.eval.run.parse_question, plus the new fields answers_all / history / split."""
    out, errors = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            o = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{path.name}:{n}: not JSON: {exc}")
            continue
        where = f"{path.name}:{n} ({o.get('id')})"
        extra = set(o) - _FIELDS
        if extra:
            errors.append(f"{where}: unknown fields {sorted(extra)}")
        if not isinstance(o.get("id"), (str, int)) or not isinstance(o.get("question"), str) or not o["question"].strip():
            errors.append(f"{where}: id/question missing")
        for key in ("answers", "history"):
            v = o.get(key, [])
            if not isinstance(v, list) or not all(isinstance(a, str) and a.strip() for a in v):
                errors.append(f"{where}: {key} must be a list of non-empty strings")
        # answers_all: every part must be in the answer; a part is a string or a list of alternatives
        parts = o.get("answers_all", [])
        if not isinstance(parts, list) or not all(
                (isinstance(p, str) and p.strip()) or
                (isinstance(p, list) and p and all(isinstance(a, str) and a.strip() for a in p)) for p in parts):
            errors.append(f"{where}: answers_all must be a list of non-empty strings or lists of them")
        ev = o.get("evidence", [])
        if not isinstance(ev, list) or not all(isinstance(e, dict) and {"doc", "quote"} <= set(e) for e in ev):
            errors.append(f"{where}: evidence must be a list of {{doc, quote}}")
        answerable = o.get("answerable", True)
        if not isinstance(answerable, bool):
            errors.append(f"{where}: answerable must be true/false")
        if answerable and not (o.get("answers") or o.get("answers_all")):
            errors.append(f"{where}: answerable but no answers / answers_all")
        if answerable and not ev:
            errors.append(f"{where}: answerable but no evidence")
        if not answerable and (o.get("answers") or o.get("answers_all") or ev):
            errors.append(f"{where}: unanswerable but has answers or evidence")
        o["_line"] = n
        out.append(o)
    if errors:
        raise ValueError("\n".join(errors))
    return out


def official_load(path: Path) -> str:
    """'ok', or the loader's complaint (expected while it does not know the new fields)."""
    from qa.eval.questions import EvalError, load_questions
    try:
        load_questions(path)
        return "ok"
    except EvalError as exc:
        return str(exc).splitlines()[1] if "\n" in str(exc) else str(exc)


def pipeline_misses(paths: list[Path]) -> list[str]:
    """Quotes that no chunk of the project's own load → clean → sections → chunk pipeline contains,
    for the formats qa.ingest.load reads. A finding about the pipeline, not about the questions. Holdout
    questions are only counted, so that running this does not show holdout text."""
    from qa.ingest.chunk import chunk_document
    from qa.ingest.load import SUFFIXES, load_file
    from qa.ingest.sections import build_document
    chunks: dict[str, list[str]] = {}
    out: list[str] = []
    total, missed = collections.Counter(), collections.Counter()
    for path in paths:
        file_split = "tune" if "tune" in path.name else "holdout" if "holdout" in path.name else None
        for q in tolerant_load(path):
            split = q.get("split", file_split)
            for ev in q.get("evidence", []):
                doc = ev["doc"]
                if not doc.lower().endswith(SUFFIXES):
                    continue
                if doc not in chunks:
                    chunks[doc] = [compact(c.text) for c in chunk_document(build_document(load_file(CORPUS / doc)))]
                total[split] += 1
                if not any(compact(ev["quote"]) in c for c in chunks[doc]):
                    missed[split] += 1
                    if split != "holdout":
                        out.append(f"{path.name} ({q['id']}) {doc}: {ev['quote']}")
    for split in sorted(total):
        out.append(f"{split}: {missed[split]} of {total[split]} quotes in {'/'.join(SUFFIXES)} documents "
                   "are in no chunk of the pipeline" + (" (holdout: counted, not shown)" if split == "holdout" else ""))
    return out


def main(argv: list[str]) -> int:
    global CORPUS
    pipeline = "--pipeline" in argv
    argv = [a for a in argv if a != "--pipeline"]
    if "--docs" in argv:
        i = argv.index("--docs")
        CORPUS = Path(argv[i + 1]).resolve()
        argv = argv[:i] + argv[i + 2:]
    docs = {p.name: p for p in sorted(CORPUS.iterdir())
            if p.is_file() and not p.name.startswith(("SOURCES", "."))}
    texts = {name: doc_text(p) for name, p in docs.items()}
    if argv[:1] == ["--dump"]:
        out = Path(argv[1])
        out.mkdir(parents=True, exist_ok=True)
        for name, t in texts.items():
            (out / (name + ".txt")).write_text(t, encoding="utf-8")
        return 0
    flat = {name: compact(t) for name, t in texts.items()}
    # PDF quotes should sit within one pdftotext line: a quote across a wrap depends on how the
    # loader joins lines (and on citation markers or page footers landing in between).
    pdf_lines = {name: {compact(line) for line in t.splitlines()} for name, t in texts.items()
                 if name.lower().endswith(".pdf")}
    paths = [Path(a) for a in argv] or [p for p in SETS.values() if p.exists()]
    errors, warnings = [], []
    seen_ids: dict[str, str] = {}
    seen_quotes: dict[tuple[str, str], str] = {}
    per_doc: collections.Counter = collections.Counter()
    for path in paths:
        name = path.name
        split = "tune" if "tune" in name else "holdout" if "holdout" in name else None
        status = official_load(path)
        try:
            qs = tolerant_load(path)
        except ValueError as exc:
            errors.append(str(exc))
            continue
        kinds = collections.Counter(q.get("kind", "") for q in qs)
        print(f"{name}: {len(qs)} questions; qa.eval.run.load_questions: {status}")
        print("  kinds: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
        if "followups" in name:
            for sp in ("tune", "holdout"):
                sub = [q for q in qs if q.get("split") == sp]
                ds = {ev["doc"] for q in sub for ev in q.get("evidence", [])}
                print(f"  split={sp}: {len(sub)} conversations "
                      f"({sum(1 for q in sub if q.get('answerable', True))} answerable) over {len(ds)} documents")
        for q in qs:
            qid = str(q["id"])
            where = f"{name}:{q['_line']} ({qid})"
            if qid in seen_ids:
                errors.append(f"{where}: id also in {seen_ids[qid]}")
            seen_ids[qid] = name
            q_split = q.get("split", split)
            if "followups" in name:
                if q_split not in ("tune", "holdout"):
                    errors.append(f"{where}: follow-up needs split tune|holdout")
                if not q.get("history"):
                    errors.append(f"{where}: follow-up without history")
            for ev in q.get("evidence", []):
                doc, quote = ev["doc"], ev["quote"]
                if doc not in docs:
                    errors.append(f"{where}: unknown document {doc}")
                    continue
                # a fresh set (written later, blind, over all documents) belongs to neither split
                if "fresh" not in name and (doc in HOLDOUT_DOCS) != (q_split == "holdout"):
                    errors.append(f"{where}: {q_split} question cites {doc}")
                cq = compact(quote)
                if cq not in flat[doc]:
                    errors.append(f"{where}: quote not in {doc}: {quote}")
                if doc in pdf_lines and cq in flat[doc] and not any(cq in line for line in pdf_lines[doc]):
                    warnings.append(f"{where}: quote crosses a line wrap of the PDF text: {quote}")
                if not 3 <= len(cq) <= 40:
                    warnings.append(f"{where}: quote length {len(cq)}: {quote}")
                key = (doc, cq)
                # follow-ups re-ask facts as conversations: they may share a quote with a single question
                if key in seen_quotes and "followups" not in name and "followups" not in seen_quotes[key]:
                    errors.append(f"{where}: same quote as {seen_quotes[key]}")
                seen_quotes.setdefault(key, where)
            ev_docs = [ev["doc"] for ev in q.get("evidence", []) if ev["doc"] in flat]
            for d in set(ev_docs):
                per_doc[(name, d)] += 1
            answers = list(q.get("answers", []))
            # Alternatives (「10年」/「十年」) are expected to be missing; the first writing is the
            # document's own, so at least one answer must stand in an evidence document.
            if ev_docs and answers and not any(compact(a) in flat[d] for a in answers for d in ev_docs):
                warnings.append(f"{where}: no answer verbatim in the evidence documents: {answers}")
            for part in q.get("answers_all", []):
                alts = part if isinstance(part, list) else [part]
                if not any(compact(a) in flat.get(ev["doc"], "") for a in alts for ev in q["evidence"]):
                    errors.append(f"{where}: answers_all part not in any evidence document: {part}")
    by_doc = collections.defaultdict(dict)
    for (setname, doc), n in per_doc.items():
        by_doc[doc][setname] = n
    print("questions per document:")
    for doc in docs:
        print(f"  {'H' if doc in HOLDOUT_DOCS else 'T'} {doc}: "
              + ", ".join(f"{s}={n}" for s, n in sorted(by_doc.get(doc, {}).items())))
    for w in warnings:
        print("WARNING", w)
    for e in errors:
        print("ERROR", e)
    if pipeline:
        for line in pipeline_misses(paths):
            print("PIPELINE", line)
    print(f"{len(errors)} errors, {len(warnings)} warnings")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
