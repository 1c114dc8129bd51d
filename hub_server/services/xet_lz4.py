"""LZ4 frame decompression for the chunks of Xet xorbs (``hf_xet`` compresses a chunk as one LZ4
frame, schemes 1 and 2), in plain Python because the server has no LZ4 library among its
dependencies. Hostile input is refused with ``LZ4Error`` and never makes more output than the
chunk header declared, so a chunk costs at most its declared size in memory.

The frame format (lz4 ``lz4_Frame_format.md``): magic, FLG/BD descriptor, optional content size,
header checksum byte, then blocks (4-byte size, high bit = stored raw) up to a zero end mark and
an optional content checksum. Checksums are not verified: the file's sha256 is, once rebuilt."""

from __future__ import annotations

_MAGIC = b"\x04\x22\x4d\x18"
_BLOCK_MAX = {4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024}


class LZ4Error(ValueError):
    """The bytes are not a well-formed LZ4 frame of the declared size."""


def decompress_frame(data: bytes, size: int) -> bytes:
    """The ``size`` bytes that the LZ4 frame(s) in ``data`` hold; ``LZ4Error`` otherwise."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        pos = _frame(data, pos, out, size)
    if len(out) != size:
        raise LZ4Error(f"decompresses to {len(out)} bytes, not the {size} declared")
    return bytes(out)


def _frame(data: bytes, pos: int, out: bytearray, size: int) -> int:
    """Decode the frame at ``pos`` into ``out``; return where it ends."""
    if data[pos : pos + 4] != _MAGIC or len(data) < pos + 7:
        raise LZ4Error("not an LZ4 frame (bad magic number)")
    flags, descriptor = data[pos + 4], data[pos + 5]
    if flags >> 6 != 1 or flags & 0x02 or descriptor & 0x8F or (descriptor >> 4) & 7 not in _BLOCK_MAX:
        raise LZ4Error("unsupported LZ4 frame descriptor")
    if flags & 0x01:
        raise LZ4Error("LZ4 frames with a dictionary are not supported")
    block_max = _BLOCK_MAX[(descriptor >> 4) & 7]
    block_checksums, content_checksum = bool(flags & 0x10), bool(flags & 0x04)
    pos += 6 + (8 if flags & 0x08 else 0) + 1  # descriptor, content size, header checksum
    while True:
        if pos + 4 > len(data):
            raise LZ4Error("LZ4 frame cut short")
        word = int.from_bytes(data[pos : pos + 4], "little")
        pos += 4
        if word == 0:  # end mark
            break
        length, stored = word & 0x7FFFFFFF, bool(word & 0x80000000)
        if length > block_max or pos + length > len(data):
            raise LZ4Error("LZ4 block larger than its frame allows")
        if stored:
            if len(out) + length > size:
                raise LZ4Error(f"decompresses to more than the {size} bytes declared")
            out += data[pos : pos + length]
        else:
            _block(data[pos : pos + length], out, size)
        pos += length + (4 if block_checksums else 0)
    pos += 4 if content_checksum else 0
    if pos > len(data):
        raise LZ4Error("LZ4 frame cut short")
    return pos


def _block(src: bytes, out: bytearray, limit: int) -> None:
    """Append one LZ4 block's output to ``out`` (earlier output is the match window)."""
    i, n = 0, len(src)
    while i < n:
        token = src[i]
        i += 1
        literals = token >> 4
        if literals == 15:
            while True:
                if i >= n:
                    raise LZ4Error("LZ4 block cut short")
                extra = src[i]
                i += 1
                literals += extra
                if extra != 255:
                    break
        if i + literals > n or len(out) + literals > limit:
            raise LZ4Error("LZ4 literals overrun the block or the declared size")
        out += src[i : i + literals]
        i += literals
        if i == n:  # the last sequence carries literals only
            return
        if i + 2 > n:
            raise LZ4Error("LZ4 block cut short")
        offset = src[i] | (src[i + 1] << 8)
        i += 2
        if offset == 0 or offset > len(out):
            raise LZ4Error("LZ4 match points before the start of the data")
        length = token & 15
        if length == 15:
            while True:
                if i >= n:
                    raise LZ4Error("LZ4 block cut short")
                extra = src[i]
                i += 1
                length += extra
                if extra != 255:
                    break
        length += 4
        if len(out) + length > limit:
            raise LZ4Error(f"decompresses to more than the {limit} bytes declared")
        start = len(out) - offset
        if length <= offset:
            out += out[start : start + length]
        else:  # the match overlaps what it writes: the last ``offset`` bytes repeat
            pattern = bytes(out[start:])
            repeats, rest = divmod(length, offset)
            out += pattern * repeats + pattern[:rest]
