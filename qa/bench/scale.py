"""Scale benchmark (python -m qa.bench --only scale [--scale N]): a synthetic corpus of N chunks
recombined from real ones, written as a real build (the same files as qa/retrieval/index.py writes), then
loaded cold and searched in a fresh process, at N and at N/10.

How the corpus is made (and what that means for the figures):
- the sources are the real chunks of seeds/ and corpora/wild/ (their own indexes, built once and
  cached like any corpus);
- synthetic chunk j = source chunk a (taken in turn, so every real chunk recurs) + the first
  sentence-sized piece of another source chunk b, in a synthetic document of 50 chunks. Its BM25
  tokens are a's tokens + the piece's tokens, so texts and tokens agree, and no text is tokenized
  or embedded again (which is what makes 300,000 chunks possible on two cores);
- its two vectors (context and bare view) are 0.7·a + 0.3·b + noise (norm ≈ 0.3), normalized:
  derived from real e5 vectors, NOT the e5 embedding of the synthetic text. They keep the real
  topics, so HNSW recall and timings are realistic, but relevance on them means nothing. (With
  0.8·a + 0.2·b and a tenth of the noise, each real chunk recurred as ~136 near-identical copies,
  cosine ≈ 0.999, whose order among themselves was decided by the noise alone: no corpus looks
  like that, and "recall" there measured the noise);
- the queries are the real questions of questions/dev.jsonl, encoded once by the real encoder in
  the parent process, so the search process holds no encoder (its memory is the index's own);
- build time = BM25 matrix + FAISS index (with its recall check) + files written and hashed.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.settings import PROJECT_ROOT, Settings

SOURCES = (PROJECT_ROOT / "seeds", PROJECT_ROOT / "corpora" / "wild")
QUESTIONS = PROJECT_ROOT / "questions" / "dev.jsonl"
CHUNKS_PER_DOC = 50
PIECE_CHARS = 60  # the borrowed piece of the second source chunk
EF_SWEEP = (256, 512, 1024, 2048, 4096)
MIX, NOISE = 0.3, 0.3  # synthetic vector = (1 - MIX)·a + MIX·b + noise of about this norm


@dataclass
class ScaleRow:
    chunks: int
    vectors: int
    faiss: str
    build_s: float
    size_mb: float
    load_s: float
    rss_mb: float
    peak_rss_mb: float
    bm25_p50_ms: float
    bm25_p95_ms: float
    dense_p50_ms: float
    dense_p95_ms: float
    hybrid_p50_ms: float
    hybrid_p95_ms: float
    searches: int
    recall_at_10: float       # rows the approximate index returns among the exact top 10
    recall_candidates: float  # chunks of the dense candidate list (depth 50) found by both
    build_faiss_recall: float | None  # the build's own check (sampled stored vectors)
    ef_sweep: list | None = None  # HNSW only: recall and time per efSearch value
    bm25_s: float = 0.0       # parts of build_s
    faiss_s: float = 0.0
    write_s: float = 0.0


def _sources(dirs: tuple[Path, ...]):
    """The real chunks, their tokens and their vectors (both views), from each corpus's index."""
    from embeddings.encoder import load_encoder

    from qa.retrieval.index import VIEWS, open_index

    settings = Settings.load()
    encoder = load_encoder(settings.embed_model, settings.cache_dir, settings.threads)
    chunks, tokens, ctx, bare = [], [], [], []
    for d in dirs:
        idx = open_index(settings.with_(docs_dir=d), encoder)
        n = len(idx.chunks)
        vecs = idx.vectors.reconstruct_n(0, VIEWS * n)
        chunks += idx.chunks
        tokens += idx.tokens
        ctx.append(vecs[:n])
        bare.append(vecs[n:])
    return encoder, chunks, tokens, np.concatenate(ctx), np.concatenate(bare)


