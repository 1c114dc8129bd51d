"""Blob bytes over the bulk reader (urllib3 opens, ``readinto`` fills the writer's reused buffers): a connection
cut mid-body resumes from the bytes that arrived, an answer that ignores the Range is skipped to the resume
point, a wrong Content-Range or a corrupt tail is refused, and the bytes still verify."""

from __future__ import annotations

import os

from hub_client import HubClient
from tests.support.hostile_hub import HostileHub, digest_of


def cut_after(data: bytes, n: int = 1 << 20):
    """A blob body that sends ``n`` bytes and then the server aborts the answer."""
    yield data[:n]
    raise ConnectionResetError("cut mid-body")


def test_cut_connection_resumes_and_verifies(tmp_path):
    data = os.urandom(3 * (1 << 20) + 123)
    calls = []

    def cut_then_whole():
        calls.append(1)
        if len(calls) == 1:
            yield from cut_after(data)
            return
        yield data

    with HostileHub() as hub:
        hub.publish("1.0.0", {"w.safetensors": data})
        hub.blobs[digest_of(data)] = cut_then_whole
        with HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client:
            assert client._http._bulk is not None  # the urllib3 path, not httpx
            path = client.pull("evil/lora", "1.0.0")
        assert len(calls) == 2
        assert sum(r.startswith("blob ") for r in hub.requests) == 2
    assert (path / "w.safetensors").read_bytes() == data


def test_error_status_on_the_bulk_path_is_one_hub_error(tmp_path):
    import pytest

    from hub_client import HubError

    with HostileHub() as hub:
        hub.publish("1.0.0", {"w.safetensors": b"x" * 10})
        hub.blobs.clear()  # the blob answers 404
        with (
            HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client,
            pytest.raises(HubError) as caught,
        ):
            client.pull("evil/lora", "1.0.0")
    assert "\n" not in str(caught.value)
    assert not [
        p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.suffix != ".lock" and "refs" not in p.parts
    ]


def test_a_blob_of_many_buffers_arrives_whole_in_odd_pieces(tmp_path):
    """Many times the writer's buffer size, sent in pieces that never line up with a buffer."""
    data = os.urandom(27 * (1 << 20) + 4567)

    def odd_pieces():
        at, step = 0, 1
        while at < len(data):
            step = step * 7 % 1_000_003 + 1
            yield data[at : at + step]
            at += step

    with HostileHub() as hub:
        hub.publish("1.0.0", {"w.safetensors": data, "empty.txt": b""})
        hub.blobs[digest_of(data)] = odd_pieces
        with HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client:
            path = client.pull("evil/lora", "1.0.0")
    assert (path / "w.safetensors").read_bytes() == data
    assert (path / "empty.txt").read_bytes() == b""


def test_resume_answered_with_the_wrong_content_range_is_refused(tmp_path):
    import pytest
    from fastapi.responses import StreamingResponse

    from hub_client import BadServerAnswer

    data = os.urandom(2 * (1 << 20) + 5)
    calls = []

    def cut_then_wrong_range():
        calls.append(1)
        if len(calls) == 1:
            return cut_after(data)
        return StreamingResponse(
            iter([data]),
            status_code=206,
            media_type="application/octet-stream",
            headers={"Content-Range": f"bytes 0-{len(data) - 1}/{len(data)}"},
        )

    with HostileHub() as hub:
        hub.publish("1.0.0", {"w.safetensors": data})
        hub.blobs[digest_of(data)] = cut_then_wrong_range
        with (
            HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client,
            pytest.raises(BadServerAnswer, match="Content-Range"),
        ):
            client.pull("evil/lora", "1.0.0")
    assert len(calls) == 2
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and "blobs" in p.parts]


def test_a_corrupt_resumed_tail_is_caught_by_the_digest(tmp_path):
    import pytest
    from fastapi.responses import StreamingResponse

    from hub_client import DigestMismatch

    data = os.urandom(3 * (1 << 20))
    calls = []

    def cut_then_corrupt_tail():
        calls.append(1)
        if len(calls) == 1:
            return cut_after(data)
        start = 1 << 20
        tail = bytearray(data[start:])
        tail[12345] ^= 0xFF
        return StreamingResponse(
            iter([bytes(tail)]),
            status_code=206,
            media_type="application/octet-stream",
            headers={"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"},
        )

    with HostileHub() as hub:
        hub.publish("1.0.0", {"w.safetensors": data})
        hub.blobs[digest_of(data)] = cut_then_corrupt_tail
        with (
            HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client,
            pytest.raises(DigestMismatch),
        ):
            client.pull("evil/lora", "1.0.0")
    assert len(calls) == 2
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and "blobs" in p.parts]


def test_a_body_short_of_its_content_length_resumes(tmp_path):
    """The connection closes before Content-Length bytes came: a dropped transfer (resumed with a Range),
    never a clean end."""
    from fastapi import Response

    data = os.urandom(2 * (1 << 20) + 77)
    calls = []

    def short_then_whole():
        calls.append(1)
        body = data[: 1 << 20] if len(calls) == 1 else data
        return Response(body, media_type="application/octet-stream", headers={"Content-Length": str(len(data))})

    with HostileHub() as hub:
        hub.publish("1.0.0", {"w.safetensors": data})
        hub.blobs[digest_of(data)] = short_then_whole
        with HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client:
            path = client.pull("evil/lora", "1.0.0")
    assert len(calls) == 2
    assert (path / "w.safetensors").read_bytes() == data
