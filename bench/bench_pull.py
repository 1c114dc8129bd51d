"""Pull throughput: ``HubClient.pull`` of one large file vs ``curl`` of the same bytes from a plain
static file server (``python -m http.server``) on loopback. Runs are interleaved and each pull
starts from an empty cache, so both sides move and write every byte; we also verify the sha256.

    python bench/bench_pull.py --size-mb 500 --runs 5

ratio = median(curl) / median(ours): 1.0 means as fast as curl; the goal is >= 0.8.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub_client import HubClient  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with code {proc.returncode}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def hub(*args: str, env: dict) -> str:
    out = subprocess.run([sys.executable, "-m", "hub_client.cli", *args], env=env, cwd=ROOT,
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


def write_random(path: Path, size_mb: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        for i in range(size_mb):
            fh.write(block[i % 251:] + block[: i % 251])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    procs: list[subprocess.Popen] = []
    try:
        env = dict(os.environ, HUB_NO_PROGRESS="1", HUB_CONFIG_DIR=str(work / "config"))
        data = work / "hub-data"
        token = hub("admin", "create-token", "bench", "--scope", "write", "--data", str(data), env=env)
        port = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "hub_client.cli", "serve", "--data", str(data), "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_up(endpoint + "/api/v1/whoami", procs[-1])

        files = work / "files"
        files.mkdir()
        write_random(files / "big.safetensors.raw", args.size_mb)
        static_port = free_port()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "http.server", str(static_port), "--bind", "127.0.0.1", "--directory", str(files)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_until_up(f"http://127.0.0.1:{static_port}/", procs[-1])

        with HubClient(endpoint, token, cache_dir=work / "push-cache", progress=False) as client:
            client.push(files, "bench/big", "1.0.0", kind="base")
        size = (files / "big.safetensors.raw").stat().st_size

        ours, curl = [], []
        for i in range(args.runs):
            target = work / f"curl-{i}"
            started = time.perf_counter()
            subprocess.run(["curl", "-sS", "--fail", "-o", str(target),
                            f"http://127.0.0.1:{static_port}/big.safetensors.raw"], check=True)
            curl.append(time.perf_counter() - started)
            target.unlink()

            cache = work / f"cache-{i}"
            started = time.perf_counter()
            with HubClient(endpoint, None, cache_dir=cache, progress=False) as client:
                path = client.pull("bench/big", "1.0.0")
            ours.append(time.perf_counter() - started)
            assert (path / "big.safetensors.raw").stat().st_size == size
            shutil.rmtree(cache)

        m_ours, m_curl = statistics.median(ours), statistics.median(curl)
        ratio = m_curl / m_ours
        mb = size / 1e6
        print(f"{'':14}{'median s':>10}{'MB/s':>10}   runs")
        print(f"{'hub pull':14}{m_ours:>10.2f}{mb / m_ours:>10.0f}   " + " ".join(f"{t:.2f}" for t in ours))
        print(f"{'curl static':14}{m_curl:>10.2f}{mb / m_curl:>10.0f}   " + " ".join(f"{t:.2f}" for t in curl))
        print(f"ratio curl/ours = {ratio:.2f} (goal >= 0.8)")
        print("RESULT " + json.dumps({
            "name": f"pull {args.size_mb} MB vs curl", "ours": round(m_ours, 3), "reference": round(m_curl, 3),
            "unit": "s", "ratio": round(ratio, 3), "goal": ">= 0.8", "ok": ratio >= 0.8,
        }))
        return 0
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
