"""The one way benches and tests start a server: a free loopback port, a child process run as a
user runs it (`python -m qa serve`, `python app.py`) or an ASGI app in a thread, polled until it
answers, stopped on exit."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx

from qa.settings import PROJECT_ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, timeout_s: float, proc: subprocess.Popen | None = None) -> float:
    """Seconds until url answers any HTTP status; RuntimeError if the process exits or time runs out."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{' '.join(map(str, proc.args))} exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=5, trust_env=False)
            return time.perf_counter() - t0
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(30)


@contextlib.contextmanager
def child(args: list[str], probe: str, *, env: dict | None = None, timeout_s: float = 600,
          log: Path | None = None) -> Iterator[tuple[subprocess.Popen, str, float]]:
    """`python ARGS --port P` from the project root; yields (process, base URL, seconds to start)
    once base URL + probe answers. Output goes to log (or nowhere)."""
    port = free_port()
    out = open(log, "wb") if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, *args, "--port", str(port)], cwd=PROJECT_ROOT,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        started = wait_until_up(url + probe, timeout_s, proc)
        yield proc, url, started
    finally:
        stop(proc)
        if log is not None:
            out.close()


@contextlib.contextmanager
def in_thread(app, ready: threading.Event | None = None, timeout_s: float = 60) -> Iterator[str]:
    """An ASGI app (qa.serve.api.create_app(…, ready=ready)) served by uvicorn in a thread of this
    process; yields its base URL, stops it on exit."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if ready is not None:
        assert ready.wait(timeout_s), "the app did not become ready"
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/openapi.json", timeout_s)
        yield url
    finally:
        server.should_exit = True
        thread.join(30)
