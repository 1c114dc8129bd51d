"""Hostile inputs against a real hub server: how long each takes to be answered and how
much extra memory the server process needs for it (peak RSS during the request minus RSS
just before, sampled with psutil), at 1 MB and 64 MB; then a flood from one token.

    python bench/bench_hostile.py [--sizes 1,64] [--flood-rate 200] [--flood-seconds 10]

Inputs: YAML alias bomb in a model card (publish), newline flood in an HF commit message,
deep JSON body, large safetensors header (publish), oversize body (Content-Length and
chunked). Goal: each answered in < 50 ms with < 20 MB extra memory.
Flood: N req/s from one token; the excess must get 429 and other users' p99 latency must
stay within noise of the same users' p99 without the flood.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from hub_process import HubProcess  # noqa: E402

MB = 1024 * 1024
TIMEOUT = 15.0


class PeakRss(threading.Thread):
    """Samples the server's RSS every millisecond while a request runs."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process, self.peak, self.done = psutil.Process(pid), 0, threading.Event()
        self.base = self.process.memory_info().rss

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(0.001)

    def extra_mb(self) -> float:
        self.done.set()
        self.join()
        return max(0, self.peak - self.base) / MB


def raw_request(url: str, method: str, path: str, headers: dict[str, str],
                body: bytes | list[bytes]) -> tuple[int, float]:
    """(status, seconds until the answer's status line): the body is sent by a second thread,
    so a server that answers before reading everything is timed as it answers."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=TIMEOUT)
    chunked = isinstance(body, list)
    head = {"Host": parts.netloc, "Connection": "close", **headers}
    head["Transfer-Encoding" if chunked else "Content-Length"] = "chunked" if chunked else str(len(body))
    started = time.perf_counter()
    sock.sendall(f"{method} {path} HTTP/1.1\r\n".encode() + "".join(f"{k}: {v}\r\n" for k, v in head.items()).encode()
                 + b"\r\n")

    def send_body() -> None:
        try:
            if chunked:
                for piece in body:
                    sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
                sock.sendall(b"0\r\n\r\n")
            else:
                view = memoryview(body)
                for i in range(0, len(body), MB):
                    sock.sendall(view[i:i + MB])
        except OSError:
            pass  # the server answered and closed early: that is the point

    sender = threading.Thread(target=send_body, daemon=True)
    sender.start()
    try:
        first = sock.recv(64)
        elapsed = time.perf_counter() - started
        status = int(first.split(b" ", 2)[1])
    except (OSError, IndexError, ValueError):
        status, elapsed = 0, time.perf_counter() - started
    sock.close()
    return status, elapsed


def upload_blob(c: httpx.Client, data: bytes) -> str:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    upload_id = c.post("/api/v1/uploads").json()["upload_id"]
    for i in range(0, len(data), 16 * MB):
        c.patch(f"/api/v1/uploads/{upload_id}", content=data[i:i + 16 * MB]).raise_for_status()
    c.put(f"/api/v1/uploads/{upload_id}", params={"digest": digest}).raise_for_status()
    return digest


def alias_bomb_card(size: int) -> bytes:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 5)]
    head = ("---\nlibrary_name: peft\n" + "\n".join(levels) + "\n---\n").encode()
    return head + b"lorem ipsum\n" * ((size - len(head)) // 12)


def big_header_safetensors(size: int) -> bytes:
    header = {"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "__metadata__": {"pad": ""}}
    pad = size - len(json.dumps(header)) - 12
    header["__metadata__"]["pad"] = "x" * max(pad, 0)
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + b"\0\0\0\0"


def ndjson_commit(summary: str) -> bytes:
    lines = [{"key": "header", "value": {"summary": summary, "description": ""}},
             {"key": "file", "value": {"path": "n.txt", "content": base64.b64encode(b"n").decode()}}]
    return b"\n".join(json.dumps(x).encode() for x in lines)


def hostile_inputs(c: httpx.Client, size: int, tag: str) -> list[tuple[str, str, str, dict, object]]:
    """(name, method, path, headers, body) for one size; blobs a publish needs are uploaded first."""
    json_type = {"content-type": "application/json"}
    card = upload_blob(c, alias_bomb_card(size))
    tensors = upload_blob(c, big_header_safetensors(size))

    def publish_body(path: str, digest: str, length: int) -> bytes:
        return json.dumps({"version": f"1.0.{tag}{len(path)}", "files": [
            {"path": path, "size": length, "digest": digest}]}).encode()

    return [
        ("alias bomb card", "POST", "/api/v1/repos/bench/hostile/versions", json_type,
         publish_body("README.md", card, len(alias_bomb_card(size)))),
        ("large safetensors header", "POST", "/api/v1/repos/bench/hostile/versions", json_type,
         publish_body("model.safetensors", tensors, len(big_header_safetensors(size)))),
        ("deep JSON body", "POST", "/api/v1/repos", json_type, b"[" * size),
        ("oversize body", "POST", "/api/v1/repos", json_type,
         b'{"namespace": "bench", "name": "x", "pad": "' + b"x" * (size - 50) + b'"}'),
        ("oversize body, chunked", "POST", "/api/v1/repos", json_type,
         [b'{"namespace": "bench", "name": "y", "pad": "'] + [b"x" * 65536] * (size // 65536) + [b'"}']),
        # last: on a hub whose message parser is quadratic this one never ends
        ("newline flood in commit message", "POST", "/api/models/bench/hostile/commit/main",
         {"content-type": "application/x-ndjson"}, ndjson_commit("fix\n" + "\n" * (size - 200))),
    ]


def run_hostile(sizes: list[int]) -> list[dict]:
    results = []
    for size_mb in sorted(sizes, reverse=True):  # 64 MB first: it is refused by size on every hub
        hub = HubProcess(Path(tempfile.mkdtemp(prefix="bench-hostile-")), env={"HUB_RATE_LIMITS": "false"}).start()
        try:
            token = hub.token("bench")
            auth = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=hub.url, headers=auth, timeout=120) as c:
                c.post("/api/v1/repos", json={"namespace": "bench", "name": "hostile"}).raise_for_status()
                size = size_mb * MB if size_mb > 1 else 1_000_000  # 1 MB: just under the 1 MiB limits
                for name, method, path, headers, body in hostile_inputs(c, size, str(size_mb)):
                    time.sleep(0.3)
                    rss = PeakRss(hub.proc.pid)
                    rss.start()
                    status, seconds = raw_request(hub.url, method, path, {**auth, **headers}, body)
                    extra = rss.extra_mb()
                    ok = status not in (0, 500) and seconds < 0.05 and extra < 20
                    label = "timeout" if status == 0 else status
                    print(f"{name:34s} {size_mb:>3d} MB  -> {label}  {seconds * 1000:8.1f} ms  +{extra:6.1f} MB",
                          flush=True)
                    results.append({"name": f"{name} {size_mb} MB", "ours": round(seconds * 1000, 1),
                                    "unit": "ms", "reference": round(extra, 1), "status": status,
                                    "goal": "<50 ms, <20 MB extra", "ok": ok})
        finally:
            hub.close()
    return results


async def _latencies(url: str, token: str, path: str, rate: float, seconds: float) -> tuple[list[float], list[int]]:
    """Send GETs at ``rate`` per second for ``seconds``; (latencies, statuses), 0 for a failed request."""
    lat, statuses = [], []
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60,
                                 limits=limits) as c:
        async def one() -> None:
            t = time.perf_counter()
            try:
                r = await c.get(path)
                statuses.append(r.status_code)
                lat.append(time.perf_counter() - t)
            except httpx.HTTPError:
                statuses.append(0)

        tasks, start, i = [], time.perf_counter(), 0
        while (now := time.perf_counter() - start) < seconds:
            if i < now * rate:
                tasks.append(asyncio.create_task(one()))
                i += 1
            await asyncio.sleep(max(0.0, min(0.002, i / rate - now)))
        await asyncio.gather(*tasks)
    return lat, statuses


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] * 1000 if len(values) > 2 else float("nan")


def _flood_process(url: str, token: str, path: str, rate: float, seconds: float, out) -> None:
    """The flooding client runs in its own process, so it never slows the measured users' loop."""
    out.put(asyncio.run(_latencies(url, token, path, rate, seconds))[1])


