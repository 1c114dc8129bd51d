"""Reproduce the DPO figures: preferred-answer rate on the held-out pairs before, a LoRA trained with DPO,
and the rate after (plus the mean reward margin against the base).

    python examples/preferences/reproduce.py [--base DIR] [--steps N] [--quantize nf4] [--out DIR]

The held-out pairs ask about other subjects than the training pairs (see make_data.py), so a gain there
is the style generalising, not the rows being remembered.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
DEFAULT_STEPS = 10
DEFAULT_LR = 3e-3


def reproduce(
    base: str | Path,
    out: Path,
    *,
    steps: int = DEFAULT_STEPS,
    train_limit: int | None = None,
    held_limit: int | None = None,
    quantize: str | None = None,
    lr: float = DEFAULT_LR,
    batch_size: int = 4,
    progress: bool = True,
) -> dict:
    """Train and measure; returns the figures (``before``, ``after``: EvalResult; ``seconds``, ``steps``)."""
    from adapters.evaluation.heldout import evaluate
    from adapters.training import train

    work = Path(tempfile.mkdtemp(prefix="preferences-"))
    try:
        train_file, held_file = work / "train.jsonl", work / "heldout.jsonl"
        _head(HERE / "train.jsonl", train_file, train_limit)
        _head(HERE / "heldout.jsonl", held_file, held_limit)
        before = evaluate(base, held_file, progress=progress, quantize=quantize)
        started = time.perf_counter()
        result = train(
            base,
            "lora",
            train_file,
            out,
            objective="dpo",
            quantize=quantize,
            max_steps=steps,
            lr=lr,
            batch_size=batch_size,
            eval_data=held_file,
            progress=progress,
        )
        seconds = time.perf_counter() - started
        after = evaluate(base, held_file, [out], progress=progress, quantize=quantize)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"before": before, "after": after, "seconds": seconds, "steps": result.steps}


def _head(source: Path, dest: Path, limit: int | None) -> None:
    lines = [line for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    dest.write_text("\n".join(lines[:limit]) + "\n", encoding="utf-8")


def main() -> None:
    from adapters.base.default import ensure_default_base

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--out", default=None, help="where to keep the adapter (default: a temp dir)")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--quantize", choices=("nf4", "int8"), default=None)
    args = parser.parse_args()
    base = args.base or str(ensure_default_base())
    scratch = Path(tempfile.mkdtemp(prefix="dpo-"))
    out = Path(args.out) if args.out else scratch / "dpo-lora"
    try:
        found = reproduce(base, out, steps=args.steps, quantize=args.quantize)
    finally:
        if not args.out:
            shutil.rmtree(scratch, ignore_errors=True)
    before, after = found["before"], found["after"]
    print(f"preferred-answer rate before: {before.preferred_rate:.2f}  ({before.n} held-out pairs)")
    print(
        f"dpo lora training: {found['steps']} steps in {found['seconds']:.0f} s"
        + (f" on a {args.quantize} base" if args.quantize else "")
    )
    print(
        f"preferred-answer rate after:  {after.preferred_rate:.2f}  "
        f"(gain {after.preferred_rate - before.preferred_rate:+.2f}, mean reward margin {after.reward_margin:.3f}, "
        f"beta {after.beta:g})"
    )


if __name__ == "__main__":
    main()
