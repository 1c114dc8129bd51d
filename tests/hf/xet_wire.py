"""Xet bytes built by hand for the hostile tests (what ``hf_xet`` sends, see ``hub_server.services.
xet_xorb`` and ``xet_shard``), and a look at what the hub recorded, straight from its database and
blob store (embedded or two-host alike)."""

from __future__ import annotations

import hashlib
import struct

import httpx
from sqlalchemy import func, select

from hub_server.db import Database
from hub_server.db.models import Blob, User, XetXorb
from hub_server.storage import open_store

TAG = b"HFRepoMetaData\x00" + bytes.fromhex("556967456a7b815783a5bdd95ccdd14aa9")
BOOKEND = b"\xff" * 32 + bytes(16)


def raw_hash(text: str) -> bytes:
    """A hash's 32 bytes from its text form (each 8-byte word is printed little-endian first)."""
    return b"".join(bytes.fromhex(text[i : i + 16])[::-1] for i in range(0, 64, 16))


def fake_hash(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()


def xorb(*chunks: bytes) -> bytes:
    """A xorb of uncompressed chunks (scheme 0)."""
    out = b""
    for data in chunks:
        size = len(data).to_bytes(3, "little")
        out += b"\x00" + size + b"\x00" + size + data
    return out


def shard(*files: tuple[str, list[tuple[str, int, int, int]], str | None]) -> bytes:
    """A version 2 shard: each file is (xet hash, [(xorb, first chunk, end chunk, bytes)], sha256)."""
    out = TAG + struct.pack("<QQ", 2, 0)
    for xet_hash, segments, sha256 in files:
        out += raw_hash(xet_hash) + struct.pack("<II", (1 << 30) if sha256 else 0, len(segments)) + bytes(8)
        for name, start, end, size in segments:
            out += raw_hash(name) + struct.pack("<IIII", 0, size, start, end)
        if sha256:
            out += raw_hash(sha256) + bytes(16)
    return out + BOOKEND + BOOKEND


def xet_token(hub, token: str, repo: str) -> httpx.Response:
    return httpx.get(f"{hub.url}/api/models/{repo}/xet-write-token/main", headers={"Authorization": f"Bearer {token}"})


def cas(hub, xet: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {xet}"} if xet else {}
    return httpx.Client(base_url=f"{hub.url}/xet", headers=headers, timeout=60)


class Recorded:
    """What the hub stored: xorb rows of a user, blob rows, bytes in the store."""

    def __init__(self, hub) -> None:
        self.settings = hub.settings
        self.db = Database(self.settings.resolved_database_url())
        # the bytes themselves are looked at in the embedded deployment's filesystem store
        self.store = open_store(None, self.settings.data) if self.settings.storage_url is None else None

    def close(self) -> None:
        self.db.dispose()

    def xorbs(self, user: str) -> list[XetXorb]:
        with self.db.read() as s:
            return list(s.scalars(select(XetXorb).join(User, User.id == XetXorb.user_id).where(User.name == user)))

    def blobs(self) -> int:
        with self.db.read() as s:
            return int(s.scalar(select(func.count()).select_from(Blob)) or 0)

    def has_blob(self, sha256: str) -> bool:
        with self.db.read() as s:
            row = s.get(Blob, f"sha256:{sha256}")
        return row is not None or (self.store is not None and self.store.exists(f"sha256:{sha256}"))
