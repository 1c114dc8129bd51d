"""Reading an HF NDJSON commit with bounded memory. The body is spooled on the event loop (a
little memory, then a temporary file; the minimum body rate applies), and a header line longer
than any allowed message could need is refused while it arrives. The spooled lines are then read
one at a time: small lines are parsed whole; a long line must be a ``file`` line that starts with
its base64 ``content`` (as ``huggingface_hub`` writes it), whose bytes are hashed and later stored
by decoding the spool piece by piece, never held whole."""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import IO, BinaryIO

import anyio

from hub_rules.messages import MAX_MESSAGE_CHARS

from ..errors import Invalid, TooLarge, Unavailable
from ..limits.depth import json_depth_exceeds
from ..limits.slow_bodies import BodySegments
from ..settings import Settings

MAX_LINE_DEPTH = 8  # {"key", "value": {...}}: an NDJSON commit line never needs more
SMALL_LINE = 2 * 1024 * 1024  # parsed whole (a header with the longest message fits)
# summary and description at MAX_MESSAGE_CHARS each, every character escaped (at most 12 bytes)
HEADER_LINE_MAX = 2 * MAX_MESSAGE_CHARS * 12 + 64 * 1024
_BLOCK = 1024 * 1024  # multiple of 4: base64 is decoded a block at a time
_FILE_START = re.compile(rb'\s*\{\s*"key"\s*:\s*"file"\s*,\s*"value"\s*:\s*\{\s*"content"\s*:\s*"')
_KEY = re.compile(rb'\s*\{\s*"key"\s*:\s*"([A-Za-z]+)"')
_LFS_OID = re.compile(r"[0-9a-f]{64}")
_NOT_BASE64 = bytes(
    b for b in range(256) if b not in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
)


class ByteBudget:
    """Bytes of commits being read at once on this host (``HUB_HF_MAX_COMMIT_BYTES_IN_FLIGHT``):
    a commit that does not fit waits up to ``wait`` seconds, then gets 503 with Retry-After."""

    def __init__(self, total: int, wait: float = 5.0) -> None:
        self.total, self.wait, self.used = max(1, total), wait, 0
        self._changed: anyio.Event | None = None

    @asynccontextmanager
    async def hold(self, nbytes: int) -> AsyncIterator[None]:
        nbytes = min(max(nbytes, 1), self.total)
        with anyio.move_on_after(self.wait) as scope:
            while self.used + nbytes > self.total:
                self._changed = self._changed or anyio.Event()
                await self._changed.wait()
        if scope.cancelled_caught:
            raise Unavailable(
                f"the hub is reading {self.used} bytes of commits already; try again shortly", retry_after=5
            )
        self.used += nbytes
        try:
            yield
        finally:
            self.used -= nbytes
            changed, self._changed = self._changed, None
            if changed is not None:
                changed.set()


