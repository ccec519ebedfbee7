"""Generate stage: sha256 of large weight files, rehashed only when a file's size or mtime changed
(a 1 GB hash costs seconds on every start)."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

_CHUNK = 8 << 20


def hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_stamped(path: Path, stamp: Path) -> str:
    """sha256 of `path`, rehashed only when size/mtime differ from the stamp: a 1 GB hash costs seconds per start."""
    st = path.stat()
    try:
        s = json.loads(stamp.read_text())
        if s["size"] == st.st_size and s["mtime_ns"] == st.st_mtime_ns and s["path"] == str(path.resolve()):
            return str(s["sha256"])
    except (OSError, ValueError, KeyError):
        pass
    digest = hash_file(path)
    write_stamp(path, stamp, digest)
    return digest


def write_stamp(path: Path, stamp: Path, digest: str) -> None:
    st = path.stat()
    stamp.parent.mkdir(parents=True, exist_ok=True)
    tmp = stamp.with_name(f"{stamp.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"path": str(path.resolve()), "size": st.st_size,
                               "mtime_ns": st.st_mtime_ns, "sha256": digest}))
    os.replace(tmp, stamp)
