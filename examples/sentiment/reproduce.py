"""Reproduce the sentiment figures: exact match of the base before, a default LoRA, exact match after.

    python examples/sentiment/reproduce.py [--base DIR] [--out DIR]

Prints one line per figure and the wall time of the training run (default settings throughout).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    from adapters.base.default import ensure_default_base
    from adapters.evaluation.heldout import evaluate
    from adapters.training import train

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default=None, help="base model dir (default: SmolLM2-135M-Instruct)")
    parser.add_argument("--out", default=None, help="where to keep the adapter (default: a temp dir)")
    args = parser.parse_args()
    base = args.base or str(ensure_default_base())
    held_out = HERE / "eval.jsonl"
    work = Path(tempfile.mkdtemp(prefix="sentiment-"))
    out = Path(args.out) if args.out else work / "lora"
    try:
        before = evaluate(base, held_out)
        started = time.perf_counter()
        result = train(base, "lora", HERE / "train.jsonl", out)
        seconds = time.perf_counter() - started
        after = evaluate(base, held_out, [out])
    finally:
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)
    print(f"exact match before: {before.exact_match:.2f}  ({before.n} held-out reviews)")
    print(
        f"lora training: {result.steps} steps in {seconds:.0f} s, "
        f"held-out perplexity {result.metrics['perplexity']:.3f}"
    )
    print(f"exact match after:  {after.exact_match:.2f}")
    print(f"example before: {before.predictions[0]!r}  after: {after.predictions[0]!r}")


if __name__ == "__main__":
    main()
