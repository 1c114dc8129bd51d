"""Uploads and downloads survive a dropped connection: the client resumes from the server's offset
(uploads) or with a Range request (downloads), and the bytes still verify.
"""

from __future__ import annotations

import os

import httpx
import pytest

from hub_client import HubClient, TransportError

CHUNK = 64 * 1024


class DroppingTransport(httpx.BaseTransport):
    """The real HTTP transport, except that chosen requests lose their connection once.

    ``after_send``: the server got (and processed) the request but the answer is lost, the
    ambiguous case where only asking the server for its offset gives the right resume point.
    """

    def __init__(self, drops: dict[int, str], method: str = "PATCH", path_part: str = "/uploads/") -> None:
        self.inner = httpx.HTTPTransport()
        self.drops = drops  # n-th matching request (1-based) -> "before_send" | "after_send" | "mid_body"
        self.method, self.path_part = method, path_part
        self.seen = 0
        self.dropped = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        how = None
        if request.method == self.method and self.path_part in request.url.path:
            self.seen += 1
            how = self.drops.get(self.seen)
        if how == "before_send":
            self.dropped += 1
            raise httpx.ConnectError("connection reset (simulated)", request=request)
        response = self.inner.handle_request(request)
        if how == "after_send":
            response.read()
            response.close()
            self.dropped += 1
            raise httpx.ReadError("connection reset (simulated)", request=request)
        if how == "mid_body":
            self.dropped += 1
            return httpx.Response(
                response.status_code, headers=response.headers, stream=_BreakingStream(response), request=request
            )
        return response

    def close(self) -> None:
        self.inner.close()


class _BreakingStream(httpx.SyncByteStream):
    """Yields about half of the body, then fails like a reset connection."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def __iter__(self):
        sent, limit = 0, int(self.response.headers.get("content-length", CHUNK * 4)) // 2
        for chunk in self.response.stream:
            if sent + len(chunk) > limit:
                yield chunk[: limit - sent]
                raise httpx.ReadError("connection reset mid-body (simulated)")
            sent += len(chunk)
            yield chunk

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def payload(tmp_path):
    d = tmp_path / "src"
    d.mkdir()
    data = os.urandom(CHUNK * 5 + 1234)
    (d / "weights.raw").write_bytes(data)
    return d, data


def test_upload_resumes_after_dropped_connections(hub_server, tmp_path, payload):
    src, data = payload
    transport = DroppingTransport({2: "after_send", 4: "before_send"})
    token = hub_server.token("carol", "write")
    with HubClient(
        hub_server.url, token, cache_dir=tmp_path / "c", progress=False, transport=transport, chunk_size=CHUNK
    ) as client:
        result = client.push(src, "carol/resumed", "1.0.0", kind="base")
    assert transport.dropped == 2
    assert transport.seen == 7  # 6 chunks + the one dropped before it was sent; the processed one is not resent
    assert result.uploaded_blobs == 1 and result.uploaded_bytes == len(data)
    with HubClient(hub_server.url, None, cache_dir=tmp_path / "fresh", progress=False) as reader:
        assert (reader.pull("carol/resumed", "1.0.0") / "weights.raw").read_bytes() == data


def test_upload_gives_up_with_a_transport_error(hub_server, tmp_path, payload):
    src, _ = payload
    transport = DroppingTransport({n: "before_send" for n in range(1, 50)})
    token = hub_server.token("carol", "write")
    with HubClient(
        hub_server.url, token, cache_dir=tmp_path / "c", progress=False, transport=transport, chunk_size=CHUNK
    ) as client:
        with pytest.raises(TransportError):
            client.push(src, "carol/never", "1.0.0", kind="base")
        assert client.versions("carol/never") == []


def test_download_resumes_with_range_after_a_drop(hub_server, tmp_path, payload):
    src, data = payload
    token = hub_server.token("carol", "write")
    with HubClient(hub_server.url, token, cache_dir=tmp_path / "c", progress=False) as client:
        client.push(src, "carol/dl", "1.0.0", kind="base")
    transport = DroppingTransport({1: "mid_body"}, method="GET", path_part="/blobs/")
    with HubClient(hub_server.url, None, cache_dir=tmp_path / "fresh", progress=False, transport=transport) as reader:
        path = reader.pull("carol/dl", "1.0.0")
    assert transport.dropped == 1 and transport.seen == 2  # the second request is the ranged resume
    assert (path / "weights.raw").read_bytes() == data


class KillingTransport(DroppingTransport):
    """Lets the n-th chunk reach the server, then SIGKILLs and restarts it before the answer arrives."""

    def __init__(self, server, at: int) -> None:
        super().__init__({})
        self.server, self.at = server, at

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH" and "/uploads/" in request.url.path:
            self.seen += 1
            if self.seen == self.at:
                self.inner.handle_request(request).read()
                self.server.kill()
                self.server.start()
                self.dropped += 1
                raise httpx.RemoteProtocolError("server disconnected (killed)", request=request)
        return self.inner.handle_request(request)


def test_upload_resumes_after_the_server_is_killed_and_restarted(hub_server, tmp_path, payload):
    src, data = payload
    token = hub_server.token("erin", "write")
    transport = KillingTransport(hub_server, at=3)
    with HubClient(
        hub_server.url, token, cache_dir=tmp_path / "c", progress=False, transport=transport, chunk_size=CHUNK
    ) as client:
        result = client.push(src, "erin/survivor", "1.0.0", kind="base")
    assert transport.dropped == 1 and result.uploaded_bytes == len(data)
    assert transport.seen == 6  # 6 chunks, none sent twice: the session's offset survived the crash
    with HubClient(hub_server.url, None, cache_dir=tmp_path / "fresh", progress=False) as reader:
        assert (reader.pull("erin/survivor", "1.0.0") / "weights.raw").read_bytes() == data
