"""Server memory while a large safetensors file is pushed (chunked upload + publish, which validates
its header) and pulled (streamed download): the peak RSS of the server process, sampled with psutil.
The file is a real safetensors file (F32 tensors of up to 256 MiB each, random bytes), 2 GiB by default.

    python -m bench.bench_server_rss --size-mb 2048

Goal: peak RSS < 200 MB (the file must stream, never sit in memory). Reference: none.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil

from bench.figures import emit

ROOT = Path(__file__).resolve().parent.parent

from hub_server.admin import create_user_token
from hub_server.settings import Settings

CHUNK = 16 * 1024 * 1024


class RssSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                rss = self.process.memory_info().rss + sum(c.memory_info().rss for c in self.process.children(True))
                self.peak = max(self.peak, rss)
            except psutil.Error:
                pass
            time.sleep(0.05)


def safetensors_header(size: int) -> bytes:
    """A header for F32 tensors of at most 256 MiB filling ``size`` bytes of data."""
    tensors, offset, i = {}, 0, 0
    while offset < size:
        span = min(256 * 2**20, size - offset)
        tensors[f"layers.{i}.weight"] = {"dtype": "F32", "shape": [span // 4], "data_offsets": [offset, offset + span]}
        offset, i = offset + span, i + 1
    raw = json.dumps(tensors, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw


def make_file(path: Path, size: int) -> tuple[str, int]:
    """A real safetensors file with ``size`` bytes of tensor data; returns (digest, file size)."""
    h, block = hashlib.sha256(), os.urandom(CHUNK)
    header = safetensors_header(size)
    with open(path, "wb") as fh:
        fh.write(header)
        h.update(header)
        left = size
        while left:
            piece = block[: min(CHUNK, left)]
            fh.write(piece)
            h.update(piece)
            left -= len(piece)
    return "sha256:" + h.hexdigest(), len(header) + size


def push(url: str, token: str, path: Path, digest: str, size: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=600) as c:
        c.post("/api/v1/repos", json={"namespace": "bench", "name": "big"}).raise_for_status()
        upload_id = c.post("/api/v1/uploads").json()["upload_id"]
        with open(path, "rb") as fh:
            offset = 0
            while chunk := fh.read(CHUNK):
                c.patch(
                    f"/api/v1/uploads/{upload_id}",
                    content=chunk,
                    headers={"Content-Range": f"bytes {offset}-{offset + len(chunk) - 1}/*"},
                ).raise_for_status()
                offset += len(chunk)
        c.put(f"/api/v1/uploads/{upload_id}", params={"digest": digest}).raise_for_status()
        c.post(
            "/api/v1/repos/bench/big/versions",
            json={"version": "1.0.0", "files": [{"path": "big.safetensors", "size": size, "digest": digest}]},
        ).raise_for_status()


def pull(url: str, digest: str) -> None:
    h = hashlib.sha256()
    with httpx.stream("GET", f"{url}/api/v1/repos/bench/big/files/1.0.0/big.safetensors", timeout=600) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes(CHUNK):
            h.update(chunk)
    if "sha256:" + h.hexdigest() != digest:
        raise SystemExit("pulled bytes do not match")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=2048, help="tensor data size in MiB (default 2 GiB)")
    args = parser.parse_args()
    size = args.size_mb * 1024 * 1024 // 4 * 4
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        digest, size = make_file(work / "big.safetensors", size)
        data = work / "data"
        token = create_user_token(Settings(data=data), "bench")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env["HUB_DATA"] = str(data)
        server_log = open(work / "server.log", "wb")  # noqa: SIM115 - held for the server's life; one access-log line per 16 MiB chunk: kept out of the table
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "hub_server.app:create_app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=server_log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(url + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            idle = psutil.Process(proc.pid).memory_info().rss
            sampler = RssSampler(proc.pid)
            sampler.start()
            t0 = time.perf_counter()
            push(url, token, work / "big.safetensors", digest, size)
            t1 = time.perf_counter()
            push_peak, sampler.peak = sampler.peak, 0
            pull(url, digest)
            t2 = time.perf_counter()
            sampler.stop.set()
            sampler.join()
            pull_peak = sampler.peak
        except BaseException:
            server_log.flush()
            sys.stderr.write((work / "server.log").read_text(errors="replace")[-4000:])
            raise
        finally:
            proc.terminate()
            proc.wait(30)
            server_log.close()
    idle_mb = idle / 2**20
    gib = f"{size / 2**30:.2f} GiB"
    print(
        f"{'server RSS, ' + str(args.size_mb) + ' MB file':<34} {'ours':>9} {'reference':>10} {'ratio':>6} {'goal':>10}"
    )
    print(f"{'idle RSS (MB)':<34} {idle_mb:>9.1f} {'-':>10} {'-':>6} {'':>10}")
    print(f"{'peak RSS push+publish (MB)':<34} {push_peak / 2**20:>9.1f} {'-':>10} {'-':>6} {'< 200 MB':>10}")
    print(f"{'peak RSS pull (MB)':<34} {pull_peak / 2**20:>9.1f} {'-':>10} {'-':>6} {'< 200 MB':>10}")
    print(f"(push+publish {t1 - t0:.1f}s, pull {t2 - t1:.1f}s, file {gib})")
    for phase, peak in (("upload + publish", push_peak), ("download", pull_peak)):
        mb = peak / 2**20
        emit(
            {
                "name": f"server peak RSS during {phase} of a {gib} safetensors file (idle {idle_mb:.0f} MB)",
                "ours": round(mb, 1),
                "reference": None,
                "unit": "MB",
                "ratio": None,
                "goal": "< 200 MB",
                "ok": mb < 200,
            },
            interleaved=None,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
