"""The Xet wire formats the hub reads (``xet_lz4``, ``xet_xorb``, ``xet_shard``), byte by byte:
LZ4 frames with literals, overlapping matches and stored blocks; byte-grouped chunks; xorbs with
and without an old client's footer; shards with verification entries and a sha256. Hostile bytes
raise one error naming what is wrong, and decompression never outgrows the declared size."""

from __future__ import annotations

import io
import struct

import pytest

from hub_server.services.xet_lz4 import LZ4Error, decompress_frame
from hub_server.services.xet_shard import ShardError, hash_hex, read_shard
from hub_server.services.xet_xorb import XorbData, XorbError, chunk_data, regroup4
from tests.hf.xet_wire import BOOKEND, TAG, fake_hash, raw_hash, shard, xorb


def frame(*blocks: bytes, flags: int = 0x60, stored: bool = False) -> bytes:
    """An LZ4 frame (64 KiB blocks, no checksums) around ready-made blocks."""
    body = b""
    for block in blocks:
        size = len(block) | (1 << 31 if stored else 0)
        body += size.to_bytes(4, "little") + block
    return b"\x04\x22\x4d\x18" + bytes([flags, 0x40, 0x00]) + body + bytes(4)


# "abc" as literals, then a 15-byte match 3 bytes back (it overlaps what it writes), then "!"
REPEAT = bytes([0x3B]) + b"abc" + b"\x03\x00" + bytes([0x10]) + b"!"


def test_an_lz4_frame_decompresses_with_overlapping_matches_and_stored_blocks():
    assert decompress_frame(frame(REPEAT), 19) == b"abc" * 6 + b"!"
    assert decompress_frame(frame(b"plain bytes", stored=True), 11) == b"plain bytes"
    assert decompress_frame(frame(REPEAT) + frame(b"xy", stored=True), 21) == b"abc" * 6 + b"!xy"  # two frames


@pytest.mark.parametrize(
    ("data", "size", "message"),
    [
        (b"\x04\x22\x4d\x19" + bytes(10), 1, "not an LZ4 frame (bad magic number)"),
        (frame(REPEAT, flags=0xA0), 19, "unsupported LZ4 frame descriptor"),
        (frame(REPEAT, flags=0x61), 19, "LZ4 frames with a dictionary are not supported"),
        (frame(REPEAT)[:-4], 19, "LZ4 frame cut short"),
        (frame(REPEAT)[:-6], 19, "LZ4 block larger than its frame allows"),
        (frame(bytes([0x3B]) + b"abc" + b"\x04\x00"), 18, "LZ4 match points before the start of the data"),
        (frame(bytes([0x3B]) + b"abc" + b"\x00\x00"), 18, "LZ4 match points before the start of the data"),
        (frame(REPEAT), 10, "decompresses to more than the 10 bytes declared"),
        (frame(REPEAT), 30, "decompresses to 19 bytes, not the 30 declared"),
        (frame(bytes([0xF0]) + b"\xff"), 100, "LZ4 block cut short"),
        (frame(bytes([0x50]) + b"ab"), 100, "LZ4 literals overrun the block or the declared size"),
    ],
)
def test_a_bad_lz4_frame_is_refused(data, size, message):
    with pytest.raises(LZ4Error) as refused:
        decompress_frame(data, size)
    assert str(refused.value) == message


def test_byte_grouping_is_undone_for_every_length():
    for n in range(12):
        data = bytes(range(n))
        grouped = data[0::4] + data[1::4] + data[2::4] + data[3::4]
        assert regroup4(grouped) == data


def test_chunk_headers_pick_the_scheme():
    assert chunk_data(b"\x00\x03\x00\x00\x00\x03\x00\x00", b"abc") == b"abc"
    assert chunk_data(b"\x00\x00\x00\x00\x01\x13\x00\x00", frame(REPEAT)) == b"abc" * 6 + b"!"
    grouped = frame(b"aebfcgdh", stored=True)  # "abcdefgh" grouped by four: bytes 0 and 4, 1 and 5 ...
    assert chunk_data(b"\x00\x00\x00\x00\x02\x08\x00\x00", grouped) == b"abcdefgh"
    with pytest.raises(XorbError, match="unknown compression scheme 3"):
        chunk_data(b"\x00\x03\x00\x00\x03\x03\x00\x00", b"abc")


def read_all(raw: bytes) -> tuple[bytes, list[int]]:
    data = XorbData(io.BytesIO(raw), len(raw))
    out = b"".join(iter(lambda: data.read(7), b""))
    return out, data.ends