def _normalized(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def synthesize(n: int, chunks, tokens, ctx: np.ndarray, bare: np.ndarray, seed: int = 0):
    """n synthetic chunks (documents, chunks, tokens, vectors in the build's row order)."""
    from qa.text.normalize import tokenize
    from qa.schema import Chunk, Document, Paragraph

    rng = np.random.default_rng(seed)
    s = len(chunks)
    a = np.arange(n) % s
    b = rng.integers(0, s, size=n)
    pieces = [c.text[:PIECE_CHARS] for c in chunks]
    piece_tokens = [tokenize(p) for p in pieces]
    docs: list[Document] = []
    out_chunks: list[Chunk] = []
    out_tokens: list[list[str]] = []
    paras: list[Paragraph] = []
    for j in range(n):
        src, other = chunks[a[j]], int(b[j])
        k = j % CHUNKS_PER_DOC
        name = f"syn{j // CHUNKS_PER_DOC:06d}.txt"
        text = f"{src.text}\n{pieces[other]}"
        para = Paragraph(f"{name}#{k + 1}", name, k + 1, text, src.section, src.title, (k + 1, k + 1))
        paras.append(para)
        out_chunks.append(Chunk(f"{name}#{k + 1}.0", name, (para.id,), text, src.section, src.title))
        out_tokens.append(tokens[a[j]] + piece_tokens[other])
        if k == CHUNKS_PER_DOC - 1 or j == n - 1:
            docs.append(Document(name, src.title, {}, tuple(paras), f"{j:064x}"))
            paras = []
    noise = NOISE / np.sqrt(ctx.shape[1])
    vc = _normalized((1 - MIX) * ctx[a] + MIX * ctx[b] + rng.normal(0, noise, (n, ctx.shape[1])))
    vb = _normalized((1 - MIX) * bare[a] + MIX * bare[b] + rng.normal(0, noise, (n, ctx.shape[1])))
    return docs, out_chunks, out_tokens, np.concatenate([vc, vb])


def write_build(path: Path, docs, chunks, tokens, vecs: np.ndarray, force_hnsw: bool = False) -> dict:
    """The files of a build, as qa/retrieval/index.py writes them (a manifest with each file's sha256, so
    read_index verifies them as at any start). Returns the timings and the FAISS info."""
    from qa.retrieval import index as index_mod
    from qa.retrieval.bm25 import Bm25
    from qa.retrieval.index import FILES, STORAGE_VERSION, _sha256, make_vector_index, write_files

    t0 = time.perf_counter()
    bm25 = Bm25.from_tokens(tokens)
    t_bm25 = time.perf_counter()
    limit = index_mod.EXACT_MAX_ROWS
    if force_hnsw:  # a small test run still goes through the approximate index and its recall
        index_mod.EXACT_MAX_ROWS = 0
    try:
        faiss_index, faiss_info = make_vector_index(vecs, vecs.shape[1])
    finally:
        index_mod.EXACT_MAX_ROWS = limit
    t_faiss = time.perf_counter()
    path.mkdir(parents=True)
    write_files(path, docs, chunks, bm25, faiss_index)
    manifest = {"storage_version": STORAGE_VERSION, "synthetic": True, "counts": {"documents": len(docs),
                "chunks": len(chunks)}, "faiss": faiss_info, "files": {f: _sha256(path / f) for f in FILES}}
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    t_end = time.perf_counter()
    return {"build_s": round(t_end - t0, 1), "bm25_s": round(t_bm25 - t0, 1), "faiss_s": round(t_faiss - t_bm25, 1),
            "write_s": round(t_end - t_faiss, 1), "faiss": faiss_info}


def _status_mb(key: str) -> float:
    """VmRSS (resident now) or VmHWM (peak) of this process, MB. Not ru_maxrss: that survives the
    exec of a forked child and would report the parent's size."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def child_search(build: str, queries: str, rounds: int = 2) -> dict:
    """In a fresh process: load the build cold, search the dev questions in each mode (query
    vectors precomputed), memory, then the approximate index's recall against exact search."""
    import faiss

    from qa.retrieval.index import VIEWS, read_index
    from qa.eval.metrics import percentile
    from qa.retrieval.retrieve import Retriever

    t0 = time.perf_counter()
    idx = read_index(Path(build))
    load_s = time.perf_counter() - t0
    z = np.load(queries)
    qtexts, qvecs = list(z["texts"]), z["vectors"].astype(np.float32)
    by_text = {t: qvecs[i:i + 1] for i, t in enumerate(qtexts)}
    ret = Retriever(idx, None, Settings().rrf_k, Settings().candidates)
    ret.query_vector = lambda q: by_text[q]  # no encoder in this process
    ret.search(qtexts[0], 5, "hybrid")  # first touch of the pages of every structure
    lat: dict[str, list[float]] = {"bm25": [], "dense": [], "hybrid": []}
    for _ in range(rounds):
        for q in qtexts:
            for mode in lat:
                t = time.perf_counter()
                ret.search(q, 5, mode)
                lat[mode].append(time.perf_counter() - t)
    rss, peak = _status_mb("VmRSS"), _status_mb("VmHWM")
    # recall of the index searched against exact search over the same vectors, on the dev questions
    n = len(idx.chunks)
    exact = faiss.IndexFlatIP(idx.vectors.d)
    exact.add(idx.vectors.reconstruct_n(0, VIEWS * n))
    _, truth = exact.search(qvecs, 10)
    _, got = idx.vectors.search(qvecs, 10)
    recall10 = sum(len(set(t) & set(g)) for t, g in zip(truth.tolist(), got.tolist())) / truth.size
    depth = Settings().candidates
    both = total = 0
    for i in range(len(qtexts)):
        approx, _ = ret.dense_top(qvecs[i:i + 1], depth)
        idx_vectors = ret.index.vectors
        ret.index.vectors = exact
        truth_c, _ = ret.dense_top(qvecs[i:i + 1], depth)
        ret.index.vectors = idx_vectors
        both += len(set(approx) & set(truth_c))
        total += len(truth_c)
    # the approximate index at other efSearch values: what recall each costs (rows, depth 10 and 100)
    sweep = []
    if isinstance(idx.vectors, faiss.IndexHNSW):
        default = idx.vectors.hnsw.efSearch
        _, truth100 = exact.search(qvecs, 100)
        for ef in EF_SWEEP:
            idx.vectors.hnsw.efSearch = ef
            t = time.perf_counter()
            _, got100 = idx.vectors.search(qvecs, 100)
            ms = 1000 * (time.perf_counter() - t) / max(1, len(qvecs))
            r10 = sum(len(set(t_[:10]) & set(g[:10])) for t_, g in zip(truth100.tolist(), got100.tolist())) / (10 * len(qvecs))
            r100 = sum(len(set(t_) & set(g)) for t_, g in zip(truth100.tolist(), got100.tolist())) / truth100.size
            sweep.append({"efSearch": ef, "recall@10": round(r10, 4), "recall@100": round(r100, 4), "ms": round(ms, 2)})
        idx.vectors.hnsw.efSearch = default
    out = {"load_s": round(load_s, 2), "rss_mb": rss, "peak_rss_mb": peak, "searches": len(lat["bm25"]),
           "ef_sweep": sweep,
           "recall_at_10": round(recall10, 4), "recall_candidates": round(both / max(1, total), 4),
           "faiss": type(idx.vectors).__name__}
    for mode, xs in lat.items():
        out[f"{mode}_p50_ms"] = round(1000 * percentile(xs, 50), 2)
        out[f"{mode}_p95_ms"] = round(1000 * percentile(xs, 95), 2)
    return out


def _dir_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.iterdir() if p.is_file()) / 1e6, 1)