async def _header_bounded(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Pass the body through, refusing (413) a first ``header`` line longer than any allowed message."""
    first, done = b"", False
    async for chunk in chunks:
        if not done:
            first += chunk[: HEADER_LINE_MAX + 1]
            done = b"\n" in first
            key = _KEY.match(first[:64])
            if key is not None and key.group(1) == b"header" and len(first.partition(b"\n")[0]) > HEADER_LINE_MAX:
                raise TooLarge(f"the commit message is longer than the limit of {MAX_MESSAGE_CHARS} characters")
            if done or key is not None and key.group(1) != b"header":
                done, first = True, b""
        yield chunk


async def spool_commit(
    chunks: AsyncIterable[bytes], settings: Settings, charge: Callable[[int], Awaitable[None]] | None = None
) -> IO[bytes]:
    """The whole body in one rewound spooled file (the body limit is enforced by the middleware)."""
    spooled = settings.model_copy(update={"upload_segment_bytes": 2**62})
    body = await BodySegments(_header_bounded(chunks), spooled, charge).next()
    return body if body is not None else io.BytesIO(b"")


@dataclass
class InlineFile:
    """A file of the commit: small ones as bytes, large ones as a base64 span of the spool."""

    digest: str
    size: int
    data: bytes | None = None
    spool: BinaryIO | None = None
    span: tuple[int, int] = (0, 0)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else _Base64Reader(self.spool, *self.span)

    def read_all(self) -> bytes:
        return self.open().read()


@dataclass
class ParsedCommit:
    summary: str = ""
    description: str = ""
    parent_commit: str | None = None
    added: dict[str, InlineFile] = field(default_factory=dict)
    lfs: dict[str, tuple[int, str]] = field(default_factory=dict)  # path -> (size, digest), sent via LFS
    deleted_files: set[str] = field(default_factory=set)
    deleted_folders: set[str] = field(default_factory=set)

    @property
    def message(self) -> str:
        return "\n\n".join(t for t in (self.summary, self.description) if t)


class _Base64Reader:
    """Decoded bytes of the base64 text at ``[start, end)`` of ``spool``, a block at a time."""

    def __init__(self, spool: BinaryIO, start: int, end: int) -> None:
        self.spool, self.at, self.end, self.pending = spool, start, end, b""

    def read(self, size: int = -1) -> bytes:
        while (size < 0 or len(self.pending) < size) and self.at < self.end:
            self.spool.seek(self.at)
            text = self.spool.read(min(_BLOCK, self.end - self.at))
            self.at += len(text)
            if text.translate(None, _NOT_BASE64) != text:
                raise Invalid("file content is not valid base64")
            try:
                self.pending += base64.b64decode(text, validate=True)
            except (binascii.Error, ValueError):
                raise Invalid("file content is not valid base64") from None
        size = len(self.pending) if size < 0 else min(size, len(self.pending))
        out, self.pending = self.pending[:size], self.pending[size:]
        return out


def _lines(spool: BinaryIO) -> Iterator[tuple[int, int, int]]:
    """(number, start, end) of every line, found by reading the spool a block at a time."""
    spool.seek(0, io.SEEK_END)
    total, start, number, at = spool.tell(), 0, 1, 0
    while at < total:
        spool.seek(at)
        block = spool.read(_BLOCK)
        found = block.find(b"\n")
        while found >= 0:
            yield number, start, at + found
            number, start = number + 1, at + found + 1
            found = block.find(b"\n", found + 1)
        at += len(block)
    if start < total:
        yield number, start, total


def _read(spool: BinaryIO, start: int, end: int) -> bytes:
    spool.seek(start)
    return spool.read(end - start)


def _hash(reader: BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while block := reader.read(_BLOCK):
        digest.update(block)
        size += len(block)
    return "sha256:" + digest.hexdigest(), size


def parse_spooled(spool: BinaryIO, check_path: Callable[[str], str]) -> ParsedCommit:
    commit = ParsedCommit()
    for number, start, end in _lines(spool):
        if end - start > SMALL_LINE:
            path, inline = _large_file_line(spool, number, start, end, check_path)
            commit.added[path] = inline
            continue
        line = _read(spool, start, end)
        if line.strip():
            _small_line(commit, number, line, check_path)
    return commit


def _small_line(commit: ParsedCommit, number: int, line: bytes, check_path: Callable[[str], str]) -> None:
    if json_depth_exceeds(line, MAX_LINE_DEPTH):
        raise Invalid(f"a commit line nests deeper than {MAX_LINE_DEPTH} levels")
    try:
        item = json.loads(line)
        key, value = item["key"], item["value"]
        if not isinstance(value, dict):
            raise TypeError
    except (ValueError, KeyError, TypeError, RecursionError):
        raise Invalid(f"commit line {number} is not a {{key, value}} JSON object") from None
    if key == "header":
        commit.summary = str(value.get("summary") or "")
        commit.description = str(value.get("description") or "")
        if "\x00" in commit.summary or "\x00" in commit.description:
            raise Invalid("NUL characters are not allowed in a commit message")
        commit.parent_commit = value.get("parentCommit")
    elif key == "file":
        path = check_path(str(value.get("path", "")))
        if value.get("encoding", "base64") != "base64":
            raise Invalid(f"{path}: only base64 file content is supported")
        try:
            data = base64.b64decode(str(value.get("content", "")), validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"{path}: content is not valid base64") from None
        commit.added[path] = InlineFile("sha256:" + hashlib.sha256(data).hexdigest(), len(data), data=data)
    elif key == "lfsFile":  # bytes sent through the LFS batch API; publish checks the caller holds them
        path = check_path(str(value.get("path", "")))
        oid, size = value.get("oid"), value.get("size")
        if value.get("algo", "sha256") != "sha256" or not isinstance(oid, str) or not _LFS_OID.fullmatch(oid):
            raise Invalid(f"{path}: an lfsFile needs a sha256 'oid' (64 lowercase hex characters)")
        if size is None:  # a copy of an LFS file names only its oid: the size is the held blob's (hf_commit)
            size = UNKNOWN_SIZE
        elif not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise Invalid(f"{path}: an lfsFile's 'size' must be a non-negative integer")
        commit.lfs[path] = (size, f"sha256:{oid}")
    elif key == "deletedFile":
        commit.deleted_files.add(str(value.get("path", "")))
    elif key == "deletedFolder":
        commit.deleted_folders.add(str(value.get("path", "")).rstrip("/") + "/")
    else:
        raise Invalid(f"commit line {number}: unsupported operation {str(key)[:40]!r}")


UNKNOWN_SIZE = -1  # an lfsFile line without 'size' (huggingface_hub's copy of an LFS file)


def _large_file_line(
    spool: BinaryIO, number: int, start: int, end: int, check_path: Callable[[str], str]
) -> tuple[str, InlineFile]:
    head = _read(spool, start, min(end, start + 4096))
    opening = _FILE_START.match(head)
    if opening is None:
        key = _KEY.match(head)
        if key is not None and key.group(1) == b"header":
            raise TooLarge(f"the commit message is longer than the limit of {MAX_MESSAGE_CHARS} characters")
        raise Invalid(
            f"commit line {number} is longer than {SMALL_LINE} bytes and is not a file line "
            "that starts with its content"
        )
    content_start = start + opening.end()
    content_end = _closing_quote(spool, content_start, end)
    rest = _read(spool, content_end, end)
    if len(rest) > 64 * 1024:
        raise Invalid(f"commit line {number}: too much after the file content")
    try:
        value = json.loads(b'{"content": ""' + rest[1:].rstrip()[:-1])
    except (ValueError, RecursionError):
        raise Invalid(f"commit line {number} is not a {{key, value}} JSON object") from None
    if not isinstance(value, dict):
        raise Invalid(f"commit line {number} is not a {{key, value}} JSON object")
    path = check_path(str(value.get("path", "")))
    if value.get("encoding", "base64") != "base64":
        raise Invalid(f"{path}: only base64 file content is supported")
    if (content_end - content_start) % 4:
        raise Invalid(f"{path}: content is not valid base64")
    span = (content_start, content_end)
    try:
        digest, size = _hash(_Base64Reader(spool, *span))
    except Invalid:
        raise Invalid(f"{path}: content is not valid base64") from None
    return path, InlineFile(digest, size, spool=spool, span=span)


def _closing_quote(spool: BinaryIO, at: int, end: int) -> int:
    while at < end:
        block = _read(spool, at, min(end, at + _BLOCK))
        found = block.find(b'"')
        if found >= 0:
            return at + found
        at += len(block)
    raise Invalid("a file line's content has no closing quote")
