"""The evaluation command, its metrics, resuming, comparison and gating."""
import json
import re
import shutil
import statistics
from dataclasses import replace
from html import unescape

import pytest

from qa.eval.answer_eval import answer_correct
from qa.eval.run import Config, Gate, main, parse_compare, parse_gates
from qa.eval.questions import EvalError, load_questions
from qa.eval.metrics import (
    answer_metrics, contains_quote, failed_checks, gate_metrics, hit_rank, metric_names, retrieval_metrics, summarize,
)
from qa.eval.report import RunInfo, render
from tests.conftest import SEEDS

QUESTIONS = SEEDS.parent / "questions" / "dev.jsonl"
DEV = {json.loads(l)["id"]: l for l in QUESTIONS.read_text(encoding="utf-8").splitlines() if l.strip()}
# Three answerable questions of different kinds, a near-miss and an off-topic one.
FEW = ("q001", "q002", "q003", "q086", "q101")


def write_questions(path, ids=FEW, edit=None):
    lines = [DEV[i] for i in ids]
    if edit:
        lines = [json.dumps({**json.loads(l), **edit.get(json.loads(l)["id"], {})}, ensure_ascii=False) for l in lines]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows_of(out):
    return [json.loads(l) for l in (out / "results.jsonl").read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def seed_env(seed_settings, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(seed_settings.cache_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(seed_settings.resolved_index_dir))


@pytest.fixture(scope="module")
def compare_run(seed_settings, tmp_path_factory):
    """One extractive run of FEW under two retrieval modes, shared by the tests that only read it."""
    tmp = tmp_path_factory.mktemp("compare")
    questions = write_questions(tmp / "few.jsonl")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_CACHE_DIR", str(seed_settings.cache_dir))
        mp.setenv("QA_INDEX_DIR", str(seed_settings.resolved_index_dir))
        assert main(["--questions", str(questions), "--out", str(tmp / "out"), "--model", "extractive",
                     "--compare", "mode=hybrid,bm25"]) == 0
    return questions, tmp / "out"


def test_quote_matching_normalizes():
    assert contains_quote("全市貧困人口由2013年底的84.24万人\n下降", "全市贫困人口由2013年底的84.24万人下降")
    assert contains_quote("編輯：李敏杰", "编辑:李敏杰")
    assert not contains_quote("每人每天100元", "每人每天80元")
    assert hit_rank([("a.txt", "无关"), ("b.txt", "补助每人每天100元")], (("b.txt", "每天100元"),)) == 2
    assert hit_rank([("a.txt", "补助每人每天100元")], (("b.txt", "每天100元"),)) is None  # wrong document


def test_answer_matching():
    assert answer_correct("作者是張文東[1]。", ("张文东",))
    assert answer_correct("为每人每天１００元[1]。", ("100元",))
    assert not answer_correct("文档中没有找到相关信息", ("100元",))


def test_a_gold_answer_of_figures_matches_any_writing_of_the_same_values():
    assert answer_correct("规划覆盖2018年至2022年[1]。", ("2018－2022",))
    assert answer_correct("为期3年[1]。", ("三年",))
    assert answer_correct("新增一千二百六十九万人[1]。", ("1269万",))
    assert not answer_correct("新增1300万人[1]。", ("1269万",))
    assert not answer_correct("规划覆盖2018年至2021年[1]。", ("2018－2022",))
    assert not answer_correct("新增1200多万人[1]。", ("1269万",))
    assert not answer_correct("2022年[3]", ("三年",))  # a citation marker is not a figure  # an approximation is not the figure
    # a gold answer with words besides its figures still needs the words
    assert not answer_correct("为期3年[1]。", ("三年行动",))


def test_metrics_exact():
    rows = [{"kind": "a", "rank": 1, "coverage": 1.0}, {"kind": "a", "rank": 3, "coverage": 0.5},
            {"kind": "b", "rank": None, "coverage": 0.0}]
    m = retrieval_metrics(rows, 5)
    assert (m["recall@1"], m["recall@5"], m["mrr"]) == (round(1 / 3, 4), round(2 / 3, 4), round((1 + 1 / 3) / 3, 4))
    assert m["by_kind"]["a"]["recall@5"] == 1.0 and m["by_kind"]["b"]["recall@5"] == 0.0
    assert retrieval_metrics([], 5)["recall@5"] is None  # nothing measured is not a score of 0


def _answer_row(answerable=True, abstained=False, correct=True, gold=(True,), numbers=(1, 1), kind="number", rank=1):
    return {"answerable": answerable, "abstained": abstained, "correct": correct, "gold_cited": list(gold),
            "numbers": list(numbers), "kind": kind, "hit_rank": rank, "answer": "…",
            "latency_s": {"wall": 1.0, "first_token": 0.5}}


def test_answer_metrics_and_failed_checks_exact():
    right = _answer_row()
    wrong = _answer_row(correct=False, gold=(False, False), numbers=(0, 2), rank=7)
    refused = _answer_row(abstained=True, correct=False, gold=(), numbers=(0, 0))
    missed = _answer_row(answerable=False, correct=False, gold=(False,), kind="unanswerable", rank=None)
    m = answer_metrics([right, wrong, refused, missed])
    assert (m["answer_accuracy"], m["citation_hit_rate"], m["citation_precision"]) == (0.3333, 0.3333, 0.3333)
    assert (m["numbers_in_cited_passages"], m["refusal_accuracy"], m["false_refusal_rate"]) == (0.3333, 0.0, 0.3333)
    assert m["answer_by_kind"] == {"number": {"n": 3, "accuracy": 0.3333}, "unanswerable": {"n": 1, "accuracy": 0.0}}
    assert answer_metrics([right])["refusal_accuracy"] is None
    # verification's own error: the raw answer was acceptable, the final one is not
    assert m["lost_acceptable_rate"] == 0.0
    assert answer_metrics([right, wrong, {**refused, "lost_correct": True}, missed])["lost_acceptable_rate"] == 0.3333
    assert failed_checks(right, 5) == []
    assert failed_checks(wrong, 5) == ["retrieval_miss", "wrong_answer", "bad_citation"]
    assert failed_checks(wrong, 10) == ["wrong_answer", "bad_citation"]
    assert failed_checks(refused, 5) == ["false_refusal"]
    assert failed_checks(missed, 5) == ["missed_refusal"]
    retrieval_only = {"answerable": True, "hit_rank": None}
    assert failed_checks(retrieval_only, 5) == ["retrieval_miss"]


@pytest.mark.parametrize("line, message", [
    ('{"id": "a", "question": "问", "answers": ["x"], "evidence": [{"doc": "d.txt"}]}', 'bad.jsonl:2: 字段 "evidence[0].quote" 缺失'),
    ('{"id": "a", "answers": ["x"], "evidence": [{"doc": "d.txt", "quote": "q"}]}', 'bad.jsonl:2: 字段 "question" 缺失'),
    ('{"id": "a", "question": "问", "answers": "x", "evidence": []}', 'bad.jsonl:2: 字段 "answers" 应为字符串列表'),
    ('{"id": "a", "question": "问", "answerable": "no"}', 'bad.jsonl:2: 字段 "answerable" 应为 true 或 false'),
    ('{"id": "a", "question": "问", "answers": ["x"], "evidence": []}', 'bad.jsonl:2: 字段 "evidence" 为空'),
    ('{"id": "a", "question": "问", "answers": [""], "evidence": []}', 'bad.jsonl:2: 字段 "answers[0]" 应为非空字符串'),
    ('{"id": "q001", "question": "问", "answerable": false}', 'bad.jsonl:2: 字段 "id" 重复：q001 已在第 1 行出现'),
    ('{"id": "a", "question": "问",', "bad.jsonl:2: 不是有效的 JSON"),
    ('["q001"]', "bad.jsonl:2: 每行应为一个 JSON 对象"),
])
def test_malformed_question_file_names_line_and_field(tmp_path, line, message, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(DEV["q001"] + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(EvalError) as err:
        load_questions(bad)
    assert message in str(err.value)
    assert main(["--questions", str(bad), "--out", str(tmp_path / "out"), "--retrieval-only"]) == 2
    assert message in capsys.readouterr().err  # one message, no traceback
    assert not (tmp_path / "out").exists()


def test_example_question_file_is_valid():
    from qa.eval.questions import unknown_documents

    questions = load_questions(SEEDS.parent / "questions" / "example.jsonl")
    assert [(q.id, q.kind, q.answerable) for q in questions] == [
        ("ex1", "number", True), ("ex2", "traditional", True), ("ex3", "unanswerable", False), ("ex4", "offtopic", False)]
    assert unknown_documents(questions, {p.name for p in SEEDS.glob("*.txt")}) == []


def test_compare_and_gate_flags():
    base = Config("hybrid", 5, "extractive")
    assert [c.key for c in parse_compare(["mode=hybrid,bm25", "k=3,5"], base)] == [
        "hybrid-k3-extractive", "hybrid-k5-extractive", "bm25-k3-extractive", "bm25-k5-extractive"]
    assert [c.key for c in parse_compare(["model=0.5b,extractive"], base)] == ["hybrid-k5-0.5b", "hybrid-k5-extractive"]
    assert [c.key for c in parse_compare([], Config("dense", 3))] == ["dense-k3"]
    for bad in ("mode=hybrid,bm26", "top_k=3", "k=0", "k=", "mode"):
        with pytest.raises(EvalError):
            parse_compare([bad], base)
    with pytest.raises(EvalError, match="--retrieval-only"):
        parse_compare(["model=1.5b"], Config())
    gates = parse_gates(["answer_accuracy=0.8", "recall@10=0.9"], ["answer_latency_s.p95=2"], [base])
    assert gates == [Gate("answer_accuracy", 0.8, True), Gate("recall@10", 0.9, True), Gate("answer_latency_s.p95", 2.0, False)]
    with pytest.raises(EvalError) as err:
        parse_gates(["accuracy=0.8"], [], [base])
    assert "未知指标 'accuracy'" in str(err.value) and "answer_accuracy, citation_hit_rate" in str(err.value)
    with pytest.raises(EvalError, match="未知指标 'answer_accuracy'"):
        parse_gates(["answer_accuracy=0.8"], [], [Config()])  # retrieval only: no answers measured
    metrics = {"answer_accuracy": 0.75, "refusal_accuracy": None}
    assert Gate("answer_accuracy", 0.8, True).failure("c", metrics) == "未达标：c answer_accuracy = 0.75，要求 ≥ 0.8"
    assert Gate("answer_accuracy", 0.75, True).failure("c", metrics) is None
    assert Gate("answer_accuracy", 0.7, False).failure("c", metrics) == "未达标：c answer_accuracy = 0.75，要求 ≤ 0.7"
    assert "未测得" in Gate("refusal_accuracy", 0.5, True).failure("c", metrics)


def test_the_naive_baseline_and_switched_off_checks_have_their_own_configuration_key():
    assert Config("hybrid", 5, "1.5b", "naive").key == "hybrid-k5-1.5b-naive"
    assert Config("hybrid", 5, "1.5b", ablate="frame,gate").key == "hybrid-k5-1.5b-off:frame,gate"
    assert [c.key for c in parse_compare(["k=3,5"], Config("hybrid", 5, "1.5b", ablate="gate"))] == [
        "hybrid-k3-1.5b-off:gate", "hybrid-k5-1.5b-off:gate"]


def _row(qid, correct, abstained, answer="", answerable=True):
    return {"id": qid, "question": f"问题{qid}", "correct": correct, "abstained": abstained, "answer": answer,
            "answerable": answerable}


def test_differences_cross_the_outcomes_and_list_each_question_that_differs():
    from qa.eval.report import differences_table
    full = [_row("a", True, False, "100元[1]。"), _row("b", False, True, "文档中没有找到相关信息"),
            _row("c", True, True, "文档中没有找到相关信息", answerable=False), _row("d", True, False, "3年[2]。")]
    naive = [_row("a", True, False, "100元[1]。"), _row("b", False, False, "50元[1]。"),
             _row("c", False, False, "200万[3]。", answerable=False), _row("d", False, True, "文档中没有找到相关信息")]
    assert differences_table("full", full, "naive", naive).splitlines() == [
        "full（行）对 naive（列）：", "| | 对 | 拒答 | 错 |", "|---|---|---|---|",
        "| 对 | 1 | 1 | 1 |", "| 拒答 | 0 | 0 | 1 |", "| 错 | 0 | 0 | 0 |", "",
        "逐题差异（3 题）：",
        "- b 问题b：拒答「文档中没有找到相关信息」 / 错「50元[1]。」",
        "- c 问题c：对「文档中没有找到相关信息」 / 错「200万[3]。」",
        "- d 问题d：对「3年[2]。」 / 拒答「文档中没有找到相关信息」"]


def test_the_raw_verdict_judges_the_models_own_text():
    from qa.eval.answer_eval import raw_verdict
    q = load_questions(QUESTIONS)[0]
    assert raw_verdict("", q) is None
    assert raw_verdict("文档中没有找到相关信息", q) is False
    assert raw_verdict(f"答案是{q.answers[0]}[1]。", q) is True
    unanswerable = replace(q, answerable=False)
    assert raw_verdict("文档中没有找到相关信息", unanswerable) is True and raw_verdict("100元", unanswerable) is False


def test_the_naive_baseline_needs_a_model_and_checks_must_be_known(tmp_path, seed_env, capsys):
    args = ["--questions", str(QUESTIONS), "--out", str(tmp_path), "--limit", "2"]
    assert main([*args, "--model", "extractive", "--baseline", "naive"]) == 2
    assert "--baseline naive 需要生成模型" in capsys.readouterr().err
    assert main([*args, "--model", "extractive", "--ablate", "nosuch"]) == 2
    assert "未知的检查项：nosuch" in capsys.readouterr().err


def test_an_eval_with_checks_switched_off_records_rows_under_its_key(tmp_path, seed_env):
    assert main(["--questions", str(QUESTIONS), "--out", str(tmp_path), "--model", "extractive", "--limit", "3",
                 "--ablate", "gate,delete"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {r["config"] for r in rows} == {"hybrid-k5-extractive-off:delete,gate"} and len(rows) == 3


def test_eval_command_writes_results(tmp_path, seed_env):
    assert main(["--questions", str(QUESTIONS), "--out", str(tmp_path), "--retrieval-only", "--limit", "6"]) == 0
    rows = rows_of(tmp_path)
    assert len(rows) == 6 and all({"id", "question", "retrieved", "latency_s"} <= set(r) for r in rows)
    assert {r["config"] for r in rows} == {"hybrid-k5"} and all(len(r["retrieved"]) == 5 for r in rows)
    assert {"doc", "para", "section", "text", "score"} <= set(rows[0]["retrieved"][0])
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["modes"]) == {"hybrid", "bm25", "dense"} and "by_kind" in summary
    assert "answer_accuracy" not in summary


def test_answer_eval_extractive(tmp_path, seed_env):
    assert main(["--questions", str(QUESTIONS), "--out", str(tmp_path), "--model", "extractive", "--limit", "4"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    for key in ("answer_accuracy", "citation_hit_rate", "citation_precision", "numbers_in_cited_passages",
                "refusal_accuracy", "false_refusal_rate", "answer_latency_s"):
        assert key in summary
    row = rows_of(tmp_path)[0]
    assert {"answer", "abstained", "citations", "latency_s"} <= set(row) and row["model"] == "extractive"


def test_resume_appends_only_missing_and_stale_rows(tmp_path, seed_env, capsys):
    questions = write_questions(tmp_path / "q.jsonl", FEW[:4])
    out = tmp_path / "out"
    args = ["--questions", str(questions), "--out", str(out), "--model", "extractive"]
    assert main(args + ["--limit", "2"]) == 0
    first = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(first) == 2 and "新评测 2 项，沿用已有结果 0 项" in capsys.readouterr().out

    assert main(args + ["--limit", "4"]) == 0
    second = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert second[:2] == first and len(second) == 4  # the first two rows were not computed again
    assert "新评测 2 项，沿用已有结果 2 项" in capsys.readouterr().out

    # A changed question makes its row stale: evaluated again and appended; the summary uses the new row.
    write_questions(questions, FEW[:4], edit={"q002": {"answers": ["不可能的答案"]}})
    assert main(args) == 0
    rows = rows_of(out)
    assert len(rows) == 5 and rows[-1]["id"] == "q002" and rows[-1]["answers"] == ["不可能的答案"]
    assert "新评测 1 项，沿用已有结果 3 项" in capsys.readouterr().out
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    latest = {r["id"]: r for r in rows}
    assert summary["questions"] == 4 and summary["answer_accuracy"] == round(
        sum(r["correct"] for r in latest.values() if r["answerable"]) / 3, 4)
    assert not latest["q002"]["correct"]

    # A line cut short by a kill is skipped and the next row starts on a line of its own.
    with open(out / "results.jsonl", "a", encoding="utf-8") as f:
        f.write('{"id": "q001", "conf')
    write_questions(questions, FEW[:4])
    assert main(args) == 0
    lines = (out / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert lines[5] == '{"id": "q001", "conf' and json.loads(lines[6])["id"] == "q002" and len(lines) == 7
    assert "新评测 1 项，沿用已有结果 3 项" in capsys.readouterr().out

    assert main(args + ["--fresh", "--limit", "1"]) == 0 and len(rows_of(out)) == 1


def test_kinds_filter_and_unknown_documents(tmp_path, seed_env, capsys):
    questions = write_questions(tmp_path / "q.jsonl", FEW, edit={
        "q002": {"evidence": [{"doc": "missing.txt", "quote": "减少到2018年底的18.43万人"}]}})
    out = tmp_path / "out"
    assert main(["--questions", str(questions), "--out", str(out), "--retrieval-only", "--kinds", "number,fact"]) == 0
    rows = rows_of(out)
    assert [(r["id"], r["kind"]) for r in rows] == [("q001", "fact"), ("q002", "number")]
    assert rows[1]["hit_rank"] is None  # still evaluated: a retrieval miss
    warning = "q002：证据文档 missing.txt 不在语料中"
    assert warning in capsys.readouterr().err
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["warnings"] == [warning]
    assert main(["--questions", str(questions), "--out", str(out), "--retrieval-only", "--kinds", "numbers"]) == 2
    assert "问题集中没有类型 numbers" in capsys.readouterr().err


def test_compare_side_by_side(compare_run, capsys):
    questions, out = compare_run
    rows = rows_of(out)
    assert [(r["config"], r["id"]) for r in rows] == [(c, i) for c in ("hybrid-k5-extractive", "bm25-k5-extractive") for i in FEW]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert list(summary["configs"]) == ["hybrid-k5-extractive", "bm25-k5-extractive"]
    assert summary["config"] == "hybrid-k5-extractive"  # the first configuration is also the top level
    for s in summary["configs"].values():
        assert list(gate_metrics(s)) == metric_names(5, True)
    # Rerunning prints the side-by-side table without evaluating anything.
    assert main(["--questions", str(questions), "--out", str(out), "--model", "extractive", "--compare", "mode=hybrid,bm25"]) == 0
    printed = capsys.readouterr().out
    assert "新评测 0 项，沿用已有结果 10 项" in printed
    table = [l for l in printed.splitlines() if l.startswith("| ")]
    assert table[0].startswith("| 配置 | R@1 | R@k | MRR | 答案准确率")
    for line, key in zip(table[1:], summary["configs"]):
        s = summary["configs"][key]
        assert line.startswith(f"| {key} | {s['recall@1']:.3f} | {s['recall@5']:.3f} | {s['mrr']:.3f} | {s['answer_accuracy']:.3f} |")
    assert len(table) == 3


def test_gates_set_the_exit_code(compare_run, tmp_path, capsys):
    questions, done = compare_run
    out = tmp_path / "out"
    shutil.copytree(done, out)  # complete results: the gates are checked without evaluating again
    accuracy = min(s["answer_accuracy"] for s in json.loads((out / "summary.json").read_text(encoding="utf-8"))["configs"].values())
    args = ["--questions", str(questions), "--out", str(out), "--model", "extractive", "--compare", "mode=hybrid,bm25"]
    assert main(args + ["--min", f"answer_accuracy={accuracy}", "--max", "answer_latency_s.p95=60"]) == 0
    capsys.readouterr()
    assert main(args + ["--min", f"answer_accuracy={accuracy + 0.01}"]) == 1
    assert f"answer_accuracy = {accuracy:g}，要求 ≥ {accuracy + 0.01:g}" in capsys.readouterr().err
    assert main(args + ["--min", "answer_acc=0.5"]) == 2
    assert "可用指标：" in capsys.readouterr().err


def share(num, den):
    return round(num / den, 4) if den else None


def test_report_numbers_match_results(compare_run):
    _, out = compare_run
    html = (out / "report.html").read_text(encoding="utf-8")
    cells = {(c, m): json.loads(unescape(v)) for c, m, v in
             re.findall(r'data-config="([^"]+)" data-metric="([^"]+)" data-value="([^"]+)"', html)}
    rows = rows_of(out)
    for key in ("hybrid-k5-extractive", "bm25-k5-extractive"):
        rs = [r for r in rows if r["config"] == key]
        answerable = [r for r in rs if r["answerable"]]
        refused = [r for r in rs if not r["answerable"]]
        answered = [r for r in answerable if not r["abstained"]]
        cited = [any(e["doc"] == c["doc"] and contains_quote(c["text"], e["quote"]) for e in r["evidence"])
                 for r in answered for c in r["citations"]]
        # Recomputed here from the raw fields of results.jsonl, not with the metric functions.
        expected = {
            "questions": 5, "n": 3,
            "recall@1": share(sum(r["hit_rank"] == 1 for r in answerable), 3),
            "recall@5": share(sum(r["hit_rank"] is not None and r["hit_rank"] <= 5 for r in answerable), 3),
            "answer_accuracy": share(sum(answer_correct(r["answer"], tuple(r["answers"])) for r in answerable), 3),
            "citation_precision": share(sum(cited), len(cited)),
            "refusal_accuracy": share(sum(r["abstained"] for r in refused), 2),
            "false_refusal_rate": share(sum(r["abstained"] for r in answerable), 3),
            "time_per_question_s": round(statistics.fmean(r["time_s"] for r in rs), 4),
        }
        assert {m: cells[(key, m)] for m in expected} == expected
        assert {m: v for (c, m), v in cells.items() if c == key} == gate_metrics(summarize(rs, 5, True))

    failures = set(re.findall(r'<tr class="failure" data-config="([^"]+)" data-id="([^"]+)" data-checks="([^"]*)"', html))
    assert failures == {(r["config"], r["id"], " ".join(failed_checks(r, 5))) for r in rows if failed_checks(r, 5)}
    for r in rows:  # refusal failures, checked from the raw fields
        if r["answerable"] == r["abstained"]:
            check = "false_refusal" if r["answerable"] else "missed_refusal"
            assert any(c == r["config"] and i == r["id"] and check in cs.split() for c, i, cs in failures)

    # Self-contained: four charts as data URIs, no script, stylesheet or anything fetched.
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"<script|<link|@import|url\(|href=", html)


def test_report_escapes_untrusted_text(compare_run):
    _, out = compare_run
    rows = [r for r in rows_of(out) if r["config"] == "hybrid-k5-extractive"]
    evil = '<script>alert("x")</script>'
    rows[0] = {**rows[0], "question": evil, "answer": evil, "correct": False, "kind": evil,
               "retrieved": [{**rows[0]["retrieved"][0], "text": evil}]}
    summaries = {"c": {"config": "c", "mode": "hybrid", "k": 5, "model": "extractive", **summarize(rows, 5, True)}}
    html = render(RunInfo("q.jsonl", "python -m qa.eval <x>", "2026-01-01", ("q1：证据文档 <b>.txt 不在语料中",)),
                  summaries, {"c": rows})
    assert "<script" not in html and "<b>.txt" not in html
    assert html.count("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;") == 4  # question, kind, answer, passage
    assert "q1：证据文档 &lt;b&gt;.txt 不在语料中" in html and "python -m qa.eval &lt;x&gt;" in html


def test_model_that_fails_to_load_stops_the_run(tmp_path, seed_env, capsys):
    # The answerer would fall back to extractive mode; recording that under the model's name would lie.
    questions = write_questions(tmp_path / "q.jsonl", FEW[:1])
    missing = tmp_path / "missing.gguf"
    assert main(["--questions", str(questions), "--out", str(tmp_path / "out"), "--model", str(missing)]) == 2
    assert f"模型 {missing} 无法加载" in capsys.readouterr().err
    assert (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("name, header_quote, body_quote", [
    ("2014年政府工作报告.txt", "2014年3月5日在第十二届全国人民代表大会第二次会议上", "城镇新增就业1310万人"),
    ("国务院关于加强地方政府性债务管理的意见（国发〔2014〕43号）.docx", "国务院各部委、各直属机构：", "实现“借、用、还”相统一"),
    ("中共中央办公厅国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》.docx", "（厅字﹝2019﹞33号）",
     "坚持以供给侧结构性改革为主线"),
])
def test_the_metadata_paragraph_holds_a_quote_of_a_line_its_fields_were_read_from(name, header_quote, body_quote):
    # `#0` is written as 「字段：值」 lines, so the gold quote of its source line is not its text; it holds
    # that quote, and no quote of a body line, even when its fields span the document (a 成文日期 at the end)
    from qa.eval.run import meta_sources
    from qa.ingest.load import load_file
    from qa.eval.metrics import field_lines, has_gold, hit_rank, with_source
    from qa.ingest.sections import build_document
    from tests.conftest import WILD
    doc = build_document(load_file(WILD / name))
    meta = doc.paragraphs[0]
    assert meta.kind == "meta" and not has_gold(name, meta.text, [(name, header_quote)])
    sources = meta_sources([doc], WILD)
    assert sources == {meta.id: field_lines(meta.text, load_file(WILD / name).text)}
    view = with_source(meta.text, meta.id, sources)
    assert has_gold(name, view, [(name, header_quote)])
    assert not has_gold(name, view, [(name, body_quote)])
    assert any(body_quote in p.text for p in doc.paragraphs)
    body = next(p for p in doc.paragraphs if body_quote in p.text)
    assert hit_rank([(name, body.text), (name, view)], ((name, header_quote),)) == 2


def test_an_answer_cited_to_the_metadata_paragraph_is_a_gold_citation(tmp_path, qa_cache_dir):
    # end to end: the run scores recall and citations with the metadata paragraph's source lines
    import shutil
    from tests.conftest import WILD
    docs = tmp_path / "docs"
    docs.mkdir()
    report = "2014年政府工作报告.txt"
    notice = "中共中央办公厅国务院办公厅印发《关于做好地方政府专项债券发行及项目配套融资工作的通知》.docx"
    for name in (report, notice):
        shutil.copy(WILD / name, docs / name)
    questions = tmp_path / "meta.jsonl"
    rows = [
        {"id": "m1", "question": "2014年政府工作报告是在哪次会议上作的？", "answers": ["第十二届全国人民代表大会第二次会议"],
         "evidence": [{"doc": report, "quote": "2014年3月5日在第十二届全国人民代表大会第二次会议上"}],
         "answerable": True, "kind": "meta"},
        {"id": "m2", "question": "关于做好地方政府专项债券发行及项目配套融资工作的通知的发文字号是什么？",
         "answers": ["厅字﹝2019﹞33号"], "evidence": [{"doc": notice, "quote": "（厅字﹝2019﹞33号）"}],
         "answerable": True, "kind": "meta"},
    ]
    questions.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("QA_CACHE_DIR", str(qa_cache_dir))
        mp.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
        assert main(["--questions", str(questions), "--docs", str(docs), "--out", str(tmp_path / "out"),
                     "--model", "extractive"]) == 0
    out = rows_of(tmp_path / "out")
    assert [r["citations"][0]["para"] for r in out] == [f"{report}#0", f"{notice}#0"]
    assert [r["gold_cited"] for r in out] == [[True], [True]]
    assert [r["hit_rank"] for r in out] == [1, 1] and all(r["retrieved"][0]["gold"] for r in out)


def test_a_plain_yes_or_no_in_the_gold_answers_matches_the_same_side_however_worded():
    from qa.eval.answer_eval import answer_correct
    assert answer_correct("不可以[1]。", ("不享受", "不能", "否"))
    assert answer_correct("不得向旅客收取客票变更费[1]。", ("不得", "否"))
    assert not answer_correct("可以[1]。", ("不能", "否"))
    assert not answer_correct("不是，该条例已废止[2]。", ("是",))
    assert answer_correct("是，具有同等法律效力[1]。", ("是", "具有同等法律效力"))
