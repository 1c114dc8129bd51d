"""The base with no adapter, asked with a few-shot prompt: four labelled training reviews before each held-out one.

A fair baseline for the sentiment LoRA: it shows how much of the LoRA's gain a prompt alone gets.

    python examples/sentiment/few_shot_baseline.py [--shots 4]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    from adapters.base.default import ensure_default_base
    from adapters.evaluation.heldout import evaluate

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shots", type=int, default=4)
    args = parser.parse_args()
    train = [json.loads(line) for line in (HERE / "train.jsonl").read_text().splitlines()]
    shots = [r for r in train if r["completion"] == "positive"][: args.shots // 2] + [
        r for r in train if r["completion"] == "negative"
    ][: args.shots - args.shots // 2]
    head = "Reply with one word, positive or negative.\n\n" + "".join(
        f"{r['prompt']}\nAnswer: {r['completion']}\n\n" for r in shots
    )
    rows = [json.loads(line) for line in (HERE / "eval.jsonl").read_text().splitlines()]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "few-shot.jsonl"
        data.write_text(
            "".join(
                json.dumps({"prompt": head + r["prompt"] + "\nAnswer:", "completion": r["completion"]}) + "\n"
                for r in rows
            )
        )
        result = evaluate(str(ensure_default_base()), data, max_new_tokens=4, progress=False)
    from adapters.evaluation.heldout import normalise

    # generation goes on after the answer (the next "Review:"), so the first line is what counts here
    first_line = sum(
        normalise((p.strip().splitlines() or [""])[0]) == normalise(r["completion"])
        for p, r in zip(result.predictions, rows, strict=False)
    ) / len(rows)
    print(
        f"base with a {len(shots)}-shot prompt: exact match {result.exact_match:.2f}, first line "
        f"{first_line:.2f} on {result.n} held-out reviews; e.g. {result.predictions[:3]}"
    )


if __name__ == "__main__":
    main()