def test_a_xorb_reads_as_its_chunks_data_with_their_ends():
    compressed = b"\x00" + len(frame(REPEAT)).to_bytes(3, "little") + b"\x01\x13\x00\x00" + frame(REPEAT)
    raw = xorb(b"first", b"second!") + compressed
    assert read_all(raw) == (b"firstsecond!" + b"abc" * 6 + b"!", [5, 12, 31])
    assert read_all(xorb(b"only") + b"XETBLOB\x01" + bytes(40)) == (b"only", [4])  # an old client's footer


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"", "the xorb holds no chunk"),
        (b"XETBLOB\x01", "the xorb holds no chunk"),
        (b"\x00\x05\x00", "bad chunk header (version 0 expected, 8 bytes)"),
        (b"\x00\x00\x00\x00\x00\x00\x00\x00", "a chunk's stored length is 0 or runs past the end of the xorb"),
        (
            xorb(b"abc") + b"\x00\x09\x00\x00\x00\x09\x00\x00abc",
            "a chunk's stored length is 0 or runs past the end of the xorb",
        ),
    ],
)
def test_a_malformed_xorb_raises_one_error(raw, message):
    with pytest.raises(XorbError) as refused:
        read_all(raw)
    assert str(refused.value) == message


def zeros_frame(size: int) -> bytes:
    """An LZ4 frame of ``size`` zero bytes: one literal, then one long match one byte back."""
    rest = size - 1 - 4 - 15
    return frame(bytes([0x1F]) + b"\x00" + b"\x01\x00" + b"\xff" * (rest // 255) + bytes([rest % 255]))


def test_decompression_never_outgrows_the_limits():
    mib = 1024 * 1024
    assert decompress_frame(zeros_frame(mib), mib) == bytes(mib)
    big = b"\x00" + len(zeros_frame(2 * mib)).to_bytes(3, "little") + b"\x01" + (2 * mib).to_bytes(3, "little")
    with pytest.raises(XorbError, match="a chunk of 2097152 bytes is larger than the 1048576 allowed"):
        XorbData(io.BytesIO(big + zeros_frame(2 * mib)), len(big) + len(zeros_frame(2 * mib))).read(mib)
    one = b"\x00" + len(zeros_frame(mib)).to_bytes(3, "little") + b"\x01" + mib.to_bytes(3, "little") + zeros_frame(mib)
    bomb = one * 81  # 350 KB sent, 81 MiB of data
    data = XorbData(io.BytesIO(bomb), len(bomb))
    with pytest.raises(XorbError, match="the xorb's data is larger than the 83886080 bytes allowed"):
        while data.read(mib):
            pass
    assert len(data.ends) == 80


def test_hashes_print_each_word_little_endian_first():
    name = fake_hash("x")
    assert hash_hex(raw_hash(name)) == name
    assert hash_hex(bytes(range(32)))[:16] == "0706050403020100"


def test_a_shard_gives_its_files_segments_and_sha256():
    one, two, xa, xb = fake_hash("1"), fake_hash("2"), fake_hash("a"), fake_hash("b")
    sha = fake_hash("sha")
    verified = (  # a file with verification entries and no sha256, by hand
        raw_hash(two)
        + struct.pack("<II", 1 << 31, 1)
        + bytes(8)
        + raw_hash(xb)
        + struct.pack("<IIII", 0, 10, 0, 1)
        + fake_hash("range").encode()[:32]
        + bytes(16)
    )
    xorb_info = raw_hash(xa) + struct.pack("<IIII", 0, 1, 10, 0) + bytes(48)  # one chunk entry, skipped
    raw = shard((one, [(xa, 0, 2, 100), (xb, 3, 4, 5)], sha))
    raw = raw[: -2 * len(BOOKEND)] + verified + BOOKEND + xorb_info + BOOKEND

    files = read_shard(io.BytesIO(raw), len(raw))

    assert [(f.xet_hash, f.sha256, f.size) for f in files] == [(one, sha, 105), (two, None, 10)]
    assert [(s.xorb, s.start, s.end, s.size) for s in files[0].segments] == [(xa, 0, 2, 100), (xb, 3, 4, 5)]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda raw: b"X" + raw[1:], "not a version 2 Xet shard (bad header)"),
        (lambda raw: raw[:32] + struct.pack("<QQ", 3, 0) + raw[48:], "not a version 2 Xet shard (bad header)"),
        (lambda raw: raw[:32] + struct.pack("<QQ", 2, 7) + raw[48:], "bad shard footer size"),
        (lambda raw: raw[:-1], "the shard is cut short"),
        (lambda raw: raw + b"extra", "unexpected bytes after the shard's sections"),
        (lambda raw: raw[:80] + struct.pack("<I", 1) + raw[84:], "unknown file flags in the shard"),
        (lambda raw: raw[:136] + struct.pack("<II", 5, 5) + raw[144:], "a file segment with an empty chunk range"),
    ],
)
def test_a_malformed_shard_raises_one_error(mangle, message):
    raw = mangle(shard((fake_hash("f"), [(fake_hash("x"), 0, 1, 10)], None)))
    with pytest.raises(ShardError) as refused:
        read_shard(io.BytesIO(raw), len(raw))
    assert str(refused.value) == message


def test_a_shard_over_the_limits_is_refused_before_reading():
    with pytest.raises(ShardError, match="larger than the 67108864 allowed"):
        read_shard(io.BytesIO(b""), 64 * 1024 * 1024 + 1)
    assert TAG.startswith(b"HFRepoMetaData\x00")
