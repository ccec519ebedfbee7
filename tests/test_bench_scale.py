"""The scale benchmark (qa/bench/scale.py) run as a command at a tiny size: it builds the synthetic
corpus, loads it cold in a fresh process, searches, and prints every figure the README quotes."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_scale_bench_prints_every_figure_at_a_tiny_size():
    out = subprocess.run([sys.executable, "-m", "qa.bench", "--only", "scale", "--scale", "3000",
                          "--scale-sources", "seeds", "--hnsw"], cwd=ROOT, capture_output=True, text=True, timeout=1500)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    assert "向量由真实 e5 向量混合加噪声得到" in text  # the synthetic vectors are stated
    assert "-- 3000 个块（6000 个向量，FAISS hnsw）--" in text and "-- 300 个块（600 个向量" in text
    for size in ("3000", "300"):
        block = text.split(f"-- {size} 个块")[1].split("-- ")[0]
        figures = {}
        for key in ("build_s", "index_size_mb", "load_s", "rss_mb", "bm25_p50/p95_ms", "dense_p50/p95_ms",
                    "hybrid_p50/p95_ms", "recall@10", "recall_candidates"):
            m = re.search(rf"^\s+{re.escape(key)}\s+([\d.]+)", block, re.M)
            assert m, (key, block)
            figures[key] = float(m.group(1))
        assert 0 < figures["rss_mb"] < 3000 and figures["index_size_mb"] > 0 and figures["load_s"] < 10
        assert 0.9 <= figures["recall@10"] <= 1.0 and 0.9 <= figures["recall_candidates"] <= 1.0
        assert "峰值" in block and "(bm25" in block
    assert re.search(r"CPU .+ × \d+", text)


def test_the_generation_bench_names_what_each_engine_needed_at_install():
    from importlib.metadata import version

    from qa.bench.run import install_artefact
    assert install_artefact("openvino:1.5b") == f"openvino-genai {version('openvino-genai')} (wheel)"
    assert install_artefact("llamacpp:1.5b") == f"llama-cpp-python {version('llama-cpp-python')} (compiled from source at install)"
    assert install_artefact("extractive") == "—"
