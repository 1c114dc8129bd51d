"""Compose the task library for tasks it was not trained on, and compare with the alternatives.

For each held-out task (``emotion``, ``animal`` in examples/tasks) and each number of examples (5, 20), on
SmolLM2-135M-Instruct, exact match on the task's held-out set (examples/tasks/TASK/heldout.jsonl) of:

  zero-shot      the base alone
  uniform        the average of all library LoRAs (weight 1/6 each)
  best by find   the library LoRA that `hub find` ranks first on the examples (by loss)
  mix            the weights `hub compose` found (NGOpt, 40 steps, L1 0.05, seed 0), fitted on 3/4 of the examples
  compose        what `hub compose` wrote: the mix, or the best single candidate when it beat the mix on the
                 quarter of the examples held out from the optimiser (exact match; the defaults)
  few-shot LoRA  a LoRA trained on the same examples (the library's training settings)

plus compose's own held-out scores (mix and best single candidate on the examples it held out), what it
chose, and the time to compose (base load, 6 candidates, 40 steps). The library comes from
``examples/tasks/build_library.py`` (cached). Writes ``results.json`` next to this file after every row.

    python -m examples.compose.reproduce [--steps 40] [--tasks emotion,animal] [--sizes 5,20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

from examples.tasks.build_library import build, train_task
from examples.tasks.make_tasks import HELD_OUT_TASKS

TASKS_DIR = HERE.parent / "tasks"


def _exact_match(model, tokenizer, rows) -> float:
    from adapters.evaluation.heldout import greedy_batch, normalise
    from adapters.training.data import format_prompt

    found = greedy_batch(model, tokenizer, [format_prompt(tokenizer, r["prompt"]) for r in rows], max_new_tokens=6)
    return sum(normalise(p) == normalise(r["completion"]) for p, r in zip(found, rows, strict=False)) / len(rows)


def run_one(base: Path, library: dict[str, Path], task: str, size: int, steps: int, work: Path) -> dict:
    from adapters.base import load_base
    from adapters.composition.deltas import FusedDeltas
    from adapters.composition.few_shot import read_examples
    from adapters.composition.from_examples import Candidate, compose, score_candidates
    from adapters.methods.lora.factors import low_rank_factors
    from adapters.runtime.stack import AdapterStack
    from adapters.training.data import read_jsonl

    rows = read_jsonl(TASKS_DIR / task / "train.jsonl")[:size]
    few_path = work / f"{task}-{size}.jsonl"
    few_path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    examples = read_examples(few_path)
    heldout = read_jsonl(TASKS_DIR / task / "heldout.jsonl")
    candidates = [Candidate(f"tasks/{t}-lora@1.0.0", p) for t, p in library.items()]

    found = score_candidates(base, examples, candidates, progress=False)
    best = found.scored[0].candidate.label
    started = time.perf_counter()
    composed = compose(base, examples, candidates, work / f"composed-{task}-{size}", steps=steps, progress=True)
    compose_seconds = time.perf_counter() - started
    print(composed.note or f"compose kept the mix ({task}, {size} examples)", flush=True)
    few_lora = train_task(base, task, out_root=work, data=few_path, progress=False)

    model, tokenizer = load_base(base)
    fused = FusedDeltas(model, [low_rank_factors(c.path) for c in candidates])
    labels = [c.label for c in candidates]
    scores = {}
    for name, weights in (
        ("zero-shot", [0.0] * len(labels)),
        ("uniform", [1.0 / len(labels)] * len(labels)),
        ("best by find", [1.0 if lab == best else 0.0 for lab in labels]),
        ("mix", composed.mix_weights),
        ("compose", composed.weights),
    ):
        fused.set_weights(weights)
        scores[name] = _exact_match(model, tokenizer, heldout)
    fused.detach()
    stack = AdapterStack(model, tokenizer, None, "causal-lm")
    stack.add(few_lora)
    scores["few-shot LoRA"] = _exact_match(model, tokenizer, heldout)
    stack.detach_all()
    return {
        "task": task,
        "examples": size,
        "heldout": len(heldout),
        "exact_match": scores,
        "best_by_find": best,
        "compose": {
            "metric": composed.metric,
            "chosen": composed.chosen,
            "split": composed.split.to_dict(),
            "scores": composed.scores,
            "note": composed.note,
        },
        "weights": dict(zip(labels, [round(w, 3) for w in composed.mix_weights], strict=True)),
        "compose_seconds": round(compose_seconds, 1),
        "steps": steps,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--tasks", default=",".join(HELD_OUT_TASKS))
    parser.add_argument("--sizes", default="5,20")
    parser.add_argument("--base", default=None)
    parser.add_argument("--out", default=str(HERE / "results.json"), help="where to write the results")
    args = parser.parse_args()
    from adapters.base.default import ensure_default_base

    base = Path(args.base) if args.base else ensure_default_base()
    library = build(base, progress=False)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for task in args.tasks.split(","):
                result = run_one(base, library, task, size, args.steps, Path(tmp))
                results.append(result)
                print(json.dumps(result), flush=True)
                Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(table(results))


def table(results: list[dict]) -> str:
    """The README's table: task held-out exact match, and compose's own held-out choice."""
    head = (
        "| held-out task | examples (fitted + held out) | zero-shot base | best single by find "
        "| on compose's held-out examples: mix vs best single | compose wrote | mix | what compose wrote "
        "| LoRA trained on the examples | time to compose |"
    )
    lines = [head, "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        c, em = r["compose"], r["exact_match"]
        split, mix, single = c["split"], c["scores"]["mix"]["held_out"], c["scores"]["best_single"]
        wrote = "mix" if c["chosen"] == "mix" else single["adapter"].split("/")[1].split("@")[0]
        lines.append(
            f"| {r['task']} ({r['heldout']} held-out) | {r['examples']} ({split['fit']} + "
            f"{split['held_out']}) | {em['zero-shot']:.2f} | {em['best by find']:.2f} | "
            f"{mix['exact_match']:.2f} vs {single['held_out']['exact_match']:.2f} | {wrote} | "
            f"{em['mix']:.2f} | {em['compose']:.2f} | {em['few-shot LoRA']:.2f} | "
            f"{r['compose_seconds']:.0f} s |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
