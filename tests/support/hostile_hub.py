"""A hostile hub: a real FastAPI app on uvicorn (loopback port 0, in a thread) that answers
the native pull protocol with whatever a test scripts — traversal versions, a wrong commit,
more bytes than declared — so the client is tested against real HTTP, not a mock."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def commit_of(files: list[dict]) -> str:
    rows = sorted([f["path"], f["digest"], f["size"]] for f in files)
    return hashlib.sha256(json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()[:40]


class HostileHub:
    """``answer`` is the resolve JSON; ``blobs`` maps digest → bytes, a callable yielding chunks, or
    a callable returning a whole ``Response``."""

    def __init__(self) -> None:
        self.answer: dict = {}
        self.blobs: dict = {}
        self.requests: list[str] = []
        app = FastAPI()

        @app.get("/api/v1/repos/{ns}/{name}/resolve")
        def resolve(ns: str, name: str, ref: str = "main"):
            self.requests.append(f"resolve {ref}")
            if isinstance(self.answer, bytes):  # a raw body (not JSON, or JSON no parser should recurse into)
                return Response(self.answer, media_type="application/json")
            return JSONResponse(self.answer)

        @app.get("/api/v1/repos/{ns}/{name}/blobs/{digest}")
        def blob(ns: str, name: str, digest: str, request: Request):
            self.requests.append(f"blob {digest}")
            body = self.blobs.get(digest)
            if body is None:
                return Response(status_code=404)
            if callable(body):  # a generator of chunks, or a whole scripted Response (status, headers)
                made = body()
                return (
                    made
                    if isinstance(made, Response)
                    else StreamingResponse(made, media_type="application/octet-stream")
                )
            return Response(body, media_type="application/octet-stream")

        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.sock = sock
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)

    def publish(self, version: str, files: dict[str, bytes], **overrides) -> dict:
        """Script an honest answer for ``files``, then apply ``overrides`` (the lie)."""
        entries = [{"path": p, "size": len(b), "digest": digest_of(b)} for p, b in files.items()]
        for b in files.values():
            self.blobs[digest_of(b)] = b
        self.answer = {"version": version, "commit": commit_of(entries), "files": entries, "yanked": False, **overrides}
        return self.answer

    def __enter__(self) -> HostileHub:  # noqa: PYI034 (a plain class, never subclassed)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("hostile hub did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
