"""The serving bench's further rows (run by ``bench/bench_serve.py`` on its base and LoRAs): throughput at
1/8/32 clients on 1/8/32 distinct LoRAs against the same clients on the base, time to first token, a cold adapter
(pull + check + load) vs a warm one, RSS per loaded adapter, and a stack of 8 LoRAs unmerged vs merged.

Every comparison is interleaved (ABBA rotations, medians) and checks that both sides did the same work (the
same number of tokens; the same tokens where the two sides compute the same thing)."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.figures import child_result, emit, interleaved, print_child_result

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = (1, 8, 32)
DISTINCT = (1, 8, 32)
CHART = ROOT / "bench" / "serve_throughput.png"


def make_loras(base_dir: Path, out: Path, count: int) -> list[Path]:
    """``count`` rank-8 LoRAs on q/k/v/o with different random weights, pinned to the base (one model load)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tests.support.stack_fixtures import pin_adapter

    model = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
    cfg = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"],
        task_type="CAUSAL_LM",
        init_lora_weights=False,
    )
    peft = get_peft_model(model, cfg)
    paths = []
    for i in range(count):
        torch.manual_seed(i)
        with torch.no_grad():
            for name, p in peft.named_parameters():
                if "lora_" in name:
                    p.normal_(0, 0.02)
        peft.save_pretrained(out / f"lora{i}")
        paths.append(pin_adapter(out / f"lora{i}", base_dir))
    return paths


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def more_rows(args: Any, base_dir: Path, model: Any, runtime: Any, tok: Any, loras: list[Path], tmp: Path) -> int:
    import torch

    from bench.bench_serve import PROMPTS
    from hub_serving.engine import Done, Engine
    from hub_serving.sampling import SamplingParams

    threads = torch.get_num_threads()
    common = {"base": base_dir.name}

    # -- memory per loaded adapter: RSS after loading 24 more LoRAs (32 in all) ----------------------
    before = _rss()
    for i, path in enumerate(loras):
        runtime.add(f"l{i}", path)
    per = (_rss() - before) / (len(loras) - 8)
    file_bytes = (loras[8] / "adapter_model.safetensors").stat().st_size
    emit(
        {
            "name": "serve RSS per loaded rank-8 LoRA (q,k,v,o) vs its safetensors file",
            "ours": round(per / 1e6, 3),
            "reference": round(file_bytes / 1e6, 3),
            "unit": "MB",
            "ratio": round(per / file_bytes, 3),
            "goal": "report",
            "ok": None,
            "loaded": len(loras) - 8,
            # the tensors the runtime holds; RSS can grow by less when freed pages are reused
            "held_mb": round(runtime.adapters["l8"].nbytes() / 1e6, 3),
            **common,
        },
        interleaved=False,
        threads=threads,
    )

    # -- throughput grid and time to first token ---------------------------------------------------
    n = args.grid_tokens
    ids = [tok(p)["input_ids"] for p in PROMPTS]
    length = min(len(i) for i in ids)
    ids = [i[:length] for i in ids]
    engine = Engine(runtime, tok, max_batch_size=32)
    engine.eos = set()
    engine.start()
    params = SamplingParams(max_tokens=n, temperature=0.0)

    async def clients(adapters: list[str | None]) -> dict:
        async def one(adapter, prompt):
            start, first, out = time.perf_counter(), None, []
            async for event in engine.submit(adapter, prompt, params):
                if isinstance(event, Done):
                    break
                first = first or time.perf_counter() - start
                out.append(event.choice.token)
            return first, out

        start = time.perf_counter()
        got = await asyncio.gather(*[one(a, ids[i % len(ids)]) for i, a in enumerate(adapters)])
        wall = time.perf_counter() - start
        tokens = sum(len(o) for _, o in got)
        assert tokens == n * len(adapters), (tokens, n, len(adapters))  # the same work on every side
        return {"tps": tokens / wall, "ttft": [f for f, _ in got]}

    cells = {(c, 0): [None] * c for c in CLIENTS}
    cells.update({(c, a): [f"l{i % a}" for i in range(c)] for c in CLIENTS for a in DISTINCT if a <= c})
    for fn in cells.values():
        asyncio.run(clients(fn))  # warm up (each set of rows' gathered factors built once)
    results = interleaved(
        {key: (lambda adapters=adapters: asyncio.run(clients(adapters))) for key, adapters in cells.items()},
        args.grid_runs,
    )
    engine.stop()
    tps = {key: statistics.median(r["tps"] for r in runs) for key, runs in results.items()}
    for (c, a), value in tps.items():
        if a == 0:
            continue
        ratio = value / tps[(c, 0)]
        emit(
            {
                "name": f"serve throughput, {c} clients on {a} distinct LoRAs vs {c} on the base, {n} tok each",
                "ours": round(value, 2),
                "reference": round(tps[(c, 0)], 2),
                "unit": "tok/s",
                "ratio": round(ratio, 3),
                "goal": "report",
                "ok": None,
                "runs": args.grid_runs,
                "new_tokens": n,
                "prompt_tokens": length,
                **common,
            },
            interleaved=True,
            threads=threads,
        )
    ttft = {a: [t for r in results[(32, a)] for t in r["ttft"]] for a in (0, 32)}
    for q, label in ((0.5, "p50"), (0.99, "p99")):
        ours, ref = _pct(ttft[32], q), _pct(ttft[0], q)
        emit(
            {
                "name": f"serve time to first token {label}, 32 clients on 32 LoRAs vs 32 on the base",
                "ours": round(ours, 3),
                "reference": round(ref, 3),
                "unit": "s",
                "ratio": round(ours / ref, 3),
                "goal": "report",
                "ok": None,
                "samples": len(ttft[32]),
                **common,
            },
            interleaved=True,
            threads=threads,
        )
    _chart(tps, n, threads)

    # -- cold adapter (pull + pin check + load) vs warm ---------------------------------------------
    _cold_vs_warm(args, runtime, tok, loras[0], base_dir, threads, common)

    # -- one request on a stack of 8 LoRAs: unmerged (fused) vs merged -----------------------------
    stack_rows(args, base_dir, loras[:8], threads, common)
    return 0