def run_flood(rate: float, seconds: float, limit: str, users: int = 4, user_rate: float = 2.0) -> list[dict]:
    import multiprocessing

    hub = HubProcess(Path(tempfile.mkdtemp(prefix="bench-flood-")), env={"HUB_RATE_READ": limit}).start()
    try:
        others = [hub.token(f"user{i}") for i in range(users)]
        flooder = hub.token("flooder")
        with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {others[0]}"}) as c:
            c.post("/api/v1/repos", json={"namespace": "user0", "name": "r"}).raise_for_status()
        path = "/api/v1/repos/user0/r"

        async def measure():
            return await asyncio.gather(*(_latencies(hub.url, t, path, user_rate, seconds) for t in others))

        quiet = asyncio.run(measure())
        queue = multiprocessing.get_context("spawn").Queue()
        flood = multiprocessing.get_context("spawn").Process(
            target=_flood_process, args=(hub.url, flooder, path, rate, seconds, queue))
        flood.start()
        time.sleep(1.0)  # the flood is under way before the users are measured
        loud = asyncio.run(measure())
        flood_statuses = queue.get(timeout=600)
        flood.join()
        quiet_lat = [x for lat, _ in quiet for x in lat]
        loud_lat = [x for lat, _ in loud for x in lat]
        others_refused = sum(s == 429 for _, st in loud for s in st)
        refused = sum(s == 429 for s in flood_statuses)
        print(f"flood ({limit} per token): {len(flood_statuses)} requests from one token in {seconds:.0f} s -> "
              f"{refused} answered 429, {flood_statuses.count(200)} answered 200, {flood_statuses.count(0)} failed; "
              f"other users refused: {others_refused}")
        print(f"other users' p99: {p99(quiet_lat):.1f} ms without the flood, {p99(loud_lat):.1f} ms with it")
        return [
            {"name": f"flood {rate:.0f} req/s x {seconds:.0f} s: refused 429", "ours": refused,
             "reference": len(flood_statuses), "unit": "requests", "goal": "excess refused",
             "ok": refused > 0 and others_refused == 0},
            {"name": "other users' p99 during the flood", "ours": round(p99(loud_lat), 1),
             "reference": round(p99(quiet_lat), 1), "unit": "ms",
             "ratio": round(p99(loud_lat) / p99(quiet_lat), 2), "goal": "within noise"},
        ]
    finally:
        hub.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1,64", help="input sizes in MB, comma separated ('' skips them)")
    ap.add_argument("--flood-rate", type=float, default=200.0)
    ap.add_argument("--flood-seconds", type=float, default=10.0)
    ap.add_argument("--flood-limit", default="100/minute", help="HUB_RATE_READ of the flooded server")
    args = ap.parse_args()
    results = run_hostile([int(s) for s in args.sizes.split(",") if s])
    results += run_flood(args.flood_rate, args.flood_seconds, args.flood_limit)
    for r in results:
        print("RESULT " + json.dumps(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
