"""The evaluation queue, measured with real parts: real hubs (uvicorn on port 0) and real ``hub worker``
processes (torch limited to ``--threads`` threads each), on the embedded broker (kombu's SQLAlchemy transport
on ``queue.sqlite``) and on Redis (127.0.0.1:6379; its rows are left out, with a note, when no server runs).

* **Queue overhead per job**: the time from a job being queued (the publish that declares it) to an idle
  worker claiming it (the hub's ``queued`` and ``started`` stamps, one clock), p50 and p99 over
  ``--overhead-jobs`` jobs per broker, the brokers' jobs interleaved (ABBA). The jobs name an eval set that
  does not exist, so the worker claims, fails in one request and is idle again: no model work is timed.
* **Evaluations per minute**: batches of ``--evals`` tiny-LLaMA LoRA jobs (exact match on 8 rows), from the
  first publish to the last verified result, with one worker and with two (two hubs, batches interleaved
  ABBA over ``--rounds`` rounds, after one warm-up batch each; medians).
* **Publish to verified score** for a LoRA (r 8, untrained) on SmolLM2-135M-Instruct (the demo's base,
  ``adapters.base.default``) with a ``--smollm-rows``-row eval set this bench writes: from the push of the
  adapter to its verified exact match, once with an empty worker cache (it pulls the base by its pin) and
  once with the base cached. The reference column is the worker's own part (claim to result).

    python -m bench.bench_queue                         # every part (about 10 minutes on 2 cores)
    python -m bench.bench_queue --parts overhead --overhead-jobs 5 --brokers embedded   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.figures import emit
from hub_rules.eval_index import model_index_entry

PARTS = ("overhead", "throughput", "smollm")
BROKERS = ("embedded", "redis")
REDIS = "redis://127.0.0.1:6379"
NO_SUCH_SET = "bench/no-such-eval-set"


def redis_up() -> bool:
    from tests.support.eval_workers import redis_up as up

    return up()


def card(dataset: str, *, body: str = "", pin: dict | None = None, metric: str = "exact_match") -> bytes:
    """A model card declaring one evaluation on ``dataset@1.0.0`` (split test)."""
    front: dict[str, Any] = {"library_name": "peft"}
    if pin is not None:
        front["adapter_hub"] = {"kind": "adapter", "base": pin}
    front["model-index"] = [model_index_entry("bench", "text-generation", dataset, "1.0.0", "test", {metric: None})]
    return ("---\n" + json.dumps(front) + "\n---\n# bench adapter\n" + body).encode()


class Setup:
    """One hub with its broker and its workers; ``close`` stops them all. Hubs on Redis get distinct
    databases, so no worker ever receives another hub's job."""

    redis_databases = iter(random.sample(range(1, 8), 7))  # 0: rate buckets; 8-15: the test suite

    def __init__(self, root: Path, label: str, broker: str, workers: int) -> None:
        from tests.support.eval_workers import Workers
        from tests.support.hub_process import HubProcess

        self.label, self.broker = label, broker
        env = {
            "HUB_EVAL_MAX_ATTEMPTS": "1",
            "HUB_EVAL_LEASE_SECONDS": "900",
            "HUB_EVAL_TIME_LIMIT_SECONDS": "3600",
            "HUB_RATE_LIMITS": "false",  # the bench polls results; what it measures is the queue, not the limits
        }
        if broker == "redis":
            env["HUB_QUEUE_URL"] = f"{REDIS}/{next(Setup.redis_databases)}"
        (root / label).mkdir(parents=True, exist_ok=True)
        self.hub = HubProcess(root / label / "hub", env=env).start()
        self.token = self.hub.token("bench")
        queue = ["--queue-url", env["HUB_QUEUE_URL"]] if broker == "redis" else ["--data", str(self.hub.data_dir)]
        self.workers = Workers(self.hub, self.hub.token("evalbot", "evaluate"), root / label, queue)
        for i in range(workers):
            self.workers.start(f"{label}-w{i + 1}")

    def client(self) -> Any:
        from hub_client import HubClient

        return HubClient(endpoint=self.hub.url, token=self.token)

    def rows(self, repo: str) -> list[dict]:
        import httpx

        auth = {"Authorization": f"Bearer {self.token}"}
        answer = httpx.get(f"{self.hub.url}/api/v1/repos/{repo}/evaluations", headers=auth, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def finished(self, repo: str, version: str, timeout: float = 1800.0) -> dict:
        """The evaluation row of ``repo@version`` once it is done or failed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [r for r in self.rows(repo) if r["version"] == version and r["status"] in ("done", "failed")]
            if found:
                return found[0]
            time.sleep(0.02)
        raise RuntimeError(f"{repo}@{version} not finished after {timeout:.0f} s\n{self.workers.logs()[-3000:]}")

    def close(self) -> None:
        self.workers.close()
        self.hub.close()


def _seconds(row: dict, start: str, end: str) -> float:
    return (datetime.fromisoformat(row[end]) - datetime.fromisoformat(row[start])).total_seconds()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def overhead(root: Path, brokers: list[str], jobs: int, threads: int) -> None:
    """Queued → claimed by an idle worker, per broker, interleaved; two warm-up jobs each are dropped."""
    import httpx

    from tests.support.hub_http import auth, publish

    setups = [Setup(root, f"overhead-{b}", b, 1) for b in brokers]
    waits: dict[str, list[float]] = {s.broker: [] for s in setups}
    try:
        clients = {s.broker: httpx.Client(base_url=s.hub.url, timeout=60) for s in setups}
        for s in setups:
            r = clients[s.broker].post("/api/v1/repos", json={"namespace": "bench", "name": "q"}, headers=auth(s.token))
            r.raise_for_status()
        for i in range(jobs + 2):
            for s in setups if i % 2 == 0 else setups[::-1]:
                version = f"1.0.{i}"
                files = {"README.md": card(NO_SUCH_SET, body=f"job {i}\n")}
                answer = publish(clients[s.broker], s.token, "bench/q", version, files)
                if answer.status_code != 201:
                    raise RuntimeError(f"publish refused: {answer.text}")
                row = s.finished("bench/q", version, timeout=120)
                if row["status"] != "failed" or not row["started"]:
                    raise RuntimeError(f"job not claimed as expected: {row}")
                if i >= 2:  # the first jobs include the worker's own warm-up (its first claim imports torch)
                    waits[s.broker].append(_seconds(row, "queued", "started") * 1000)
        for c in clients.values():
            c.close()
    finally:
        for s in setups:
            s.close()
    names = {"embedded": "embedded broker (SQLite file)", "redis": "Redis broker"}
    for broker, values in waits.items():
        for label, q in (("p50", 0.5), ("p99", 0.99)):
            emit(
                {
                    "name": f"queue overhead {label}: job queued at publish → claimed by an idle worker, "
                    f"{names[broker]}, {len(values)} jobs",
                    "ours": round(_percentile(values, q), 1),
                    "reference": None,
                    "unit": "ms",
                    "goal": "report",
                    "ok": None,
                },
                interleaved=len(waits) > 1,
                threads=threads,
            )


def _tiny_world(root: Path) -> tuple[Path, Path, Path]:
    from adapters.card import read_card, write_card
    from tests.support.stack_fixtures import make_adapter, pin_adapter
    from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

    base = make_llama_dir(root / "tiny-base")
    data = root / "tiny-eval"
    data.mkdir()
    write_jsonl(data / "test.jsonl", copy_task_rows(8))
    lora = pin_adapter(make_adapter(base, root / "tiny-lora", "lora", seed=1), base)
    front = read_card(lora).front
    write_card(lora, {**front, **_front_of(card("bench/tiny-eval"))})
    return base, data, lora


def _front_of(text: bytes) -> dict:
    return json.loads(text.decode().split("\n")[1])


def throughput(root: Path, broker: str, evals: int, rounds: int, threads: int) -> None:
    """Evaluations per minute with one worker and with two: batches interleaved ABBA, medians."""
    base, data, lora = _tiny_world(root)
    setups = [Setup(root, "one-worker", broker, 1), Setup(root, "two-workers", broker, 2)]
    counter = {s.label: 0 for s in setups}

    def batch(s: Setup, size: int) -> float:
        repos = []
        started = time.perf_counter()
        with s.client() as client:
            for _ in range(size):
                counter[s.label] += 1
                repo = f"bench/tiny-{counter[s.label]}"
                client.push(lora, repo, "1.0.0")
                repos.append(repo)
        for repo in repos:
            row = s.finished(repo, "1.0.0")
            if row["status"] != "done":
                raise RuntimeError(f"{repo}: {row['reason']}")
        return size * 60.0 / (time.perf_counter() - started)

    try:
        for s in setups:
            with s.client() as client:
                client.push(base, "bench/tiny-base", "1.0.0", kind="base")
                client.push(data, "bench/tiny-eval", "1.0.0", kind="dataset")
            batch(s, max(2, len(s.workers.procs)))  # warm-up: torch imported, base and eval set cached
        rates: dict[str, list[float]] = {s.label: [] for s in setups}
        for i in range(rounds):
            for s in setups if i % 2 == 0 else setups[::-1]:
                rates[s.label].append(batch(s, evals))
    finally:
        for s in setups:
            s.close()
    one, two = statistics.median(rates["one-worker"]), statistics.median(rates["two-workers"])
    where = f"tiny LLaMA LoRA jobs, exact match on 8 rows, {broker} broker, batches of {evals}"
    emit(
        {
            "name": f"evaluations per minute, 1 worker ({where}, median of {rounds})",
            "ours": round(one, 1),
            "reference": None,
            "unit": "evals/min",
            "goal": "report",
            "ok": None,
        },
        interleaved=True,
        threads=threads,
    )
    emit(
        {
            "name": f"evaluations per minute, 2 workers vs 1 ({where}, median of {rounds})",
            "ours": round(two, 1),
            "reference": round(one, 1),
            "unit": "evals/min",
            "ratio": round(two / one, 3),
            "goal": "report",
            "ok": None,
        },
        interleaved=True,
        threads=threads,
    )


def _smollm_rows(n: int) -> list[dict]:
    words = ["cat", "dog", "sun", "moon", "tree", "fish", "red", "blue", "green", "stone"]
    return [
        {"prompt": f"Repeat the word exactly: {words[i % len(words)]}", "completion": words[i % len(words)]}
        for i in range(n)
    ]


def _smollm_lora(base: Path, out: Path) -> Path:
    """A LoRA (r 8 on the attention projections) as PEFT makes it before training (B = 0: it answers as the
    base does, so the verified score is the base's; its layers still run, as a trained one's would)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.support.stack_fixtures import pin_adapter

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    config = LoraConfig(
        r=8, lora_alpha=16, task_type="CAUSAL_LM", target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]
    )
    get_peft_model(model, config).save_pretrained(out)
    return pin_adapter(out, base)


