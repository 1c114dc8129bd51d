"""Reading a shard as ``hf_xet`` uploads it (MerkleDB shard, version 2): a 48-byte header (a
fixed tag, the version, the footer's size), the file-info section, the xorb-info section, each
ended by a 48-byte bookend (32 bytes of 0xFF), and an optional footer (absent in uploads).

A file-info entry is a header (the file's Xet hash, flags, number of segments), its segments
(xorb hash, flags, data bytes, first chunk, end chunk: 48 bytes each), then, when its flags say
so, one verification entry per segment and a metadata extension carrying the file's sha256. The
xorb-info section only lists chunk hashes (for deduplication): it is checked for shape and
skipped, since the hub rebuilds files from the xorbs it holds.

Hashes are written as 32 bytes; their text form (URLs, ``hf_xet``'s output) prints each of the
four 8-byte words little-endian first, which ``hash_hex`` reproduces. A shard's sha256 is stored
the same way, so the same conversion gives the usual hex digest."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

TAG = b"HFRepoMetaData\x00" + bytes.fromhex("556967456a7b815783a5bdd95ccdd14aa9")
VERSION = 2
MAX_SHARD_BYTES = 64 * 1024 * 1024
MAX_FILES = 10_000
MAX_SEGMENTS = 200_000
_ENTRY = 48
_BOOKEND = b"\xff" * 32
_WITH_VERIFICATION, _WITH_METADATA = 1 << 31, 1 << 30
_FOOTER_BYTES = 200


class ShardError(ValueError):
    """A shard that is not well formed, or larger than the hub takes."""


def hash_hex(raw: bytes) -> str:
    """The text form of a 32-byte Xet hash (each 8-byte word printed little-endian first)."""
    return "".join(raw[i : i + 8][::-1].hex() for i in range(0, 32, 8))


@dataclass(frozen=True)
class Segment:
    """Chunks ``start`` to ``end`` (exclusive) of xorb ``xorb``: ``size`` bytes of the file."""

    xorb: str
    start: int
    end: int
    size: int


@dataclass
class ShardFile:
    xet_hash: str
    sha256: str | None
    segments: list[Segment] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(s.size for s in self.segments)


class _Reader:
    def __init__(self, raw: BinaryIO, length: int) -> None:
        self._raw, self.left = raw, length

    def entry(self) -> bytes:
        if self.left < _ENTRY:
            raise ShardError("the shard is cut short")
        data = self._raw.read(_ENTRY)
        if len(data) != _ENTRY:
            raise ShardError("the shard is cut short")
        self.left -= _ENTRY
        return data


def read_shard(raw: BinaryIO, length: int) -> list[ShardFile]:
    """The files a shard describes, in order; ``ShardError`` for anything malformed."""
    if length > MAX_SHARD_BYTES:
        raise ShardError(f"a shard of {length} bytes is larger than the {MAX_SHARD_BYTES} allowed")
    reader = _Reader(raw, length)
    header = reader.entry()
    version, footer = struct.unpack("<QQ", header[32:])
    if header[:32] != TAG or version != VERSION:
        raise ShardError("not a version 2 Xet shard (bad header)")
    if footer not in (0, _FOOTER_BYTES):
        raise ShardError("bad shard footer size")
    files = _file_section(reader)
    _xorb_section(reader)
    if reader.left != footer:
        raise ShardError("unexpected bytes after the shard's sections")
    return files


def _file_section(reader: _Reader) -> list[ShardFile]:
    files: list[ShardFile] = []
    segments = 0
    while True:
        head = reader.entry()
        if head[:32] == _BOOKEND:
            return files
        flags, count = struct.unpack("<II", head[32:40])
        if flags & ~(_WITH_VERIFICATION | _WITH_METADATA):
            raise ShardError("unknown file flags in the shard")
        if len(files) >= MAX_FILES or segments + count > MAX_SEGMENTS:
            raise ShardError(f"a shard may describe at most {MAX_FILES} files and {MAX_SEGMENTS} segments")
        segments += count
        entry = ShardFile(hash_hex(head[:32]), None)
        for _ in range(count):
            data = reader.entry()
            size, start, end = struct.unpack("<III", data[36:48])
            if start >= end or size == 0:
                raise ShardError("a file segment with an empty chunk range")
            entry.segments.append(Segment(hash_hex(data[:32]), start, end, size))
        if flags & _WITH_VERIFICATION:
            for _ in range(count):
                reader.entry()  # range hashes: proof the client knew the chunks, not needed here
        if flags & _WITH_METADATA:
            entry.sha256 = hash_hex(reader.entry()[:32])
        files.append(entry)


def _xorb_section(reader: _Reader) -> None:
    while True:
        head = reader.entry()
        if head[:32] == _BOOKEND:
            return
        (count,) = struct.unpack("<I", head[36:40])
        if count * _ENTRY > reader.left:
            raise ShardError("the shard's xorb section runs past its end")
        for _ in range(count):
            reader.entry()
