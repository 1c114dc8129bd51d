"""Serving many adapters at once: 8 concurrent requests on 8 different LoRAs vs 8 on the bare base, through
the model server's engine (continuous batching, grouped low-rank products per adapter), with PEFT's
mixed-batch ``generate(adapter_names=[...])`` and plain transformers ``generate`` on the base timed in the
same rotation. Same prompts, same lengths (EOS ignored), greedy; interleaved rotations, medians.

Goals (issue 24): ours with 8 LoRAs ≤ 1.15× ours on the base; our overhead ≤ ½ of PEFT's (PEFT mixed batch
vs transformers on the base). Rows carry the time, load average and torch thread count.

Then, on the same base (``bench/serve_rows.py``): throughput (tokens/s) at 1, 8, 32 concurrent clients on 1, 8,
32 distinct LoRAs, each against the same clients on the bare base (short generations, ``--grid-tokens``);
time to first token p50/p99 at 32 clients; a cold adapter (pull from a real hub + pin check + load) vs a warm
one; memory (RSS) per loaded adapter; and one request on a stack of 8 LoRAs unmerged (fused: one
concatenated low-rank pair per module) vs the same stack merged, with a ~20- and a ~200-token prompt, sampled
in ``--stack-processes`` fresh processes (the row is the median of their ratios). It
draws ``bench/serve_throughput.png`` (tokens/s against distinct adapters).

    python -m bench.bench_serve [--base DIR] [--runs 5] [--new-tokens 24] [--threads 1] [--grid-tokens 8]
                                [--skip-mixed | --only-stack]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import emit

ROOT = Path(__file__).resolve().parent.parent

PROMPTS = [
    "Write a short poem about the sea.",
    "Name three colours of the sky.",
    "What is a river made of?",
    "Tell me about mountains today.",
    "Give one reason to read books.",
    "Describe a cat in few words.",
    "Why do birds sing at dawn?",
    "List some fruits that are red.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--new-tokens", type=int, default=24)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 keeps ratios steady)")
    parser.add_argument("--grid-runs", type=int, default=5, help="rotations of the throughput grid")
    parser.add_argument("--grid-tokens", type=int, default=8, help="new tokens per request in the grid")
    parser.add_argument("--skip-mixed", action="store_true", help="only the rows of bench/serve_rows.py")
    parser.add_argument("--only-stack", action="store_true", help="only the stack-of-8 unmerged vs merged rows")
    parser.add_argument("--stack-prompts", default="20,200", help="prompt lengths of the stack rows")
    parser.add_argument(
        "--stack-processes", type=int, default=5, help="fresh processes the stack rows are sampled in (median)"
    )
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adapters import load_base
    from adapters.base.default import ensure_default_base
    from adapters.runtime.batched import BatchedRuntime
    from hub_serving.engine import Done, Engine
    from hub_serving.sampling import SamplingParams

    if args.threads:
        torch.set_num_threads(args.threads)
    base_dir = Path(args.base) if args.base else ensure_default_base()
    n = args.new_tokens
    tmp = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    from bench.serve_rows import make_loras, more_rows

    tok = AutoTokenizer.from_pretrained(base_dir)
    if args.only_stack:
        from bench.serve_rows import stack_rows

        stack_rows(args, base_dir, make_loras(base_dir, tmp, 8), torch.get_num_threads(), {"base": base_dir.name})
        return 0
    loras = make_loras(base_dir, tmp, 32)
    # same length for every prompt: cut to the shortest
    ids = [tok(p)["input_ids"] for p in PROMPTS]
    length = min(len(i) for i in ids)
    ids = [i[:length] for i in ids]

    model, _ = load_base(base_dir)
    runtime = BatchedRuntime(model)
    for i, path in enumerate(loras[:8]):
        runtime.add(f"l{i}", path)
    if args.skip_mixed:
        return more_rows(args, base_dir, model, runtime, tok, loras, tmp)
    engine = Engine(runtime, tok, max_batch_size=8)
    engine.eos = set()  # every request runs its full length
    engine.start()
    params = SamplingParams(max_tokens=n, temperature=0.0)

    async def eight(adapters: list[str | None]) -> list[list[int]]:
        async def one(adapter, prompt):
            out = []
            async for event in engine.submit(adapter, prompt, params):
                if isinstance(event, Done):
                    return out
                out.append(event.choice.token)
            return out

        return await asyncio.gather(*[one(a, p) for a, p in zip(adapters, ids, strict=True)])

    from peft import PeftModel

    peft = PeftModel.from_pretrained(
        AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32), loras[0], adapter_name="l0"
    ).eval()
    for i, path in enumerate(loras[1:8], 1):
        peft.load_adapter(path, adapter_name=f"l{i}")
    plain = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()
    batch = torch.tensor(ids)
    mask = torch.ones_like(batch)
    gen_kw = {"max_new_tokens": n, "min_new_tokens": n, "do_sample": False, "pad_token_id": tok.pad_token_id or 0}

    arms = {
        "ours_base": lambda: asyncio.run(eight([None] * 8)),
        "ours_8_loras": lambda: asyncio.run(eight([f"l{i}" for i in range(8)])),
        "hf_base": lambda: plain.generate(input_ids=batch, attention_mask=mask, **gen_kw),
        "peft_8_loras": lambda: peft.generate(
            input_ids=batch, attention_mask=mask, adapter_names=[f"l{i}" for i in range(8)], **gen_kw
        ),
    }
    for fn in arms.values():  # warm up
        fn()
    times: dict[str, list[float]] = {k: [] for k in arms}
    order = list(arms)
    with torch.no_grad():
        for run in range(args.runs):
            for name in order if run % 2 == 0 else order[::-1]:  # interleaved, alternating direction
                start = time.perf_counter()
                arms[name]()
                times[name].append(time.perf_counter() - start)
    engine.stop()
    med = {k: statistics.median(v) for k, v in times.items()}
    ours = med["ours_8_loras"] / med["ours_base"]
    peft_ratio = med["peft_8_loras"] / med["hf_base"]
    common = {"runs": args.runs, "new_tokens": n, "prompt_tokens": length, "base": base_dir.name}
    rows = [
        {
            "name": f"serve 8 requests on 8 LoRAs vs 8 on the base (engine), {n} tok",
            "ours": round(med["ours_8_loras"], 3),
            "reference": round(med["ours_base"], 3),
            "unit": "s",
            "ratio": round(ours, 3),
            "goal": "<= 1.15",
            "ok": ours <= 1.15,
        },
        {
            "name": f"PEFT mixed batch generate(adapter_names) 8 LoRAs vs transformers on the base, {n} tok",
            "ours": round(med["peft_8_loras"], 3),
            "reference": round(med["hf_base"], 3),
            "unit": "s",
            "ratio": round(peft_ratio, 3),
            "goal": "report",
            "ok": None,
        },
        {
            "name": "serve overhead of 8 LoRAs as a share of PEFT's",
            "ours": round(ours - 1, 3),
            "reference": round(peft_ratio - 1, 3),
            "unit": "x-1",
            "ratio": round((ours - 1) / (peft_ratio - 1), 3) if peft_ratio > 1 else None,
            "goal": "<= 0.5",
            "ok": (ours - 1) <= 0.5 * (peft_ratio - 1) if peft_ratio > 1 else None,
        },
        {
            "name": f"serve engine on the base vs transformers generate on the base, 8 x {n} tok",
            "ours": round(med["ours_base"], 3),
            "reference": round(med["hf_base"], 3),
            "unit": "s",
            "ratio": round(med["ours_base"] / med["hf_base"], 3),
            "goal": "report",
            "ok": None,
        },
    ]
    for row in rows:
        emit({**row, **common}, interleaved=True, threads=torch.get_num_threads())
    return more_rows(args, base_dir, model, runtime, tok, loras, tmp)


if __name__ == "__main__":
    sys.exit(main())
