"""A question set: the JSON-lines format of docs/evaluation.md read into Questions, each line
checked with a message that names the line and the field."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path


class EvalError(ValueError):
    """Bad input, reported as one message with exit code 2 and no traceback."""


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    answers: tuple[str, ...]
    evidence: tuple[tuple[str, str], ...]  # (doc, quote)
    answerable: bool
    kind: str
    # Every part must be in the answer; a part is one string or a list of alternative writings.
    answers_all: tuple[tuple[str, ...], ...] = ()
    history: tuple[str, ...] = ()          # earlier questions of the same conversation, answered first

    @property
    def digest(self) -> str:
        """Changes when anything a result depends on changes, so stale rows are evaluated again."""
        return hashlib.sha1(json.dumps(asdict(self), ensure_ascii=False).encode()).hexdigest()[:12]


class _FieldError(Exception):
    def __init__(self, field: str, problem: str):
        super().__init__(f'字段 "{field}" {problem}' if field else problem)


_MISSING = object()


def _field(o: dict, name: str, types: tuple[type, ...], label: str, default=_MISSING):
    if name not in o:
        if default is _MISSING:
            raise _FieldError(name, "缺失")
        return default
    v = o[name]
    if not isinstance(v, types) or (isinstance(v, bool) and bool not in types):  # JSON true is not an id
        raise _FieldError(name, f"应为{label}")
    return v


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _FieldError(name, "应为非空字符串")
    return value


def parse_question(o: object) -> Question:
    """One line's JSON value → Question; raises _FieldError naming the offending field."""
    if not isinstance(o, dict):
        raise _FieldError("", "每行应为一个 JSON 对象")
    qid = _field(o, "id", (str, int), "字符串或整数")
    question = _text(_field(o, "question", (str,), "字符串"), "question")
    answers = tuple(_text(a, f"answers[{i}]") for i, a in enumerate(_field(o, "answers", (list,), "字符串列表", [])))
    evidence = []
    for i, e in enumerate(_field(o, "evidence", (list,), "列表", [])):
        if not isinstance(e, dict):
            raise _FieldError(f"evidence[{i}]", '应为 {"doc": …, "quote": …} 对象')
        for key in ("doc", "quote"):
            if key not in e:
                raise _FieldError(f"evidence[{i}].{key}", "缺失")
        evidence.append((_text(e["doc"], f"evidence[{i}].doc"), _text(e["quote"], f"evidence[{i}].quote")))
    answerable = _field(o, "answerable", (bool,), " true 或 false", True)
    kind = _field(o, "kind", (str,), "字符串", "")
    parts = []
    for i, part in enumerate(_field(o, "answers_all", (list,), "列表", [])):
        alts = part if isinstance(part, list) else [part]
        if not alts:
            raise _FieldError(f"answers_all[{i}]", "应为非空字符串或非空字符串列表")
        parts.append(tuple(_text(a, f"answers_all[{i}]") for a in alts))
    history = tuple(_text(h, f"history[{i}]") for i, h in enumerate(_field(o, "history", (list,), "字符串列表", [])))
    if answerable and not answers and not parts:
        raise _FieldError("answers", "为空：可回答的问题至少要有一个可接受的答案（answers 或 answers_all）")
    if answerable and not evidence:
        raise _FieldError("evidence", "为空：可回答的问题至少要有一条证据")
    return Question(str(qid), question, answers, tuple(evidence), answerable, kind, tuple(parts), history)


def load_questions(path: Path) -> list[Question]:
    """Every problem of the file in one EvalError, each as `file:line: field problem`."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"无法读取问题文件 {path}：{exc}") from exc
    out, errors, first_line = [], [], {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            q = parse_question(json.loads(line))
        except json.JSONDecodeError as exc:
            errors.append(f"{path}:{n}: 不是有效的 JSON（第 {exc.colno} 列：{exc.msg}）")
            continue
        except _FieldError as exc:
            errors.append(f"{path}:{n}: {exc}")
            continue
        if q.id in first_line:
            errors.append(f'{path}:{n}: 字段 "id" 重复：{q.id} 已在第 {first_line[q.id]} 行出现')
            continue
        first_line[q.id] = n
        out.append(q)
    if not out and not errors:
        errors.append(f"{path}: 文件中没有问题")
    if errors:
        more = f"\n…… 另有 {len(errors) - 20} 处错误" if len(errors) > 20 else ""
        raise EvalError("问题文件格式错误：\n" + "\n".join(errors[:20]) + more)
    return out


def select(questions: list[Question], kinds: list[str] | None, limit: int | None) -> list[Question]:
    if kinds:
        known = sorted({q.kind for q in questions})
        unknown = [k for k in kinds if k not in known]
        if unknown:
            raise EvalError(f"问题集中没有类型 {', '.join(unknown)}；已有类型：{', '.join(known)}")
        questions = [q for q in questions if q.kind in kinds]
    return questions[:limit]


def unknown_documents(questions: list[Question], docs: set[str]) -> list[str]:
    """Evidence naming a document the corpus lacks: reported, and the question still runs (a retrieval miss)."""
    return [f"{q.id}：证据文档 {d} 不在语料中" for q in questions for d in dict.fromkeys(d for d, _ in q.evidence)
            if d not in docs]
