"""The relevance gate: calibrated on the corpus and embedding model in use, stored with the index."""
import json

from qa.answering.answer import Answerer
from qa.text.normalize import normalize
from qa.answering.gate import GATE_FILE, OFFTOPIC_PROBES, calibrate, load_or_calibrate, probe_questions, signals


def _paragraphs(engine):
    return [p for d in engine.index.documents.values() for p in d.paragraphs]


def test_probes_come_from_the_corpus(seed_engine):
    probes = probe_questions(_paragraphs(seed_engine), seed_engine.retriever.idf)
    assert 20 <= len(probes) <= 48 and all(p.endswith("？") for p in probes)
    text = normalize("".join(p.text for p in _paragraphs(seed_engine)))
    assert all(w in text for p in probes for w in p[:-1].split()) and not set(probes) & set(OFFTOPIC_PROBES)


def test_thresholds_sit_above_every_offtopic_probe_and_the_margin_is_reported(seed_engine):
    gate = calibrate(seed_engine.retriever, _paragraphs(seed_engine), "m")
    off = [signals(q, seed_engine.search(q, k=5)) for q in OFFTOPIC_PROBES]
    assert not any(gate.passes(d, c) for d, c in off)
    assert gate.dense > max(d for d, _ in off) and gate.coverage > max(c for _, c in off)
    # Most questions made from the corpus clear it; the median one by the reported margin.
    assert gate.stats["ontopic_passing"] >= 0.5
    assert gate.dense_margin == round(gate.stats["ontopic_dense"]["median"] - gate.dense, 4)


def test_gate_is_stored_with_the_index_and_recalibrated_for_another_model(seed_engine):
    paras = _paragraphs(seed_engine)
    path = seed_engine.index.path / GATE_FILE
    path.unlink(missing_ok=True)
    model = seed_engine.encoder.model_id
    gate = load_or_calibrate(seed_engine.index.path, seed_engine.retriever, paras, model)
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["model_id"] == model and stored["dense"] == gate.dense
    # Stored and reused as long as the model is the same...
    stored["dense"] = 0.5
    path.write_text(json.dumps(stored), encoding="utf-8")
    assert load_or_calibrate(seed_engine.index.path, seed_engine.retriever, paras, model).dense == 0.5
    # ...and computed again for another embedding model.
    other = load_or_calibrate(seed_engine.index.path, seed_engine.retriever, paras, "another-model")
    assert other.dense == gate.dense and json.loads(path.read_text(encoding="utf-8"))["model_id"] == "another-model"
    path.unlink()


def test_unwritable_index_still_gets_a_gate(seed_engine, tmp_path):
    missing = tmp_path / "no" / "such" / "build"
    gate = load_or_calibrate(missing, seed_engine.retriever, _paragraphs(seed_engine), "m")
    assert 0 < gate.dense < 1 and not (missing / GATE_FILE).exists()


def test_answerer_uses_the_stored_gate(seed_engine):
    a = Answerer(seed_engine, None)
    assert a.gate() is a.gate()


def test_many_questions_at_once_calibrate_a_new_build_once(seed_engine, monkeypatch):
    """After an upload switches the index, the first questions arrive together: one of them
    calibrates (seconds of CPU), the others wait for its gate instead of calibrating again."""
    import threading

    import qa.answering.answer as answer_module

    calls = []
    real = answer_module.load_or_calibrate

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(answer_module, "load_or_calibrate", counted)
    a = Answerer(seed_engine, None)
    gates, start = [], threading.Barrier(6)

    def ask():
        start.wait()
        gates.append(a.gate())

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(gates) == 6 and all(g is gates[0] for g in gates)


def test_a_name_the_translation_left_in_latin_letters_counts_for_coverage_only_when_found(seed_engine):
    from qa.answering.gate import coverage
    # an English question about 定西市's village cadres, translated with the city's name left as it was
    query = "Dingxi City的驻村帮扶干部生活补助是多少？"
    hits = seed_engine.search(query, k=5)
    plain = coverage("驻村帮扶干部生活补助是多少？", hits)
    assert coverage(query, hits) < plain == coverage(query, hits, translated=True) > 0.5
    # a user's own Latin word is theirs: in a question asked in Chinese it counts, found or not
    assert coverage("定西市GDP是多少？", hits) == 0.5 and coverage("定西市GDP是多少？", hits, translated=True) == 1.0
