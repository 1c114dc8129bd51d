"""Pull throughput, timed as users run it: the ``hub pull`` command (a fresh process, CLI start-up included)
vs ``curl -o`` reading the SAME blob from the hub itself, and vs ``curl`` reading the same bytes from Debian's
``nginx`` (a static server of the operating system's; installed with ``apt-get install nginx`` when missing and
run as root, and a row says so when it cannot be). ``HubClient.pull`` in-process (no start-up) is timed in the
same rotation and reported beside it. All sides interleaved (ABBA: hub pull, HubClient.pull, curls, curls,
HubClient.pull, hub pull, ...), medians; each pull from an empty cache; every output file is hashed after its
run (outside the timing) and must equal the blob's digest: the same bytes on every side.

    python -m bench.bench_pull --size-mb 500 --runs 6

* client overhead: median(curl from the hub) / median(``hub pull``), goal >= 0.9 (same server, same bytes);
* the same for ``HubClient.pull`` in-process (what the CLI costs on top: its start-up);
* server overhead: median(curl from nginx) / median(curl from the hub): what our server costs vs nginx;
* client CPU seconds per pull (``hub pull``, which also hashes every byte, vs curl): the overhead that remains
  when no core is free; with a free core the hash overlaps the transfer.

With SeaweedFS installed (``weed``), a second pair of rows puts the blobs in a real S3 server:
``HubClient.pull`` from a hub started with ``HUB_STORAGE_REDIRECT=1`` (each download is a 302 to a
presigned URL) vs ``curl`` reading the same object from the S3 server directly (goal >= 0.8), and
the hub's CPU seconds per GB served with and without the redirect (``--no-s3`` skips them).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bench.figures import emit, interleaved, medians, with_bytecode

ROOT = Path(__file__).resolve().parent.parent

from hub_client import HubClient


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
    out = subprocess.run(
        [sys.executable, "-m", "hub_client.cli", *args], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    )
    return out.stdout.strip()


def write_random(path: Path, size_mb: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as fh:
        fh.writelines(block[i % 251 :] + block[: i % 251] for i in range(size_mb))


NGINX_CONF = """daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.err;
events {{ worker_connections 64; }}
http {{ access_log off; sendfile on; client_body_temp_path {work}/nginx-tmp;
  proxy_temp_path {work}/nginx-tmp; fastcgi_temp_path {work}/nginx-tmp; uwsgi_temp_path {work}/nginx-tmp;
  scgi_temp_path {work}/nginx-tmp;
  server {{ listen 127.0.0.1:{port}; root {root}; }} }}
"""


def _nginx_on_disk() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def nginx_binary() -> tuple[str | None, str]:
    """Debian's nginx and a line saying where it came from (installed now, or why it is missing)."""
    found = _nginx_on_disk()
    if found:
        return found, f"nginx: {found} (already installed)"
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return None, "nginx is not installed and this bench cannot install it (needs root and apt-get)"
    print("nginx missing: installing Debian's nginx with apt-get", file=sys.stderr)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "nginx"]
    done = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:  # stale or empty package lists: refresh once
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
        done = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    found = _nginx_on_disk()
    if found:
        return found, f"nginx: installed Debian's nginx with apt-get for this bench ({found})"
    tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
    return None, f"nginx is not installed and `apt-get install nginx` failed: {tail[0]}"


def start_nginx(work: Path, root: Path, procs: list) -> tuple[str | None, str]:
    binary, note = nginx_binary()
    print(note)
    if binary is None:
        return None, note
    port = free_port()
    (work / "nginx-tmp").mkdir()
    for path in (work, root, *root.iterdir()):  # nginx workers run as an unprivileged user
        path.chmod(0o755 if path.is_dir() else 0o644)
    conf = work / "nginx.conf"
    conf.write_text(NGINX_CONF.format(work=work, port=port, root=root))
    procs.append(
        subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    )
    url = f"http://127.0.0.1:{port}/"
    wait_until_up(url, procs[-1])
    return url, note


