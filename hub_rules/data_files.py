"""The file-type rule of dataset repos: a dataset holds data, never code (and never a pickle: the
hub's pickle rule applies to every file). The client checks a folder before sending it and the
server checks the stored bytes before publishing, with one rule.

The tabular and text types are checked by content: JSON Lines (every non-empty line parses as
JSON), JSON (one document, bounded), CSV/TSV, text and markdown (UTF-8, no NUL byte), rows of all
of them bounded by ``MAX_ROW_BYTES``, and Parquet (starts and ends with ``PAR1``). Code is refused
by suffix (``CODE_SUFFIXES``). Anything else (images, audio, Arrow, compressed shards, ``.bin``) is
opaque data: stored as bytes, bounded only by the hub's size limits, as on the HF Hub.

Checks stream: ``DataFileCheck(path).feed(chunk)`` any number of times, then ``finish()``. Every
refusal is one ``DataFileRefused`` line naming the file (and the line for row-based formats).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable

from .errors import PathRefused

MAX_ROW_BYTES = 1024 * 1024  # one JSONL/CSV row; a longer one is refused, not buffered
MAX_JSON_BYTES = 64 * 1024 * 1024  # a whole .json document is parsed, so it is bounded
PARQUET_MAGIC = b"PAR1"

ROWS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "text", ".tsv": "text"}
DOCUMENTS = {".json": "json", ".txt": "text", ".md": "text", ".parquet": "parquet"}
CONFIG_FILES = {".gitattributes", ".gitignore"}  # repository plumbing, plain text
CODE_SUFFIXES = frozenset(
    {
        ".py",
        ".pyc",
        ".pyo",
        ".pyd",
        ".pyw",
        ".pyx",
        ".ipynb",
        ".sh",
        ".bash",
        ".zsh",
        ".fish",
        ".ps1",
        ".psm1",
        ".bat",
        ".cmd",
        ".com",
        ".exe",
        ".dll",
        ".so",
        ".dylib",
        ".js",
        ".mjs",
        ".cjs",
        ".ts",
        ".jsx",
        ".tsx",
        ".rb",
        ".pl",
        ".pm",
        ".php",
        ".lua",
        ".jar",
        ".class",
        ".whl",
        ".egg",
        ".msi",
        ".deb",
        ".rpm",
        ".apk",
        ".vbs",
        ".scr",
    }
)


class DataFileRefused(PathRefused):
    """A file a dataset repo does not take (wrong type, or content that is not its type)."""


def data_kind(path: str) -> str:
    """How ``path`` is checked: ``jsonl``, ``json``, ``text``, ``parquet`` or ``opaque`` (bytes kept
    as they are); ``DataFileRefused`` for code."""
    name = path.rsplit("/", 1)[-1]
    if name in CONFIG_FILES:
        return "text"
    dot = name.rfind(".")
    suffix = name[dot:].lower() if dot > 0 else ""
    if suffix in CODE_SUFFIXES:
        raise DataFileRefused(f"{path}: a dataset holds data, not code ({suffix} files are refused)")
    return ROWS.get(suffix) or DOCUMENTS.get(suffix) or "opaque"


def check_data_path(path: str) -> str:
    """``path`` unchanged unless its type is code (a check by name, before any bytes)."""
    data_kind(path)
    return path


class DataFileCheck:
    """Streaming check of one data file's bytes against its type (see the module docstring)."""

    def __init__(self, path: str, *, max_row_bytes: int = MAX_ROW_BYTES) -> None:
        self.path = path
        self.kind = data_kind(path)
        self.max_row_bytes = max_row_bytes
        self.size = 0
        self._line = 0
        self._pending = b""
        self._head = b""
        self._tail = b""
        self._document: list[bytes] = []
        self._decoder = codecs.getincrementaldecoder("utf-8")()

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.kind == "opaque":
            return
        if self.kind == "parquet":
            if len(self._head) < 4:
                self._head += chunk[: 4 - len(self._head)]
            self._tail = (self._tail + chunk)[-4:]
            return
        self._text(chunk)
        if self.kind == "json":
            if self.size > MAX_JSON_BYTES:
                raise DataFileRefused(f"{self.path}: a .json file over {MAX_JSON_BYTES} bytes; use .jsonl")
            self._document.append(chunk)
            return
        self._pending += chunk
        *rows, self._pending = self._pending.split(b"\n")
        for row in rows:
            self._row(row)
        if len(self._pending) > self.max_row_bytes:
            raise DataFileRefused(f"{self.path} line {self._line + 1}: a row over {self.max_row_bytes} bytes")

    def finish(self) -> None:
        """The end of the file: the last row and whole-file checks."""
        if self.kind == "opaque":
            return
        if self.kind == "parquet":
            if self.size < 12 or self._head != PARQUET_MAGIC or self._tail != PARQUET_MAGIC:
                raise DataFileRefused(f"{self.path}: not a Parquet file (it must start and end with PAR1)")
            return
        self._text(b"", final=True)
        if self.kind == "json":
            try:
                json.loads(b"".join(self._document) or b"null")
            except ValueError as exc:
                raise DataFileRefused(f"{self.path}: not valid JSON ({_first_line(exc)})") from None
            return
        if self._pending:
            self._row(self._pending)
            self._pending = b""

    def _text(self, chunk: bytes, final: bool = False) -> None:
        try:
            self._decoder.decode(chunk, final)
        except UnicodeDecodeError:
            raise DataFileRefused(f"{self.path}: not UTF-8 text") from None
        if b"\x00" in chunk:
            raise DataFileRefused(f"{self.path}: a NUL byte in a text file")

    def _row(self, row: bytes) -> None:
        self._line += 1
        if len(row) > self.max_row_bytes:
            raise DataFileRefused(f"{self.path} line {self._line}: a row over {self.max_row_bytes} bytes")
        if self.kind == "jsonl" and row.strip():
            try:
                json.loads(row)
            except ValueError as exc:
                raise DataFileRefused(f"{self.path} line {self._line}: not valid JSON ({_first_line(exc)})") from None


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def check_data_file(path: str, chunks: Iterable[bytes], *, max_row_bytes: int = MAX_ROW_BYTES) -> int:
    """Check the whole file streamed as ``chunks``; returns its size, or raises ``DataFileRefused``."""
    check = DataFileCheck(path, max_row_bytes=max_row_bytes)
    for chunk in chunks:
        check.feed(chunk)
    check.finish()
    return check.size
