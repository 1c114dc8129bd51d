"""Which body limit a request gets, and a ``receive`` that enforces it while the body
streams in (chunked bodies carry no Content-Length to check up front)."""

from __future__ import annotations

import re

from starlette.types import Message, Receive

from ..errors import TooLarge
from ..services.xet_shard import MAX_SHARD_BYTES
from ..services.xet_xorb import MAX_XORB_BYTES
from ..settings import Settings

_UPLOAD_CHUNK = re.compile(r"^/api/v1/uploads/[^/]+$|^/lfs/uploads/[^/]+/[^/]+$")  # native and LFS
_HF_COMMIT = re.compile(r"^/api/(models|datasets)/[^/]+/[^/]+/commit/")
_XET_XORB = re.compile(r"^/xet/v1/xorbs/[^/]+/[^/]+$")
_XET_SHARD = re.compile(r"^/xet/v[12]/shards$")


def body_limit(method: str, path: str, settings: Settings) -> tuple[int, bool]:
    """(byte limit, streamed): blob chunks, HF commits, Xet xorbs and shards stream with their own
    limits; every other body is small and is buffered for the JSON depth check."""
    if method in ("PATCH", "PUT") and _UPLOAD_CHUNK.match(path):
        return settings.max_file_bytes, True
    if method == "POST" and _HF_COMMIT.match(path):
        return settings.hf_max_commit_bytes, True
    if method == "POST" and _XET_XORB.match(path):
        return MAX_XORB_BYTES, True
    if method == "POST" and _XET_SHARD.match(path):
        return MAX_SHARD_BYTES, True
    return settings.max_body_bytes, False


def too_large(limit: int, path: str = "") -> TooLarge:
    if _HF_COMMIT.match(path):
        return TooLarge(f"commit larger than {limit} bytes; push big files with `hub push` (chunked, resumable)")
    return TooLarge(f"request body larger than {limit} bytes")


def counting_receive(receive: Receive, limit: int, path: str = "") -> Receive:
    """Pass messages through, raising ``TooLarge`` once the body passes ``limit`` bytes."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit, path)
        return message

    return wrapped


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body to the app, then the real stream."""
    sent = False

    async def wrapped() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return wrapped
