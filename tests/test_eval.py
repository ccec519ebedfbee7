"""The evaluation command and its metrics."""
import json

from qa.answer_eval import answer_correct
from qa.eval import contains_quote, hit_rank, main, retrieval_metrics
from tests.conftest import SEEDS

QUESTIONS = SEEDS.parent / "questions" / "dev.jsonl"


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


def test_metrics_exact():
    rows = [{"kind": "a", "rank": 1, "coverage": 1.0}, {"kind": "a", "rank": 3, "coverage": 0.5},
            {"kind": "b", "rank": None, "coverage": 0.0}]
    m = retrieval_metrics(rows, 5)
    assert (m["recall@1"], m["recall@5"], m["mrr"]) == (round(1 / 3, 4), round(2 / 3, 4), round((1 + 1 / 3) / 3, 4))
    assert m["by_kind"]["a"]["recall@5"] == 1.0 and m["by_kind"]["b"]["recall@5"] == 0.0


def test_eval_command_writes_results(tmp_path, seed_settings, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(seed_settings.cache_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(seed_settings.resolved_index_dir))
    assert main(["--questions", str(QUESTIONS), "--out", str(tmp_path), "--retrieval-only", "--limit", "6"]) == 0
    rows = [json.loads(l) for l in (tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 6 and all({"id", "question", "retrieved", "latency_s"} <= set(r) for r in rows)
    assert {"doc", "para", "section", "text", "score"} <= set(rows[0]["retrieved"][0])
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["modes"]) == {"hybrid", "bm25", "dense"} and "by_kind" in summary


def test_answer_eval_extractive(tmp_path, seed_settings, monkeypatch):
    monkeypatch.setenv("QA_CACHE_DIR", str(seed_settings.cache_dir))
    monkeypatch.setenv("QA_INDEX_DIR", str(seed_settings.resolved_index_dir))
    assert main(["--questions", str(QUESTIONS), "--out", str(tmp_path), "--model", "extractive", "--limit", "4"]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    for key in ("answer_accuracy", "citation_hit_rate", "citation_precision", "numbers_in_cited_passages",
                "refusal_accuracy", "false_refusal_rate", "answer_latency_s"):
        assert key in summary
    row = json.loads((tmp_path / "results.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert {"answer", "abstained", "citations", "latency_s"} <= set(row)