def run_scale(n: int, sources: tuple[Path, ...] = SOURCES, force_hnsw: bool = False,
              workdir: Path | None = None) -> dict:
    """The benchmark at n chunks and at n // 10; returns the figures (also printed by qa.bench)."""
    from qa.eval.run import load_questions

    t0 = time.perf_counter()
    encoder, chunks, tokens, ctx, bare = _sources(sources)
    qtexts = [q.question for q in load_questions(QUESTIONS)]
    from qa.retrieval.retrieve import clean_query

    qtexts = [clean_query(q) for q in qtexts]
    qvecs = np.concatenate([encoder.encode_queries([t]) for t in qtexts]) if qtexts else np.zeros((0, encoder.dim))
    prep_s = time.perf_counter() - t0
    rows = []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp = Path(tmp)
        qfile = tmp / "queries.npz"
        # a search clean_query()s its text first: the keys are the cleaned questions
        np.savez(qfile, texts=np.asarray(qtexts), vectors=qvecs.astype(np.float32))
        for size in (n, max(1, n // 10)):
            docs, syn_chunks, syn_tokens, vecs = synthesize(size, chunks, tokens, ctx, bare)
            build = tmp / f"build-{size}"
            info = write_build(build, docs, syn_chunks, syn_tokens, vecs, force_hnsw=force_hnsw)
            del docs, syn_chunks, syn_tokens, vecs
            out = subprocess.run([sys.executable, "-m", "qa.bench", "--child", "scale_search", str(build), str(qfile)],
                                 capture_output=True, text=True, cwd=PROJECT_ROOT)
            if out.returncode != 0:
                raise RuntimeError(out.stderr.strip()[-2000:])
            got = json.loads(out.stdout.strip().splitlines()[-1])
            rows.append(ScaleRow(chunks=size, vectors=info["faiss"]["rows"], faiss=info["faiss"]["type"],
                                 build_s=info["build_s"], size_mb=_dir_mb(build), load_s=got["load_s"],
                                 rss_mb=got["rss_mb"], peak_rss_mb=got["peak_rss_mb"],
                                 bm25_p50_ms=got["bm25_p50_ms"], bm25_p95_ms=got["bm25_p95_ms"],
                                 dense_p50_ms=got["dense_p50_ms"], dense_p95_ms=got["dense_p95_ms"],
                                 hybrid_p50_ms=got["hybrid_p50_ms"], hybrid_p95_ms=got["hybrid_p95_ms"],
                                 searches=got["searches"], recall_at_10=got["recall_at_10"],
                                 recall_candidates=got["recall_candidates"],
                                 build_faiss_recall=info["faiss"].get("recall@10"), bm25_s=info["bm25_s"],
                                 faiss_s=info["faiss_s"], write_s=info["write_s"], ef_sweep=got["ef_sweep"]))
    return {"source_chunks": len(chunks), "questions": len(qtexts), "prep_s": round(prep_s, 1),
            "cpu": _cpu(), "rows": [asdict(r) for r in rows],
            "note": "合成语料：真实文档的块重组；向量由真实 e5 向量混合加噪声得到（0.7·a + 0.3·b + 噪声，并非合成文本的嵌入），"
                    "用于测速度、内存与近似索引召回率，不用于衡量相关性"}


def _cpu() -> str:
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} × {os.cpu_count()}"
    except OSError:
        pass
    return f"{os.cpu_count()} CPU"


def print_scale(report: dict) -> None:
    print("\n== 规模测试（合成语料） ==")
    print(f"  说明：{report['note']}")
    print(f"  来源块 {report['source_chunks']}，问题 {report['questions']}，CPU {report['cpu']}，"
          f"负载 {os.getloadavg()[0]:.1f}")
    for r in report["rows"]:
        print(f"\n  -- {r['chunks']} 个块（{r['vectors']} 个向量，FAISS {r['faiss']}）--")
        print(f"  build_s                  {r['build_s']}  (bm25 {r['bm25_s']} s, faiss {r['faiss_s']} s, "
              f"write {r['write_s']} s)")
        print(f"  index_size_mb            {r['size_mb']}")
        print(f"  load_s                   {r['load_s']}  (新进程，读入并校验 sha256)")
        print(f"  rss_mb                   {r['rss_mb']}  (检索进程常驻内存，不含编码器与生成模型；峰值 {r['peak_rss_mb']})")
        for mode in ("bm25", "dense", "hybrid"):
            print(f"  {mode + '_p50/p95_ms':<24} {r[mode + '_p50_ms']} / {r[mode + '_p95_ms']}  "
                  f"({r['searches']} 次检索，查询向量预先算好)")
        print(f"  recall@10                {r['recall_at_10']}  (dev 问题：所用索引对精确检索)")
        print(f"  recall_candidates        {r['recall_candidates']}  (dense 候选 50 个块)")
        if r["build_faiss_recall"] is not None:
            print(f"  build_recall@10          {r['build_faiss_recall']}  (建索引时抽样自检)")
        for e in r.get("ef_sweep") or []:
            print(f"  efSearch {e['efSearch']:<5}           recall@10 {e['recall@10']}  recall@100 {e['recall@100']}  "
                  f"{e['ms']} ms/次（取 100 个）")