def cpu_seconds() -> float:
    """CPU seconds used so far by this process (every thread: the pull's writer and hasher too) plus its
    finished children (each curl)."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def curl(url: str, target: Path, cpu: list | None = None, expected: str | None = None, label: str = "curl") -> float:
    before = cpu_seconds()
    started = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-o", str(target), url], check=True)
    elapsed = time.perf_counter() - started
    if cpu is not None:
        cpu.append(cpu_seconds() - before)
    if expected is not None:
        same_bytes(target, expected, label)
    target.unlink()
    return elapsed


def same_bytes(path: Path, expected_hex: str, label: str) -> None:
    """Every side must have written the blob's exact bytes (hashed after the timed part)."""
    with open(path, "rb") as fh:
        got = hashlib.file_digest(fh, "sha256").hexdigest()
    if got != expected_hex:
        raise SystemExit(f"{label} wrote different bytes: sha256 {got} != {expected_hex}")


def hub_command() -> list[str]:
    """The ``hub`` console script installed beside this Python (what users run), else ``python -m``."""
    script = Path(sys.executable).parent / "hub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hub_client.cli"]


def row(name: str, ours: float | None, ref: float | None, ratio: float | None, goal: str | None, **extra) -> None:
    ok = None if goal is None or ratio is None else ratio >= float(goal.split()[-1])
    rounded = {k: None if v is None else round(v, 3) for k, v in (("ours", ours), ("reference", ref), ("ratio", ratio))}
    emit(
        {"name": name, **rounded, "unit": "s", "goal": goal or "report", "ok": ok, **extra}, interleaved=True
    )  # ``unit`` in extra overrides "s"