def smollm(root: Path, broker: str, base_arg: str | None, rows: int, threads: int) -> None:
    """Push of a SmolLM2 LoRA → its verified exact match: worker cache empty, then with the base cached."""
    from adapters.base.default import ensure_default_base
    from adapters.card import read_card, write_card
    from tests.support.tiny_bases import write_jsonl

    base = Path(base_arg) if base_arg else ensure_default_base()
    data = root / "smol-eval"
    data.mkdir()
    write_jsonl(data / "test.jsonl", _smollm_rows(rows))
    lora = _smollm_lora(base, root / "smol-lora")
    write_card(lora, {**read_card(lora).front, **_front_of(card("bench/smol-eval"))})
    s = Setup(root, "smollm", broker, 1)
    found = []
    try:
        with s.client() as client:
            client.push(base, "bench/smollm2-135m-instruct", "1.0.0", kind="base")
            client.push(data, "bench/smol-eval", "1.0.0", kind="dataset")
            for repo in ("bench/smol-lora-cold", "bench/smol-lora-warm"):
                started = time.perf_counter()
                client.push(lora, repo, "1.0.0")
                row = s.finished(repo, "1.0.0")
                if row["status"] != "done":
                    raise RuntimeError(f"{repo}: {row['reason']}")
                found.append((time.perf_counter() - started, _seconds(row, "started", "finished"), row["value"]))
    finally:
        s.close()
    for (total, worker, value), cache in zip(
        found, ("empty worker cache: pulls the base by pin", "base cached"), strict=True
    ):
        emit(
            {
                "name": f"publish → verified exact match ({value:.2f}), SmolLM2-135M LoRA r8, {rows} rows, "
                f"{broker} broker, {cache} (reference: the worker's claim → result)",
                "ours": round(total, 2),
                "reference": round(worker, 2),
                "unit": "s",
                "goal": "report",
                "ok": None,
            },
            interleaved=False,
            threads=threads,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated: {', '.join(PARTS)}")
    parser.add_argument("--brokers", default=",".join(BROKERS), help="embedded, redis (overhead rows)")
    parser.add_argument("--overhead-jobs", type=int, default=40)
    parser.add_argument("--evals", type=int, default=8, help="jobs per throughput batch")
    parser.add_argument("--rounds", type=int, default=4, help="throughput batches per worker count")
    parser.add_argument("--smollm-rows", type=int, default=50)
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads of each worker (OMP_NUM_THREADS)")
    args = parser.parse_args()
    parts = [p for p in args.parts.split(",") if p]
    brokers = [b for b in args.brokers.split(",") if b]
    if set(parts) - set(PARTS) or set(brokers) - set(BROKERS):
        parser.error(f"parts are {', '.join(PARTS)}; brokers are {', '.join(BROKERS)}")
    if "redis" in brokers and not redis_up():
        print(f"note: no Redis server at {REDIS}: its rows are left out", file=sys.stderr)
        brokers.remove("redis")
    # the workers (subprocesses) inherit these: torch's threads, quiet progress, a cache of this run's own
    os.environ["OMP_NUM_THREADS"] = str(args.threads)
    os.environ["HUB_NO_PROGRESS"] = "1"
    root = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    os.environ["HUB_CACHE"] = str(root / "bench-cache")
    if {"throughput", "smollm"} & set(parts):
        import torch  # this process builds the adapters: the same thread count as the workers

        torch.set_num_threads(args.threads)
    steady = "redis" if "redis" in brokers else "embedded"
    try:
        if "overhead" in parts:
            overhead(root, brokers, args.overhead_jobs, args.threads)
        if "throughput" in parts:
            throughput(root, steady, args.evals, args.rounds, args.threads)
        if "smollm" in parts:
            smollm(root, steady, args.base, args.smollm_rows, args.threads)
    except Exception as exc:  # noqa: BLE001 - one line, and a failed run
        print(f"bench_queue failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
