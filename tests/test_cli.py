"""The command line, run as a user would, with the network cut off."""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _offline(cmd: list[str]) -> list[str]:
    # unshare -n gives the process a network namespace with no interfaces at all.
    if shutil.which("unshare") and subprocess.run(["unshare", "-n", "true"], capture_output=True).returncode == 0:
        return ["unshare", "-n", *cmd]
    pytest.skip("unshare -n is not available to cut the network")


def _run(args, env_extra, timeout=600):
    env = {**os.environ, **env_extra, "HF_HUB_OFFLINE": "1"}
    return subprocess.run(_offline([sys.executable, "-m", "qa", *args]), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_index_then_search_offline(tmp_path, qa_cache_dir, seeds_dir):
    env = {"QA_CACHE_DIR": str(qa_cache_dir), "QA_INDEX_DIR": str(tmp_path / "idx")}
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(seeds_dir / "000_2fea3bba8e0420ec.txt", docs)
    r = _run(["--docs", str(docs), "index"], env)
    assert r.returncode == 0, r.stderr
    assert "索引就绪：1 篇文档" in r.stdout
    r = _run(["--docs", str(docs), "search", "定西市驻村帮扶干部的生活补助是多少？", "-k", "2", "--json"], env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    top = out["hits"][0]
    assert top["para"] == "000_2fea3bba8e0420ec.txt#6" and "每人每天100元" in top["text"]
    assert top["section"] == "二、典型做法和经验 > (三)坚持抓帮扶队伍建设,着力集聚脱贫攻坚的骨干力量"
    r = _run(["--docs", str(docs), "search", "生活补助", "--mode", "bm25"], env)
    assert r.returncode == 0 and "[1] 000_2fea3bba8e0420ec.txt" in r.stdout


def test_empty_query_is_refused_clearly(tmp_path, qa_cache_dir):
    r = _run(["search", "   "], {"QA_CACHE_DIR": str(qa_cache_dir), "QA_INDEX_DIR": str(tmp_path / "i")})
    assert r.returncode == 2 and "问题为空" in r.stderr