def _chart(tps: dict, n: int, threads: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.6))
    for c in CLIENTS:
        xs = [a for a in DISTINCT if a <= c]
        ax.plot(xs, [tps[(c, a)] for a in xs], marker="o", label=f"{c} clients")
        ax.axhline(tps[(c, 0)], linestyle=":", linewidth=1, color=ax.lines[-1].get_color())
    ax.set_xscale("log", base=2)
    ax.set_xticks(DISTINCT, [str(a) for a in DISTINCT])
    ax.set_xlabel("distinct LoRAs in flight (dotted: same clients on the bare base)")
    ax.set_ylabel("tokens/s")
    ax.set_title(f"hub serve-model throughput, {n} new tokens per request, {threads} torch thread(s)", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(CHART, dpi=110)
    plt.close(fig)


def _cold_vs_warm(args: Any, runtime: Any, tok: Any, lora: Path, base_dir: Path, threads: int, common: dict) -> None:
    from adapters import pin_for
    from hub_client import HubClient
    from hub_serving.adapter_cache import AdapterCache
    from hub_serving.engine import Done, Engine
    from hub_serving.sampling import SamplingParams
    from tests.support.hub_process import HubProcess

    hub = HubProcess(Path(tempfile.mkdtemp(prefix="bench-serve-hub-"))).start()
    cache_dir = Path(tempfile.mkdtemp(prefix="bench-serve-cache-"))
    try:
        token = hub.token("alice")
        with HubClient(hub.url, token, progress=False) as client:
            client.push(lora, "alice/cold", "1.0.0")
            client.push(lora, "alice/warm", "1.0.0")
        os.environ["HUB_CACHE"] = str(cache_dir)
        cache = AdapterCache(runtime, pin_for(base_dir), 64, lambda: HubClient(hub.url, token, progress=False))
        engine = Engine(runtime, tok, max_batch_size=4)
        engine.start()
        prompt = tok(PROMPT_SHORT)["input_ids"]
        params = SamplingParams(max_tokens=1, temperature=0.0)

        async def ask(key: str) -> None:
            async for event in engine.submit(key, prompt, params):
                if isinstance(event, Done):
                    return

        def first_request(model: str, cold: bool) -> float:
            start = time.perf_counter()
            lease = cache.acquire(model)
            asyncio.run(ask(lease.key))
            cache.release(lease)
            took = time.perf_counter() - start
            if cold:  # forget it: out of the cache, out of the runtime, off the disk
                slot = cache._slots.pop(lease.key)
                runtime.remove(lease.key)
                shutil.rmtree(slot.path, ignore_errors=True)
            return took

        first_request("alice/warm@1.0.0", cold=False)
        times = interleaved(
            {
                "cold": lambda: first_request("alice/cold@1.0.0", True),
                "warm": lambda: first_request("alice/warm@1.0.0", False),
            },
            args.grid_runs + 2,
        )
        engine.stop()
    finally:
        hub.close()
        shutil.rmtree(cache_dir, ignore_errors=True)
    cold, warm = statistics.median(times["cold"]), statistics.median(times["warm"])
    emit(
        {
            "name": "serve first request (1 tok) on a cold adapter (resolve + pull + pin check + load) vs a warm one",
            "ours": round(cold, 4),
            "reference": round(warm, 4),
            "unit": "s",
            "ratio": round(cold / warm, 2),
            "goal": "report",
            "ok": None,
            "runs": args.grid_runs + 2,
            **common,
        },
        interleaved=True,
        threads=threads,
    )


PROMPT_SHORT = "Write a short poem about the sea. Use simple words, name two colours and end with a question."


def stack_rows(args: Any, base_dir: Path, loras: list[Path], threads: int, common: dict) -> None:
    """One request on a stack of 8 LoRAs, unmerged (fused) vs merged, each prompt length a row.

    Each of ``--stack-processes`` fresh processes loads both models and times both sides (ABBA, medians); the
    row is the median of their ratios. Why: inside one process the ratio is steady, but between processes it
    moves by up to 10 % (1.04 to 1.14 seen on one commit: where the factors and weights land in memory), more
    than the effect measured, so one process is one sample."""
    lengths = sorted({int(n) for n in args.stack_prompts.split(",")})
    n = args.new_tokens
    processes = max(1, args.stack_processes)
    samples = [_stack_child(base_dir, loras, lengths, n, args.runs, threads) for _ in range(processes)]
    for length in lengths:
        ratios = [s[str(length)]["ours"] / s[str(length)]["reference"] for s in samples]
        ratio = statistics.median(ratios)
        ours = statistics.median(s[str(length)]["ours"] for s in samples)
        ref = statistics.median(s[str(length)]["reference"] for s in samples)
        emit(
            {
                "name": f"one request on a stack of 8 LoRAs, unmerged (fused) vs merged, {length}-token prompt, {n} tok",
                "ours": round(ours, 3),
                "reference": round(ref, 3),
                "unit": "s",
                "ratio": round(ratio, 3),
                "goal": "<= 1.10",
                "ok": ratio <= 1.10,
                "runs": args.runs,
                "processes": processes,
                "process_ratios": [round(r, 3) for r in ratios],
                "new_tokens": n,
                "prompt_tokens": length,
                **common,
            },
            interleaved=True,
            threads=threads,
        )


def _stack_child(base_dir: Path, loras: list[Path], lengths: list[int], n: int, runs: int, threads: int) -> dict:
    """``measure_stack`` in a fresh process: its medians by prompt length."""
    args = ["bench.serve_rows", "--base", str(base_dir), "--new-tokens", str(n), "--runs", str(runs)]
    args += ["--threads", str(threads), "--lengths", ",".join(map(str, lengths)), *map(str, loras)]
    return child_result(args, "the stack-of-8 sample")


def measure_stack(base_dir: Path, loras: list[Path], lengths: list[int], n: int, runs: int) -> dict:
    """Medians of one request on the stack unmerged and merged, per prompt length, after checking that both
    generate the same tokens."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adapters.runtime.generation import greedy_generate
    from adapters.runtime.stack import AdapterStack

    tok = AutoTokenizer.from_pretrained(base_dir)

    def load():
        return AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()

    hooked, merged = AdapterStack(load(), tok), AdapterStack(load(), tok)
    for path in loras:
        hooked.add(path)
        merged.add(path)
    merged.merge()
    text = tok(" ".join([PROMPT_SHORT] * 40))["input_ids"]
    out = {}
    for length in lengths:
        ids = text[:length]
        x = torch.tensor([ids])
        mask = torch.ones_like(x)

        @torch.no_grad()
        def run(model, x=x, mask=mask):
            return greedy_generate(model, x, mask, n, None)

        same = run(hooked.model), run(merged.model)
        assert torch.equal(same[0], same[1]), "unmerged and merged stacks generate different tokens"
        assert same[0].shape[-1] == n
        times = interleaved(
            {"unmerged": lambda: _timed(run, hooked.model), "merged": lambda: _timed(run, merged.model)}, runs
        )
        out[str(length)] = {
            "ours": statistics.median(times["unmerged"]),
            "reference": statistics.median(times["merged"]),
        }
    return out


def _timed(fn, *a) -> float:
    start = time.perf_counter()
    fn(*a)
    return time.perf_counter() - start


def main() -> int:
    """The stack child: ``measure_stack`` on the given LoRAs, printed for ``child_result``."""
    parser = argparse.ArgumentParser(description="one process's sample of the stack-of-8 rows")
    parser.add_argument("--base", required=True)
    parser.add_argument("--new-tokens", type=int, default=24)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lengths", default="20,200")
    parser.add_argument("loras", nargs="+")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    lengths = [int(n) for n in args.lengths.split(",")]
    found = measure_stack(Path(args.base), [Path(p) for p in args.loras], lengths, args.new_tokens, args.runs)
    print_child_result(found)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
