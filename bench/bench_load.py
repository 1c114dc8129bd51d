"""Load: N concurrent clients (default 32) mixing search, resolve, pull and push against one
hub host and against two hosts behind a per-request round-robin proxy, both on PostgreSQL +
a real S3 server (SeaweedFS) and keeping nothing on local disk.

    HUB_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test python -m bench.bench_load --clients 32 \
        --seconds 10 --rounds 4

Both deployments are started and seeded first; then load windows of ``--seconds`` alternate between them
ABBA (1 host, 2 hosts, 2 hosts, 1 host, ...) ``--rounds`` times each, so a drift of the machine hits both
alike. Prints hub operations per second (median over a deployment's windows), p50/p99 per operation
(medians over its windows) and errors (summed; must be 0) for each deployment. On a machine with few
cores the hosts, the proxy, PostgreSQL, S3 and the clients share the same CPUs, so the ratio
shows that a second host adds no cost or errors, not how far it scales on real hardware.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import threading
import time
from pathlib import Path

from bench.figures import emit, interleaved

ROOT = Path(__file__).resolve().parent.parent

from hub_client import HubClient
from tests.support.deployment import TwoHosts
from tests.support.hub_process import HubProcess, PostgresDatabase
from tests.support.s3_server import CREDENTIALS, SeaweedS3

MIX = (("search", 0.35), ("resolve", 0.30), ("pull", 0.25), ("push", 0.10))
WORDS = ("pirate", "sentiment", "summary", "translate", "chat", "code")


class OneHost:
    """The same stateless host as in TwoHosts, alone and without a proxy."""

    def __init__(self, work: Path, s3: SeaweedS3, admin_url: str) -> None:
        self.database = PostgresDatabase(admin_url)
        self.host = HubProcess(
            work / "one-host",
            database_url=self.database.url,
            storage_url=s3.storage_url(f"load-one-{os.getpid()}"),
            env=dict(CREDENTIALS),
        )
        self.url = self.host.url

    def start(self) -> OneHost:
        self.host.start()
        return self

    def token(self, user: str, scope: str = "write") -> str:
        return self.host.token(user, scope)

    def close(self) -> None:
        self.host.close()
        self.database.drop()


def seed(url: str, token: str, work: Path, repos: int) -> list[str]:
    ids = []
    with HubClient(url, token, cache_dir=work / "seed-cache", progress=False) as client:
        for i in range(repos):
            folder = work / f"seed-{i}"
            folder.mkdir(parents=True, exist_ok=True)
            word = WORDS[i % len(WORDS)]
            (folder / "README.md").write_text(f"---\ntags: [{word}]\n---\n# {word} {i}\n")
            (folder / "weights.raw").write_bytes(os.urandom(64 * 1024))
            repo = f"load/{WORDS[i % len(WORDS)]}-{i}"
            client.push(folder, repo, "1.0.0", kind="base")
            ids.append(repo)
    return ids


def run_clients(url: str, tokens: list[str], repos: list[str], seconds: float, work: Path, window: int = 0) -> dict:
    """One thread per token: each client is its own user (the per-token rate limits apply as to real users).
    ``window`` numbers the load window, so pushes in a later window publish new versions."""
    latencies: dict[str, list[float]] = {op: [] for op, _ in MIX}
    errors: list[str] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop(n: int) -> None:
        rng = random.Random(n)
        pushes = 0
        token = tokens[n]
        with HubClient(url, token, cache_dir=work / f"client-{n}", progress=False) as client:
            while time.monotonic() < stop_at:
                op = rng.choices([o for o, _ in MIX], [w for _, w in MIX])[0]
                started = time.perf_counter()
                try:
                    if op == "search":
                        client.search(rng.choice(WORDS), limit=10)
                    elif op == "resolve":
                        client.resolve(rng.choice(repos))
                    elif op == "pull":  # a fresh cache each time, so every pull moves the bytes
                        cache = work / f"pull-{n}"
                        with HubClient(url, token, cache_dir=cache, progress=False) as puller:
                            puller.pull(rng.choice(repos))
                        shutil.rmtree(cache, ignore_errors=True)
                    else:
                        pushes += 1
                        folder = work / f"push-{n}"
                        folder.mkdir(parents=True, exist_ok=True)
                        (folder / "weights.raw").write_bytes(os.urandom(32 * 1024))
                        client.push(folder, f"load{n}/bench", f"1.{window}.{pushes}", kind="base")
                except Exception as exc:  # noqa: BLE001 - every failure counts; the figure must show 0
                    with lock:
                        errors.append(f"{op}: {exc}")
                    continue
                with lock:
                    latencies[op].append(time.perf_counter() - started)

    threads = [threading.Thread(target=client_loop, args=(n,)) for n in range(len(tokens))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    done = sum(len(v) for v in latencies.values())
    return {
        "ops_per_s": done / elapsed,
        "errors": len(errors),
        "first_errors": errors[:3],
        "per_op": {op: _percentiles(v) for op, v in latencies.items()},
    }


def _combine(runs: list[dict]) -> dict:
    """One deployment's windows as one result: medians of ops/s and of each op's p50/p99, errors summed."""

    def median_of(values: list) -> float | None:
        values = [v for v in values if v is not None]
        return round(statistics.median(values), 1) if values else None

    per_op = {
        op: {
            "n": sum(r["per_op"][op]["n"] for r in runs),
            "p50_ms": median_of([r["per_op"][op]["p50_ms"] for r in runs]),
            "p99_ms": median_of([r["per_op"][op]["p99_ms"] for r in runs]),
        }
        for op, _ in MIX
    }
    return {
        "ops_per_s": statistics.median(r["ops_per_s"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "per_op": per_op,
        "first_errors": [line for r in runs for line in r["first_errors"]][:5],
    }


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {"n": 0, "p50_ms": None, "p99_ms": None}
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return {"n": len(values), "p50_ms": round(statistics.median(values) * 1000, 1), "p99_ms": round(p99 * 1000, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each load window")
    parser.add_argument("--rounds", type=int, default=4, help="windows per deployment, interleaved ABBA")
    parser.add_argument("--repos", type=int, default=20)
    args = parser.parse_args()
    admin_url = os.environ.get("HUB_TEST_DATABASE_URL")
    if not admin_url:
        print("bench_load needs PostgreSQL: set HUB_TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
        return 2
    work = Path(tempfile.mkdtemp(prefix="bench-load-"))
    s3 = SeaweedS3(work / "s3").start()
    results = {}
    deployments: dict[str, object] = {}
    try:
        setups = {}
        for label, make in (
            ("1 host", lambda: OneHost(work, s3, admin_url)),
            ("2 hosts", lambda: TwoHosts(work / "two-hosts", s3)),
        ):
            deployment = deployments[label] = make().start()
            token = deployment.token("load")
            repos = seed(deployment.url, token, work / label.replace(" ", "-"), args.repos)
            tokens = [deployment.token(f"load{n}") for n in range(args.clients)]
            setups[label] = (deployment.url, tokens, repos)
        counter = iter(range(1 << 30))

        def window(label: str):
            url, tokens, repos = setups[label]

            def one_window() -> dict:
                number = next(counter)
                return run_clients(
                    url, tokens, repos, args.seconds, work / f"run-{label.replace(' ', '-')}-{number}", window=number
                )

            return one_window

        windows = interleaved({label: window(label) for label in setups}, args.rounds)
        results = {label: _combine(runs) for label, runs in windows.items()}
    finally:
        for deployment in deployments.values():
            deployment.close()
        s3.close()
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"{args.clients} clients, {args.rounds} windows of {args.seconds:.0f} s per deployment, interleaved "
        "(PostgreSQL + SeaweedFS S3)"
    )
    print(f"{'':9}{'ops/s':>8}{'errors':>8}   " + "   ".join(f"{op} p50/p99 ms" for op, _ in MIX))
    for label, r in results.items():
        cells = "   ".join(
            f"{r['per_op'][op]['p50_ms']}/{r['per_op'][op]['p99_ms']} (n={r['per_op'][op]['n']})" for op, _ in MIX
        )
        print(f"{label:9}{r['ops_per_s']:>8.1f}{r['errors']:>8}   {cells}")
        for line in r["first_errors"]:
            print(f"  error: {line}")
    one, two = results["1 host"], results["2 hosts"]
    ratio = two["ops_per_s"] / one["ops_per_s"]
    emit(
        {
            "name": f"load {args.clients} clients: 2 hosts vs 1 host (ops/s, median of {args.rounds} windows of "
            f"{args.seconds:.0f} s each)",
            "ours": round(two["ops_per_s"], 1),
            "reference": round(one["ops_per_s"], 1),
            "unit": "ops/s",
            "ratio": round(ratio, 3),
            "goal": "errors 0",
            "ok": one["errors"] == 0 and two["errors"] == 0,
        },
        interleaved=True,
    )
    for label, r in results.items():
        for op, _ in MIX:
            emit(
                {
                    "name": f"load {label}: {op} p99",
                    "ours": r["per_op"][op]["p99_ms"],
                    "reference": r["per_op"][op]["p50_ms"],
                    "unit": "ms (p99 vs p50)",
                },
                interleaved=True,
            )
    return 0 if one["errors"] == 0 and two["errors"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
