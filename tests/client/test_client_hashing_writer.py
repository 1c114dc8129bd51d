"""The background hashing writer writes every byte in order and hashes exactly those bytes."""

import hashlib
import os

import pytest

from hub_client._hashing_writer import HashingWriter


def test_writes_and_hashes_in_order(tmp_path):
    chunks = [os.urandom(n) for n in (1, 70_000, 3, 65_536, 12_345)] * 20
    with open(tmp_path / "out", "wb") as fh:
        writer = HashingWriter(fh, depth=4)
        for c in chunks:
            writer.write(c)
        digest = writer.finish()
    data = b"".join(chunks)
    assert (tmp_path / "out").read_bytes() == data
    assert digest == "sha256:" + hashlib.sha256(data).hexdigest()
    assert writer.written == len(data)


def test_write_errors_surface_in_the_caller(tmp_path):
    fh = open(tmp_path / "out", "wb")
    fh.close()
    writer = HashingWriter(fh)
    writer.write(b"x" * 10)
    with pytest.raises(ValueError):
        writer.finish()
