"""Reading a xorb as ``hf_xet`` sends it: its chunks one after another, each an 8-byte header
(version 0, 3-byte stored length, compression scheme, 3-byte length of the data) then the stored
bytes; an old client may append a metadata footer starting with ``XETBLOB``, which is skipped.

``XorbData`` is the xorb's data (the chunks decompressed, in order) as a stream the blob store
reads, so a xorb is checked, decompressed and stored in one pass with one chunk in memory at a
time; it records where each chunk ends, which is what a shard's chunk ranges refer to. Anything
malformed raises ``XorbError`` while the store reads, and the store then keeps nothing."""

from __future__ import annotations

from typing import BinaryIO

from .xet_lz4 import LZ4Error, decompress_frame

MAX_XORB_BYTES = 80 * 1024 * 1024  # as sent, and as data once decompressed: hf_xet fills a xorb up to 64 MiB
MAX_XORB_CHUNKS = 16 * 1024  # hf_xet: at most 8192
MAX_CHUNK_BYTES = 1024 * 1024  # hf_xet: at most 128 KiB
_FOOTER = b"XETBLOB"
NONE, LZ4, BG4_LZ4 = 0, 1, 2  # compression schemes


class XorbError(ValueError):
    """A xorb that is not a well-formed sequence of chunks."""


def regroup4(data: bytes) -> bytes:
    """Undo byte grouping: hf_xet stores bytes 0, 4, 8 ... first, then 1, 5, 9 ... (scheme 2)."""
    n = len(data)
    out = bytearray(n)
    start = 0
    for k in range(4):
        count = (n - k + 3) // 4
        out[k::4] = data[start : start + count]
        start += count
    return bytes(out)


def chunk_data(header: bytes, stored: bytes) -> bytes:
    """The data of one chunk from its header and stored bytes."""
    scheme, size = header[4], int.from_bytes(header[5:8], "little")
    if size > MAX_CHUNK_BYTES:
        raise XorbError(f"a chunk of {size} bytes is larger than the {MAX_CHUNK_BYTES} allowed")
    if scheme == NONE:
        if len(stored) != size:
            raise XorbError(f"an uncompressed chunk stores {len(stored)} bytes but declares {size}")
        return stored
    if scheme not in (LZ4, BG4_LZ4):
        raise XorbError(f"unknown compression scheme {scheme} in a chunk header")
    try:
        data = decompress_frame(stored, size)
    except LZ4Error as exc:
        raise XorbError(f"a chunk does not decompress: {exc}") from None
    return regroup4(data) if scheme == BG4_LZ4 else data


class XorbData:
    """``read()`` gives the decompressed data of the xorb in ``raw`` (``length`` bytes); ``ends``
    lists, once everything is read, the data offset where each chunk ends."""

    def __init__(self, raw: BinaryIO, length: int) -> None:
        if length > MAX_XORB_BYTES:
            raise XorbError(f"a xorb of {length} bytes is larger than the {MAX_XORB_BYTES} allowed")
        self._raw, self._left = raw, length
        self._buffer = b""
        self.ends: list[int] = []

    def _next_chunk(self) -> bytes | None:
        if self._left == 0:
            if not self.ends:
                raise XorbError("the xorb holds no chunk")
            return None
        header = self._raw.read(min(8, self._left))
        if header and (header.startswith(_FOOTER) or (len(header) < 8 and _FOOTER.startswith(header))):
            if not self.ends:
                raise XorbError("the xorb holds no chunk")
            self._left = 0  # an old client's metadata footer: nothing the hub needs
            return None
        if len(header) < 8 or header[0] != 0:
            raise XorbError("bad chunk header (version 0 expected, 8 bytes)")
        stored_length = int.from_bytes(header[1:4], "little")
        if stored_length == 0 or stored_length > self._left - 8:
            raise XorbError("a chunk's stored length is 0 or runs past the end of the xorb")
        if len(self.ends) >= MAX_XORB_CHUNKS:
            raise XorbError(f"more than {MAX_XORB_CHUNKS} chunks in one xorb")
        stored = self._raw.read(stored_length)
        self._left -= 8 + stored_length
        if len(stored) != stored_length:
            raise XorbError("the xorb is cut short")
        data = chunk_data(header, stored)
        if not data:
            raise XorbError("an empty chunk")
        end = (self.ends[-1] if self.ends else 0) + len(data)
        if end > MAX_XORB_BYTES:
            raise XorbError(f"the xorb's data is larger than the {MAX_XORB_BYTES} bytes allowed")
        self.ends.append(end)
        return data

    def read(self, size: int = -1) -> bytes:
        parts, have = [self._buffer], len(self._buffer)
        while size < 0 or have < size:
            chunk = self._next_chunk()
            if chunk is None:
                break
            parts.append(chunk)
            have += len(chunk)
        joined = b"".join(parts)
        cut = len(joined) if size < 0 else size
        self._buffer = joined[cut:]
        return joined[:cut]
