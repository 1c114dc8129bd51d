"""QLoRA: LoRA training on the fp32 base vs the NF4 base (bitsandbytes), side by side.

Each variant trains in a fresh subprocess (the sentiment task, the same data, steps and seed), so peak RSS
is that process's own high-water mark (VmHWM) and nothing of the other variant's memory is counted.
Figures:

* peak RSS of the whole training process, NF4 / fp32 (goal <= 0.5), and the same above the process's
  baseline after importing torch/transformers/peft/bitsandbytes (what the model and training add)
* seconds per optimisation step (the training loop only), NF4 / fp32 (reported, no goal)
* held-out exact match on examples/sentiment/eval.jsonl: the NF4-trained adapter on the NF4 base, and on
  the fp32 base, vs the fp32-trained adapter on the fp32 base (goal: within 0.05)

    python -m bench.bench_qlora [--base DIR] [--steps N] [--quantize nf4|int8]
"""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from bench.figures import child_result, interleaved, print_child_result
from bench.figures import emit as emit_row

ROOT = Path(__file__).resolve().parent.parent
SENTIMENT = ROOT / "examples" / "sentiment"


def peak_rss() -> int:
    """This process image's high-water RSS in bytes (VmHWM; ru_maxrss would carry the parent's across exec)."""
    import resource

    with open("/proc/self/status") as status:
        hwm = [line for line in status if line.startswith("VmHWM:")]
    return int(hwm[0].split()[1]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(base: str, quantize: str | None, out: str, steps: int | None, batch_size: int) -> None:
    """Train one variant, then (after the peak is read) evaluate it; prints one JSON line."""
    # the libraries are imported first: their memory is the baseline, not the training
    import bitsandbytes  # noqa: F401
    import peft  # noqa: F401
    import psutil
    import torch
    import transformers  # noqa: F401

    from adapters.evaluation.heldout import evaluate
    from adapters.training import train

    baseline = psutil.Process().memory_info().rss
    result = train(
        base,
        "lora",
        SENTIMENT / "train.jsonl",
        out,
        quantize=quantize,
        max_steps=steps,
        batch_size=batch_size,
        progress=False,
    )
    peak = peak_rss()
    steps_done = result.steps
    seconds = result.settings["train_runtime_s"]
    del result
    held = SENTIMENT / "eval.jsonl"
    found = {
        "baseline": baseline,
        "peak": peak,
        "steps": steps_done,
        "torch_threads": torch.get_num_threads(),
        "s_per_step": seconds / max(steps_done, 1),
        "exact_match": evaluate(base, held, [out], quantize=quantize, progress=False).exact_match,
    }
    if quantize:
        found["exact_match_on_fp32"] = evaluate(base, held, [out], progress=False).exact_match
    print_child_result(found)


def run_child(base: str, quantize: str | None, out: Path, steps: int | None, batch_size: int) -> dict:
    # as a module from the repository root, as run_all.py starts every bench
    args = ["bench.bench_qlora", "--child", quantize or "fp32", "--base", base, "--out", str(out)]
    args += ["--batch-size", str(batch_size)] + (["--steps", str(steps)] if steps is not None else [])
    return child_result(args, f"the {quantize or 'fp32'} run")


def emit(
    name: str,
    ours: float,
    ref: float | None,
    unit: str,
    goal: str,
    ok: bool | None,
    ratio=None,
    threads: int | None = None,
) -> None:
    if ratio is None and ref:
        ratio = round(ours / ref, 3)
    row = {
        "name": name,
        "ours": round(ours, 4),
        "reference": None if ref is None else round(ref, 4),
        "unit": unit,
        "ratio": ratio,
        "goal": goal,
        "ok": ok,
    }
    ref_text = "-" if ref is None else f"{ref:.3f}"
    print(f"{name:<48} {ours:>10.3f} {ref_text:>10} {ratio!s:>7}  {goal}", file=sys.stderr)
    emit_row(row, interleaved=True, threads=threads)


def _median_run(runs: list[dict]) -> dict:
    """Each figure's median over one side's trainings (every run of a side trains the same steps)."""
    keys = [key for key in runs[0] if all(key in run for run in runs)]
    return {
        key: statistics.median(run[key] for run in runs) if isinstance(runs[0][key], (int, float)) else runs[0][key]
        for key in keys
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps (default: one epoch, as hub train)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--repeats",
        type=int,
        default=2,
        help="trainings per side, interleaved ABBA (fp32, nf4, nf4, fp32, ...); medians reported",
    )
    parser.add_argument("--quantize", choices=("nf4", "int8"), default="nf4")
    parser.add_argument("--child", choices=("fp32", "nf4", "int8"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.base, None if args.child == "fp32" else args.child, args.out, args.steps, args.batch_size)
        return

    import torch

    from adapters.base.default import ensure_default_base

    base = str(args.base or ensure_default_base())
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    tmp = Path(tempfile.mkdtemp(prefix="bench-qlora-"))
    try:
        counter = iter(range(1 << 30))
        runs = interleaved(
            {
                "fp32": lambda: run_child(base, None, tmp / f"fp32-{next(counter)}", args.steps, args.batch_size),
                "quant": lambda: run_child(
                    base, args.quantize, tmp / f"{args.quantize}-{next(counter)}", args.steps, args.batch_size
                ),
            },
            args.repeats,
        )
        full, quant = _median_run(runs["fp32"]), _median_run(runs["quant"])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    q = args.quantize
    say = functools.partial(emit, threads=full.get("torch_threads"))
    mib = 1024 * 1024
    print(
        f"device: {device}; {full['steps']} steps at batch {args.batch_size} each; {args.repeats} trainings per "
        "side, interleaved, medians",
        file=sys.stderr,
    )
    print(f"{'figure':<48} {'ours':>10} {'reference':>10} {'ratio':>7}  goal", file=sys.stderr)
    say(
        f"LoRA training peak RSS, {q} vs fp32 ({device})",
        quant["peak"] / mib,
        full["peak"] / mib,
        "MiB",
        "<= 0.5",
        quant["peak"] <= 0.5 * full["peak"],
    )
    above_q, above_f = quant["peak"] - quant["baseline"], full["peak"] - full["baseline"]
    say("  same, above the imported-libraries baseline", above_q / mib, above_f / mib, "MiB", "reported", None)
    say(f"LoRA training s/step, {q} vs fp32 ({device})", quant["s_per_step"], full["s_per_step"], "s", "reported", None)
    gap = quant["exact_match"] - full["exact_match"]
    say(
        f"sentiment exact match, {q} adapter on {q} base vs fp32",
        quant["exact_match"],
        full["exact_match"],
        "EM",
        "within 0.05",
        abs(gap) <= 0.05 + 1e-9,
        ratio=round(gap, 3),
    )
    if "exact_match_on_fp32" in quant:
        gap = quant["exact_match_on_fp32"] - full["exact_match"]
        say(
            f"sentiment exact match, {q} adapter on fp32 base vs fp32",
            quant["exact_match_on_fp32"],
            full["exact_match"],
            "EM",
            "within 0.05",
            abs(gap) <= 0.05 + 1e-9,
            ratio=round(gap, 3),
        )


if __name__ == "__main__":
    main()
