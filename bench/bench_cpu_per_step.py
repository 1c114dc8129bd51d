"""CPU time per decode step: the base vs the same base with 8 rank-8 LoRAs stacked and fused (hooked, not
merged: one low-rank pair per module), on SmolLM2 (or ``--base DIR``).

Each decode step is one forward of one new token against the KV cache, timed with ``time.thread_time``
(CPU seconds of the calling thread), so torch runs on ONE thread here: with more threads part of the work
would run on threads this clock does not see. Both sides decode the same token sequence (the base's own
greedy tokens, fed to both), so they do the same work. Blocks of ``--block`` steps alternate ABBA (base,
stacked, stacked, base, ...), each block from a fresh prefill (not timed), until each side has ``--steps``
steps; the figure is the ratio of the per-step medians. Before timing, the stacked model's logits must
differ from the base's (the LoRAs are really applied) and the stack must hold all 8 adapters.

    python -m bench.bench_cpu_per_step --steps 200 --block 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import emit, interleaved

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--adapters", type=int, default=8)
    parser.add_argument("--steps", type=int, default=200, help="decode steps timed per side")
    parser.add_argument("--block", type=int, default=20, help="decode steps per block; blocks alternate ABBA")
    args = parser.parse_args()

    import torch
    from bench_latency import make_lora
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from adapters.base.default import ensure_default_base
    from adapters.runtime.generation import cache_argument, greedy_generate, output_cache
    from adapters.runtime.stack import AdapterStack

    torch.set_num_threads(1)
    base_dir = Path(args.base) if args.base else ensure_default_base()
    tok = AutoTokenizer.from_pretrained(base_dir)
    enc = tok("Write a short poem about the sea.", return_tensors="pt")

    def load():
        return AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32).eval()

    base_model, work = load(), load()
    tmp = Path(tempfile.mkdtemp(prefix="bench-cpu-step-"))
    loras = [make_lora(load(), tmp / f"lora{i}", i) for i in range(args.adapters)]
    stack = AdapterStack(work, tok)
    for path in loras:
        stack.add(path, weight=1.0)
    factors = sum(p.numel() * p.element_size() for path in loras for p in _lora_tensors(path))
    with torch.no_grad():
        # the same tokens for both sides: the base's greedy continuation
        tokens = greedy_generate(base_model, enc["input_ids"], enc["attention_mask"], args.block)
        base_logits = base_model(**enc).logits
        stacked_logits = stack.model(**enc).logits
    moved = float((stacked_logits - base_logits).abs().max())
    if len(stack.entries) != args.adapters or moved < 1e-4:
        print(
            f"the stack does not change the output (largest logit change {moved:.2e}, "
            f"{len(stack.entries)} adapters): nothing to time",
            file=sys.stderr,
        )
        return 1

    @torch.no_grad()
    def block(model) -> list[float]:
        """CPU seconds of each decode step of one block (the prefill is not timed)."""
        mask = enc["attention_mask"]
        out = model(input_ids=enc["input_ids"], attention_mask=mask, use_cache=True)
        times = []
        cache_name = cache_argument(model)  # `cache` or `past_key_values`, as this transformers names it
        for i in range(tokens.shape[1]):
            token = tokens[:, i : i + 1]
            mask = torch.cat([mask, torch.ones_like(token)], dim=1)
            started = time.thread_time()
            out = model(input_ids=token, attention_mask=mask, use_cache=True, **{cache_name: output_cache(out)})
            times.append(time.thread_time() - started)
        return times

    blocks = max(1, -(-args.steps // args.block))
    block(base_model), block(stack.model)  # warm-up, not counted
    runs = interleaved({"base": lambda: block(base_model), "stacked": lambda: block(stack.model)}, blocks)
    per_step = {side: [t for b in values for t in b] for side, values in runs.items()}
    med = {side: statistics.median(values) for side, values in per_step.items()}
    ratio = med["stacked"] / med["base"]
    print(
        f"{blocks} blocks of {tokens.shape[1]} steps per side, ABBA, torch on 1 thread; "
        f"LoRA factors {factors / 1e6:.1f} MB",
        file=sys.stderr,
    )
    for side, values in per_step.items():
        print(f"{side:8} median {med[side] * 1000:.3f} ms CPU per step (n={len(values)})", file=sys.stderr)
    emit(
        {
            "name": f"decode step CPU time (time.thread_time), {args.adapters} fused rank-8 LoRAs vs base, "
            f"{len(per_step['base'])} steps each ({factors / 1e6:.1f} MB of factors)",
            "ours": round(med["stacked"] * 1000, 3),
            "reference": round(med["base"] * 1000, 3),
            "unit": "ms CPU",
            "ratio": round(ratio, 3),
            "goal": "report",
            "ok": None,
        },
        interleaved=True,
        threads=1,
    )
    return 0


def _lora_tensors(path: Path):
    from safetensors.torch import load_file

    return load_file(str(path / "adapter_model.safetensors")).values()


if __name__ == "__main__":
    raise SystemExit(main())
