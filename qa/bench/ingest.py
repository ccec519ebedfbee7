"""Ingestion speed per format (python -m qa.bench --only ingest, or python -m qa.bench.ingest).

Text-layer PDFs in pages/s, OCR in seconds per page (wall and CPU: on a shared machine the CPU
time is the steadier figure) with the peak memory of a process that only OCRs, .docx and .html
in documents/s. Inputs are the real files of corpora/wild and the scanned-page fixture.
"""
from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from qa.settings import PROJECT_ROOT

WILD = PROJECT_ROOT / "corpora" / "wild"
SCANNED = PROJECT_ROOT / "tests" / "fixtures" / "formats" / "2022年政府工作报告_节选_扫描第1页.pdf"


def _timed(paths: list[Path], rounds: int) -> tuple[float, float, list]:
    from qa.ingest.load import load_file

    docs = []
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(rounds):
        docs = [load_file(p) for p in paths]
    return (time.perf_counter() - w0) / rounds, (time.process_time() - c0) / rounds, docs


def measure_formats(rounds: int = 3) -> dict:
    out: dict = {}
    pdfs = sorted(WILD.glob("*.pdf"))
    if pdfs:
        import pypdfium2 as pdfium

        pages = sum(len(pdfium.PdfDocument(p)) for p in pdfs)
        wall, cpu, _ = _timed(pdfs, 1)
        out["pdf_text_pages"] = pages
        out["pdf_text_pages_per_s"] = round(pages / wall, 1)
        out["pdf_text_pages_per_cpu_s"] = round(pages / cpu, 1)
    for fmt in ("docx", "html", "md", "txt"):
        paths = sorted(p for p in WILD.glob(f"*.{fmt}") if p.name != "SOURCES.md")
        if not paths:
            continue
        wall, cpu, docs = _timed(paths, rounds)
        out[f"{fmt}_docs"] = len(paths)
        out[f"{fmt}_docs_per_s"] = round(len(paths) / wall, 1)
        out[f"{fmt}_kchars_per_s"] = round(sum(len(d.text) for d in docs) / wall / 1000, 1)
    return out


def measure_ocr() -> dict:
    """Run in a process of its own: its peak RSS is the OCR engine's (models + one page image)."""
    from qa.ingest.load import load_file
    from qa.ingest.load_pdf import ocr_engine

    t0 = time.perf_counter()
    ocr_engine()
    init = time.perf_counter() - t0
    wall, cpu, docs = _timed([SCANNED], 1)
    pages = len({b.page for b in docs[0].blocks})
    return {"ocr_model_load_s": round(init, 2), "ocr_pages": pages,
            "ocr_s_per_page": round(wall / pages, 2), "ocr_cpu_s_per_page": round(cpu / pages, 2),
            "ocr_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_ingest() -> dict:
    report = measure_formats()
    cmd = [sys.executable, "-m", "qa.bench.ingest", "--ocr-child"]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if proc.returncode == 0:
        report.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    else:
        report["ocr_error"] = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--ocr-child"]:
        print(json.dumps(measure_ocr(), ensure_ascii=False))
        return 0
    for k, v in run_ingest().items():
        print(f"  {k:<26} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
