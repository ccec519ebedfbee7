"""The conversation service (qa/serve/chat.py) on the real seed index: input cleaning at the boundary,
model allow-list, lanes and the bounded queue; the CLI with undecodable input."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from qa.answering.answer import Answerer
from qa.serve.chat import BUSY, Busy, ChatService, Lane, ServiceError
from qa.text.normalize import clean_input

ROOT = Path(__file__).resolve().parents[1]
SUBSIDY_Q = "定西市驻村帮扶干部的生活补助是多少？"


@pytest.fixture
def service(seed_settings, seed_engine):
    made: list[str] = []

    def factory(engine, spec):
        made.append(spec)
        return Answerer(engine, None)

    svc = ChatService(seed_settings.with_(llm="extractive"), seed_engine, factory, fast_workers=2, fast_queue=1)
    svc.made = made
    return svc


def test_clean_input_handles_bytes_surrogates_and_controls():
    assert clean_input(b"\xe5\xae\x9a\xe8\xa5\xbf\xff\xfe\xe5\xb8\x82") == "定西市"
    # what Python makes of undecodable command-line bytes (surrogateescape) is decoded the same way
    argv_like = b"\xe5\xae\x9a\xff\xe8\xa5\xbf".decode("utf-8", "surrogateescape")
    assert clean_input(argv_like) == "定西"
    assert clean_input("定\ud800西\udfff市") == "定西市"               # lone surrogates dropped
    assert clean_input("\ud83d\ude00") == "\U0001F600"                # a pair sent as two code points
    assert clean_input("e\u0301\x00\u200b\r\n\t") == "\u00e9\n\t"     # NFC, controls out, newline kept
    assert clean_input("问" * 50, 10) == "问" * 10 and clean_input(None) == ""


def test_question_with_invalid_text_is_answered_and_session_survives(service):
    turns = service.ask("s", "定西市驻村帮扶干部的\udcff生活补助\ud800是多少？\x00")
    assert turns[-1].question == SUBSIDY_Q
    last = list(service.answer_next("s", "extractive", 5))[-1]
    assert last[-1].error is None and "100元" in last[-1].answer
    service.ask("s", b"\xff\xfe\xfd")  # nothing left after cleaning: ignored, not a broken turn
    service.ask("s", "扎赉特旗那篇文章的作者是谁？")
    last = list(service.answer_next("s", "extractive", 5))[-1]
    assert len(last) == 2 and "張文東" in last[-1].answer


def test_only_configured_models_can_be_loaded(service):
    for spec in ("../../etc/passwd", "/tmp/other.gguf", "Qwen/Qwen2.5-72B"):
        with pytest.raises(ServiceError) as e:
            service.answerer(spec)
        assert e.value.code == "unknown_model" and e.value.status == 400 and "不支持的模型" in e.value.message
        steps = list(service.stream(SUBSIDY_Q, spec=spec))
        assert [s.kind for s in steps] == ["error"] and "不支持的模型" in steps[0].data
    assert service.made == []  # nothing was loaded for them
    assert service.answer(SUBSIDY_Q, spec="").model == "extractive"  # empty: the configured default


def test_lane_runs_workers_queues_and_refuses_beyond():
    lane = Lane("t", workers=1, queue=1)
    running, release, order = threading.Event(), threading.Event(), []

    def hold():
        with lane.slot():
            running.set()
            release.wait(10)
            order.append("first")

    def wait_then_run():
        with lane.slot():
            order.append("second")

    a = threading.Thread(target=hold)
    a.start()
    running.wait(10)
    b = threading.Thread(target=wait_then_run)
    b.start()
    while lane.stats()["pending"] < 2:
        threading.Event().wait(0.01)
    with pytest.raises(Busy) as e:  # one running, one waiting: the third is refused at once
        with lane.slot():
            pass
    assert e.value.message == BUSY and e.value.status == 503
    release.set()
    a.join()
    b.join()
    assert order == ["first", "second"] and lane.stats() == {"workers": 1, "queue": 1, "pending": 0,
                                                             "rejected": 1, "done": 2}


def test_full_fast_lane_answers_busy_not_an_exception(service):
    hold = [service.fast_lane.slot() for _ in range(3)]  # 2 workers + 1 waiting place
    entered = []
    for cm in hold[:2]:
        cm.__enter__()
        entered.append(cm)
    waiter = threading.Thread(target=lambda: service.search("补助"))
    waiter.start()
    while service.fast_lane.stats()["pending"] < 3:
        threading.Event().wait(0.01)
    with pytest.raises(Busy):
        service.search("第一书记")
    steps = list(service.stream(SUBSIDY_Q, spec="extractive"))
    assert steps[-1].kind == "error" and steps[-1].data == BUSY
    service.ask("b", SUBSIDY_Q)
    last = list(service.answer_next("b", "extractive", 5))[-1]
    assert last[-1].error == BUSY and last[-1].answer == ""  # the turn ends, the session goes on
    for cm in entered:
        cm.__exit__(None, None, None)
    waiter.join(30)
    assert not waiter.is_alive()
    assert service.search("第一书记", k=2)[0].rank == 1


def test_search_input_errors_are_clear(service):
    with pytest.raises(ServiceError) as e:
        service.search(" \udcff\x00 ")
    assert e.value.code == "empty_query" and "问题为空" in e.value.message
    with pytest.raises(ServiceError) as e:
        service.search("补助", mode="sql")
    assert e.value.code == "bad_mode"
    with pytest.raises(ServiceError) as e:
        service.search("补助", k="many")
    assert e.value.code == "bad_k"
    assert len(service.search("补助", k=10_000)) <= 50


def _cli(args: list[str], tmp_path: Path, qa_cache_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QA_CACHE_DIR": str(qa_cache_dir), "QA_INDEX_DIR": str(tmp_path / "idx"),
           "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "qa", *args], cwd=ROOT, env=env, capture_output=True, timeout=900)


def test_cli_question_with_invalid_utf8_is_answered(tmp_path, qa_cache_dir, seeds_dir):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "000.txt").write_bytes((seeds_dir / "000_2fea3bba8e0420ec.txt").read_bytes())
    # argv bytes: an invalid UTF-8 byte and an encoded lone surrogate inside the question
    question = "定西市驻村帮扶干部的".encode() + b"\xff" + "生活补助".encode() + b"\xed\xa0\x80" + "是多少？".encode()
    r = _cli([b"--docs", str(docs).encode(), b"ask", question, b"--model", b"extractive", b"--json"],
             tmp_path, qa_cache_dir)
    assert r.returncode == 0, r.stderr.decode(errors="replace")[-2000:]
    assert b"Traceback" not in r.stderr
    import json

    out = json.loads(r.stdout)
    assert out["question"] == SUBSIDY_Q and "100元" in out["answer"]
    r = _cli([b"--docs", str(docs).encode(), b"search", b"\xff\xfe", b"-k", b"1"], tmp_path, qa_cache_dir)
    assert r.returncode == 2 and "问题为空" in r.stderr.decode() and b"Traceback" not in r.stderr


def test_upload_embeds_only_when_no_question_is_running(tmp_path, seeds_dir, qa_cache_dir, monkeypatch):
    """Questions go first: while a search holds the fast lane, an upload's embedding waits (up to
    QUESTIONS_FIRST_S per batch, here longer than the test); it goes on once the lane is free."""
    import shutil

    import qa.serve.chat as chat_mod
    from qa.retrieval.engine import Engine
    from qa.settings import Settings

    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(seeds_dir / "002_2d655d4704b4aa68.txt", docs)
    settings = Settings.load(docs_dir=docs, cache_dir=qa_cache_dir, index_dir=tmp_path / "index", llm="extractive")
    svc = ChatService(settings, Engine.open(settings), lambda e, s: Answerer(e, None))
    monkeypatch.setattr(chat_mod, "QUESTIONS_FIRST_S", 600)
    text = "\n".join(f"第{i}条 某县第{i}个行政村今年新修道路{i * 3}公里。" for i in range(1, 40)).encode()
    held = svc.fast_lane.slot()
    held.__enter__()
    job = svc.start_upload([("村道.txt", text)])
    for _ in range(600):  # the job reaches the embedding step, then waits there
        if svc.upload_job(job.id).stage == "embed":
            break
        threading.Event().wait(0.05)
    threading.Event().wait(1.0)
    waiting = svc.upload_job(job.id)
    assert (waiting.stage, waiting.embedded, waiting.done) == ("embed", 0, False)
    held.__exit__(None, None, None)
    done = svc.uploads.wait(job.id, 120)
    assert done.state == "done" and done.accepted == ("村道.txt",)
    assert svc.search("第7个行政村新修道路多少公里", k=1)[0].chunk.doc == "村道.txt"


def test_upload_jobs_are_capped_per_client_and_in_all(seed_settings, seed_engine):
    """Jobs wait behind a held index lock: a client's second job is refused, the server's
    MAX_PENDING+1st too; cancelled before they run, they change nothing."""
    from qa.serve.uploads import TooManyJobs, UploadJobs

    lock = threading.Lock()
    jobs = UploadJobs(lambda: seed_engine, lock)
    files = [("某文件.txt", "第一条 内容。".encode())]
    # nothing else holds the index: the job does not say it waits (a hidden name: refused, nothing written)
    alone = jobs.start([(".隐藏.txt", "第一条 内容。".encode())], client="z", per_client=1)
    assert alone.message == "即将开始建立索引…"
    assert jobs.wait(alone.id, 60).accepted == ()
    with lock:
        first = jobs.start(files, client="a", per_client=1)
        assert first.message == "排队等待（另一个上传或删除正在建立索引）…" and first.to_json()["state_text"] == "排队等待"
        with pytest.raises(TooManyJobs) as refused:
            jobs.start(files, client="a", per_client=1)
        assert (refused.value.client, refused.value.limit) == ("a", 1)
        others = [jobs.start(files, client=f"c{i}", per_client=1) for i in range(UploadJobs.MAX_PENDING - 1)]
        with pytest.raises(TooManyJobs) as full:
            jobs.start(files, client="late", per_client=1)
        assert full.value.client is None
        for job in [first, *others]:
            jobs.cancel(job.id)
    assert {jobs.wait(j.id, 60).state for j in [first, *others]} == {"cancelled"}
    with lock:   # finished jobs leave the queue: the client may queue again
        again = jobs.start(files, client="a", per_client=1)
        jobs.cancel(again.id)
    assert jobs.wait(again.id, 60).state == "cancelled"
    assert not (seed_engine.settings.docs_dir / "某文件.txt").exists()
    small = UploadJobs(lambda: seed_engine, lock)
    small.MAX_PENDING_BYTES = len(files[0][1]) * 3 // 2     # room for one such file, not two
    with lock:
        held = small.start(files, client="a")
        with pytest.raises(TooManyJobs):
            small.start(files, client="b")
        small.cancel(held.id)
    assert small.wait(held.id, 60).state == "cancelled"
