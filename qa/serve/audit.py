"""One line per change to the documents (who, what, when), appended to <index dir>/audit.log.

A line is JSON: {"time": ISO 8601 with zone, "who": "api admin 10.0.0.7" | "page admin 127.0.0.1" | …,
"action": "upload" | "remove", "documents": [names], "result": "done" | "failed" | "cancelled" | …}.
Written by the service that makes the change (qa/serve/chat.py), for the page and the API alike.
"""
from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


class AuditLog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()

    def record(self, who: str, action: str, documents: list[str] | tuple[str, ...], result: str) -> None:
        line = json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "who": who or "unknown", "action": action,
                           "documents": list(documents), "result": result}, ensure_ascii=False)
        log.info("audit %s", line)
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line + "\n")
        except OSError as exc:  # a full disk must not fail the change it records
            log.error("audit log %s not written: %s", self.path, exc)

    def lines(self) -> list[dict]:
        if not self.path.is_file():
            return []
        return [json.loads(ln) for ln in self.path.read_text(encoding="utf-8").splitlines() if ln.strip()]
