"""Lists of small dataclass records (Document, Paragraph, Chunk) stored as columns in one .npz.

Each field becomes one column, chosen by what it holds: integers (None as a mask) as an int64
array; strings as one UTF-8 text with character offsets (decoded once, then sliced); anything
else (tuples, dicts) as the JSON text of each value. A column whose values repeat (a document
name on every paragraph, a section path on every chunk of it) is dictionary-encoded: the distinct
values once, an int32 code per record. No pickle: a damaged or hostile file cannot run code.
Fields added to a record later are stored without changes here.
"""
from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = 1


def pack_strings(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(UTF-8 bytes of all values, character offsets of each value: len(values) + 1)."""
    text = "".join(values)
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum([len(v) for v in values], out=offsets[1:])
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8), offsets


def unpack_strings(blob: np.ndarray, offsets: np.ndarray) -> list[str]:
    text = blob.tobytes().decode("utf-8")
    o = offsets.tolist()
    return [text[o[i]:o[i + 1]] for i in range(len(o) - 1)]


def _thaw(v: Any) -> Any:
    """JSON lists back to the tuples the records use (dicts stay dicts)."""
    if isinstance(v, list):
        return tuple(_thaw(x) for x in v)
    return v


def save_records(path: Path, records: list, cls: type, skip: tuple[str, ...] = ()) -> None:
    arrays: dict[str, np.ndarray] = {}
    schema = []
    for f in fields(cls):
        if f.name in skip:
            continue
        vals = [getattr(r, f.name) for r in records]
        if all(v is None or (isinstance(v, int) and not isinstance(v, bool)) for v in vals):
            arrays[f"{f.name}.int"] = np.asarray([0 if v is None else v for v in vals], dtype=np.int64)
            arrays[f"{f.name}.none"] = np.asarray([v is None for v in vals], dtype=bool)
            schema.append([f.name, "int"])
            continue
        kind = "str" if all(isinstance(v, str) for v in vals) else "json"
        texts = vals if kind == "str" else [json.dumps(v, ensure_ascii=False) for v in vals]
        distinct = list(dict.fromkeys(texts))
        if len(distinct) * 2 <= len(texts):
            code = {t: i for i, t in enumerate(distinct)}
            arrays[f"{f.name}.codes"] = np.asarray([code[t] for t in texts], dtype=np.int32)
            texts = distinct
        arrays[f"{f.name}.blob"], arrays[f"{f.name}.offsets"] = pack_strings(texts)
        schema.append([f.name, kind])
    meta = json.dumps({"format": FORMAT, "type": cls.__name__, "n": len(records), "columns": schema})
    arrays["__schema__"] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)


def load_columns(path: Path) -> tuple[int, dict[str, list]]:
    """(number of records, field name → list of values)."""
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(z["__schema__"].tobytes().decode("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"unknown column format {meta.get('format')}")
        n, cols = meta["n"], {}
        for name, kind in meta["columns"]:
            if kind == "int":
                ints, none = z[f"{name}.int"].tolist(), z[f"{name}.none"].tolist()
                cols[name] = [None if m else v for v, m in zip(ints, none)]
                continue
            values = unpack_strings(z[f"{name}.blob"], z[f"{name}.offsets"])
            if kind == "json":
                values = [_thaw(json.loads(v)) for v in values]
            if f"{name}.codes" in z.files:
                values = [values[c] for c in z[f"{name}.codes"].tolist()]
            if len(values) != n:
                raise ValueError(f"column {name}: {len(values)} values for {n} records")
            cols[name] = values
    return n, cols


def load_records(path: Path, cls: type, **constant: Any) -> list:
    """The records of `path`; fields that were not stored (skip=) get the given constant."""
    n, cols = load_columns(path)
    names = [f.name for f in fields(cls) if f.name in cols]
    return [cls(**dict(zip(names, row)), **constant) for row in zip(*(cols[k] for k in names))] if n else []
