"""Blob bytes over the bulk reader (urllib3, 1 MiB reads): a connection cut mid-body resumes, an answer that
ignores the Range is skipped to the resume point, and the bytes still verify."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "security"))

from hostile_hub import HostileHub, digest_of  # noqa: E402

from hub_client import HubClient  # noqa: E402


def test_cut_connection_resumes_and_verifies(tmp_path):
    data = os.urandom(3 * (1 << 20) + 123)
    calls = []

    def cut_then_whole():
        calls.append(1)
        if len(calls) == 1:
            yield data[: 1 << 20]
            raise ConnectionResetError("cut mid-body")  # the server aborts the chunked answer
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
        with HubClient(hub.url, cache_dir=tmp_path / "cache", progress=False) as client:
            with pytest.raises(HubError) as caught:
                client.pull("evil/lora", "1.0.0")
    assert "\n" not in str(caught.value)
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file() and p.suffix != ".lock"
                and "refs" not in p.parts]