def load() -> str:
    """The 1-minute load average and the core count, printed beside every figure (a shared machine
    moves these ratios more than anything the code does)."""
    return f"load {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mb", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-s3", action="store_true", help="skip the S3 redirect rows")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-pull-"))
    procs: list[subprocess.Popen] = []
    try:
        env = dict(os.environ, HUB_NO_PROGRESS="1", HUB_CONFIG_DIR=str(work / "config"))
        data = work / "hub-data"
        token = hub("admin", "create-token", "bench", "--scope", "write", "--data", str(data), env=env)
        port = free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "hub_client.cli", "serve", "--data", str(data), "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        endpoint = f"http://127.0.0.1:{port}"
        wait_until_up(endpoint + "/api/v1/whoami", procs[-1])

        files = work / "files"
        files.mkdir()
        write_random(files / "big.safetensors.raw", args.size_mb)
        nginx, nginx_note = start_nginx(work, files, procs)

        with HubClient(endpoint, token, cache_dir=work / "push-cache", progress=False) as client:
            client.push(files, "bench/big", "1.0.0", kind="base")
            digest = client.resolve("bench/big", "1.0.0")["files"][0]["digest"]
        size = (files / "big.safetensors.raw").stat().st_size
        hub_blob = f"{endpoint}/api/v1/repos/bench/big/blobs/{digest}"

        hub_cmd = hub_command()
        cli_env = with_bytecode(env, str(work / "pyc"))  # the command keeps its bytecode, as when installed
        expected = digest.split(":", 1)[1]
        cli_cpu, curl_cpu = [], []
        counter = iter(range(1 << 30))

        def cli_pull() -> float:
            """``hub pull`` as a user runs it: a new process, an empty cache, the path it prints checked."""
            cache = work / f"cache-{next(counter)}"
            before = cpu_seconds()
            started = time.perf_counter()
            out = subprocess.run(
                [*hub_cmd, "pull", "bench/big@1.0.0", "--endpoint", endpoint],
                env=dict(cli_env, HUB_CACHE=str(cache)),
                check=True,
                capture_output=True,
                text=True,
            )
            elapsed = time.perf_counter() - started
            cli_cpu.append(cpu_seconds() - before)
            same_bytes(Path(out.stdout.strip().splitlines()[-1]) / "big.safetensors.raw", expected, "hub pull")
            shutil.rmtree(cache)
            return elapsed

        def client_pull() -> float:
            cache = work / f"cache-{next(counter)}"
            started = time.perf_counter()
            with HubClient(endpoint, None, cache_dir=cache, progress=False) as client:
                path = client.pull("bench/big", "1.0.0")
            elapsed = time.perf_counter() - started
            same_bytes(path / "big.safetensors.raw", expected, "HubClient.pull")
            shutil.rmtree(cache)
            return elapsed

        def curl_from(url: str, cpu: list | None, label: str) -> Callable[[], float]:
            return lambda: curl(url, work / "c", cpu, expected, label)

        sides = {
            "hub pull": cli_pull,
            "HubClient.pull": client_pull,
            "curl from hub": curl_from(hub_blob, curl_cpu, "curl from the hub"),
        }
        if nginx:
            sides["curl from nginx"] = curl_from(nginx + "big.safetensors.raw", None, "curl from nginx")
        cli_pull()  # one warm-up pull, not counted: writes the command's bytecode and fills the page cache
        cli_cpu.clear()
        times = interleaved(sides, args.runs)
        med = medians(times)

        mb = size / 1e6
        print(f"{args.runs} rounds, interleaved ABBA; {load()} at the end")
        print(f"{'':18}{'median s':>10}{'MB/s':>10}   runs")
        for label, values in times.items():
            print(f"{label:18}{med[label]:>10.2f}{mb / med[label]:>10.0f}   " + " ".join(f"{t:.2f}" for t in values))
        m_ours, m_client, m_hub = med["hub pull"], med["HubClient.pull"], med["curl from hub"]
        row(
            f"pull {args.size_mb} MB: client overhead, `hub pull` command (curl -o from the hub / hub pull)",
            m_ours,
            m_hub,
            m_hub / m_ours,
            ">= 0.9",
            load=load(),
        )
        row(
            f"pull {args.size_mb} MB: HubClient.pull in-process, no CLI start-up (curl -o from the hub / pull)",
            m_client,
            m_hub,
            m_hub / m_client,
            None,
            load=load(),
        )
        c_ours, c_curl = statistics.median(cli_cpu), statistics.median(curl_cpu)
        print(
            f"client CPU s per pull (median): hub pull {c_ours:.2f} (start-up, read, write, sha256), "
            f"curl {c_curl:.2f} (process start, read, write)"
        )
        row(
            f"pull {args.size_mb} MB: client CPU seconds (hub pull incl. start-up and sha256 vs curl from the hub)",
            c_ours,
            c_curl,
            c_curl / c_ours,
            None,
            load=load(),
            unit="CPU s",
        )
        if not nginx:
            row(f"pull {args.size_mb} MB: server overhead vs nginx NOT MEASURED ({nginx_note})", None, None, None, None)
        else:
            m_nginx = med["curl from nginx"]
            row(
                f"pull {args.size_mb} MB: server overhead (curl from nginx / curl from the hub)",
                m_hub,
                m_nginx,
                m_nginx / m_hub,
                None,
                load=load(),
            )
            row(
                f"pull {args.size_mb} MB: end to end (curl from nginx / hub pull)",
                m_ours,
                m_nginx,
                m_nginx / m_ours,
                None,
                load=load(),
            )
        if not args.no_s3:
            from tests.support.s3_server import weed_binary

            if weed_binary() is None:
                print("SeaweedFS (weed) not installed: S3 redirect rows skipped")
            else:
                redirect_rows(args, work, env, files, procs)
        return 0
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


