"""The first rows of a dataset version for its page: JSON Lines and CSV/TSV become a table
(columns in first-seen order, cells as short text; the template escapes them), read from at most
``PREVIEW_BYTES`` of the file; other data files are listed with their size and type.
Nothing here executes or trusts the data: JSON is parsed, CSV is split by the csv module."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from hub_rules import DataFileRefused, data_kind

PREVIEW_ROWS = 20
PREVIEW_BYTES = 256 * 1024
CELL_CHARS = 200
_ORDER = ("train", "validation", "test")  # the split people look at first


@dataclass
class Preview:
    path: str
    columns: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""


def preview_file(files) -> object | None:
    """The ``VersionFile`` worth previewing: a JSONL/CSV/TSV file, ``train`` ones first."""
    tables = [f for f in files if f.path.lower().endswith((".jsonl", ".ndjson", ".csv", ".tsv")) and f.size > 0]
    if not tables:
        return None
    return min(tables, key=lambda f: (next((i for i, s in enumerate(_ORDER) if s in f.path.lower()), 9), f.path))


def data_files(files) -> list[dict]:
    """Every data file of the version with the type the data-file rule gives it (for the file info)."""
    out = []
    for f in files:
        try:
            kind = data_kind(f.path)
        except DataFileRefused:
            continue
        if kind == "parquet":
            kind = "parquet (shown as file info; load it with datasets or pyarrow)"
        elif kind == "opaque":
            kind = "data file"
        out.append({"path": f.path, "size": f.size, "kind": kind})
    return out


def table(path: str, head: bytes, truncated: bool) -> Preview:
    """The first ``PREVIEW_ROWS`` rows of ``head`` (the file's first bytes); a cut last line is dropped."""
    if truncated:
        head = head[: head.rfind(b"\n") + 1]
    text = head.decode("utf-8", errors="replace")
    preview = Preview(path)
    if path.lower().endswith((".jsonl", ".ndjson")):
        records = []
        for line in text.splitlines():
            if line.strip():
                records.append(_record(line))
            if len(records) == PREVIEW_ROWS:
                break
        for record in records:
            preview.columns += [k for k in record if k not in preview.columns]
        preview.rows = [[record.get(c, "") for c in preview.columns] for record in records]
    else:
        reader = csv.reader(io.StringIO(text), delimiter="\t" if path.lower().endswith(".tsv") else ",")
        rows = [row for _, row in zip(range(PREVIEW_ROWS + 1), reader, strict=False)]
        preview.columns = [_cell(c) for c in rows[0]] if rows else []
        preview.rows = [[_cell(c) for c in row] for row in rows[1:]]
    if not preview.rows:
        preview.note = "no rows in the first part of the file"
    return preview


def _record(line: str) -> dict[str, str]:
    try:
        value = json.loads(line)
    except ValueError:
        return {"(line)": _cell(line)}
    if not isinstance(value, dict):
        return {"value": _cell(value)}
    return {str(k)[:CELL_CHARS]: _cell(v) for k, v in value.items()}


def _cell(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= CELL_CHARS else text[:CELL_CHARS] + "…"
