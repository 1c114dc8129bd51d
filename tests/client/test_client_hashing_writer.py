"""The background hashing writer writes every byte in order and hashes exactly those bytes, whether they
come as ``bytes`` chunks or in its reused buffers; a write error reaches the caller."""

import hashlib
import os

import pytest

from hub_client._hashing_writer import HashingWriter


def test_writes_and_hashes_in_order(tmp_path):
    chunks = [os.urandom(n) for n in (1, 70_000, 3, 65_536, 12_345)] * 20
    with open(tmp_path / "out", "wb") as fh:
        writer = HashingWriter(fh, buffers=2)
        for c in chunks:
            writer.write(c)
        digest = writer.finish()
    data = b"".join(chunks)
    assert (tmp_path / "out").read_bytes() == data
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert writer.written == len(data)


def test_reused_buffers_are_not_overwritten_before_written_and_hashed(tmp_path):
    """Two small buffers recycled 300 times, mixed with bytes chunks: each slice lands once, in order."""
    data = os.urandom(300 * 1000)
    fd = os.open(tmp_path / "out", os.O_WRONLY | os.O_CREAT)
    writer = HashingWriter(fd, buffers=2, buffer_size=1500)
    for i in range(300):
        piece = data[i * 1000 : (i + 1) * 1000]
        if i % 7 == 3:
            writer.write(piece)
            continue
        buf = writer.buffer()
        buf[100:1100] = piece
        writer.commit(buf, 100, 1100)
    digest = writer.finish()
    os.close(fd)
    assert (tmp_path / "out").read_bytes() == data
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert writer.written == len(data)


def test_write_errors_surface_in_the_caller(tmp_path):
    (tmp_path / "out").write_bytes(b"")
    fd = os.open(tmp_path / "out", os.O_RDONLY)  # writing to it fails (EBADF) on the writer thread
    try:
        writer = HashingWriter(fd, buffers=1, buffer_size=10)
        buf = writer.buffer()
        writer.commit(buf, 0, 10)
        with pytest.raises(OSError):
            for _ in range(100):  # the next borrow (or finish) raises the thread's error
                writer.commit(writer.buffer(), 0, 10)
            writer.finish()
        with pytest.raises(OSError):
            writer.finish()
    finally:
        os.close(fd)