def redirect_rows(args, work: Path, env: dict, files: Path, procs: list) -> None:
    """Pull via presigned redirect vs curl straight from S3; hub CPU s/GB with and without redirect."""
    import psutil

    from tests.support.s3_server import CREDENTIALS, SeaweedS3

    s3 = SeaweedS3(work / "s3").start()
    try:
        hubs = {}
        for label, redirect in (("redirect", "1"), ("stream", "0")):
            data = work / f"hub-{label}"
            hub_env = dict(
                env,
                **CREDENTIALS,
                HUB_STORAGE_URL=s3.storage_url("bench-pull"),
                HUB_STORAGE_REDIRECT=redirect,
                HUB_DATA=str(data),
            )
            token = hub("admin", "create-token", "bench", "--scope", "write", "--data", str(data), env=hub_env)
            port = free_port()
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "hub_client.cli", "serve", "--data", str(data), "--port", str(port)],
                    cwd=ROOT,
                    env=hub_env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            endpoint = f"http://127.0.0.1:{port}"
            wait_until_up(endpoint + "/api/v1/whoami", procs[-1])
            with HubClient(endpoint, token, cache_dir=work / f"push-{label}", progress=False) as client:
                client.push(files, "bench/big", "1.0.0", kind="base")
                digest = client.resolve("bench/big", "1.0.0")["files"][0]["digest"]
            hubs[label] = (endpoint, psutil.Process(procs[-1].pid))
        size = (files / "big.safetensors.raw").stat().st_size
        object_url = s3.client().generate_presigned_url(  # the same object, straight from S3
            "get_object",
            Params={"Bucket": s3.bucket, "Key": f"bench-pull/sha256/{digest.split(':', 1)[1]}"},
            ExpiresIn=3600,
        )
        times = {"redirect": [], "stream": [], "curl": []}
        cpu = {"redirect": 0.0, "stream": 0.0}

        def s3_curl(i: int) -> None:
            times["curl"].append(curl(object_url, work / f"s3-curl-{i}"))

        def s3_pull(i: int, label: str) -> None:
            endpoint, proc = hubs[label]
            before = _cpu(proc)
            cache = work / f"s3-cache-{label}-{i}"
            started = time.perf_counter()
            with HubClient(endpoint, None, cache_dir=cache, progress=False) as client:
                path = client.pull("bench/big", "1.0.0")
            times[label].append(time.perf_counter() - started)
            cpu[label] += _cpu(proc) - before
            assert (path / "big.safetensors.raw").stat().st_size == size
            shutil.rmtree(cache)

        for i in range(args.runs):  # ABBA here too: curl, redirected, streamed, streamed, redirected, curl, ...
            steps = [lambda i=i: s3_curl(i), lambda i=i: s3_pull(i, "redirect"), lambda i=i: s3_pull(i, "stream")]
            for step in steps if i % 2 == 0 else steps[::-1]:
                step()
        med = {k: statistics.median(v) for k, v in times.items()}
        gb = size * args.runs / 1e9
        per_gb = {k: v / gb for k, v in cpu.items()}
        ratio = med["curl"] / med["redirect"]
        print(f"{'':22}{'median s':>10}{'MB/s':>10}")
        for label, name in (
            ("redirect", "hub pull (302 to S3)"),
            ("stream", "hub pull (streamed)"),
            ("curl", "curl from S3"),
        ):
            print(f"{name:22}{med[label]:>10.2f}{size / 1e6 / med[label]:>10.0f}")
        print(f"ratio curl-from-S3/redirected pull = {ratio:.2f} (goal >= 0.8); {load()}")
        print(f"hub CPU per GB served: {per_gb['redirect']:.3f} s with redirect, {per_gb['stream']:.3f} s streaming")
        emit(
            {
                "name": f"pull {args.size_mb} MB via presigned redirect vs curl from S3",
                "ours": round(med["redirect"], 3),
                "reference": round(med["curl"], 3),
                "unit": "s",
                "ratio": round(ratio, 3),
                "goal": ">= 0.8",
                "ok": ratio >= 0.8,
                "load": load(),
            },
            interleaved=True,
        )
        emit(
            {
                "name": "hub CPU s per GB served: redirect vs streamed",
                "ours": round(per_gb["redirect"], 3),
                "reference": round(per_gb["stream"], 3),
                "unit": "CPU s/GB",
                "ratio": round(per_gb["stream"] / max(per_gb["redirect"], 1e-9), 1),
            },
            interleaved=True,
        )
    finally:
        s3.close()


def _cpu(proc) -> float:
    """CPU seconds of the hub process and its workers so far."""
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except Exception:  # noqa: BLE001, S112 - a child that exited meanwhile has no CPU time left to add
            continue
    return total


if __name__ == "__main__":
    raise SystemExit(main())
