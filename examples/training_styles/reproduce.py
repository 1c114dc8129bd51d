"""The training-styles figures on the real base (SmolLM2-135M-Instruct), one section at a time.

Each section trains on data this project ships (``examples/tasks``, ``examples/preferences``), scores on
held-out rows, and writes its rows into ``results.json`` beside this file (kept section by section, so a
partial run keeps what it measured), with the time, the load average and the torch thread count. The README's
"Training styles: figures" table is made from that file (``--table`` rewrites it; a test checks they agree).

    python -m examples.training_styles.reproduce                 # every section
    python -m examples.training_styles.reproduce --only fusion   # one (repeatable)
    python -m examples.training_styles.reproduce --table         # the README table from results.json

Sections: context_distillation, compression, reward_grpo, continual, multitask, fusion.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

TASKS = ROOT / "examples" / "tasks"
PREFS = ROOT / "examples" / "preferences"
RESULTS = HERE / "results.json"
SECTIONS = ("context_distillation", "compression", "reward_grpo", "continual", "multitask", "fusion")
QUIET = {"progress": False}


def _stamp(started: float) -> dict:
    import torch

    return {
        "measured": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "seconds": round(time.time() - started, 1),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "torch_threads": torch.get_num_threads(),
    }


def _save(section: str, rows: list[dict]) -> None:
    found = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    found[section] = rows
    RESULTS.write_text(json.dumps(found, indent=2) + "\n")
    for row in rows:
        print(json.dumps(row))


def _em(base: Path, data: Path, adapters: list[Path] | tuple = ()) -> float:
    from adapters.evaluation import evaluate

    return round(float(evaluate(base, data, list(adapters), max_new_tokens=8, progress=False).exact_match), 3)


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _lora(base: Path, data, out: Path, steps: int = 20, **kwargs) -> Path:
    from adapters.training import train

    options = {"r": 8, "lora_alpha": 16}
    train(base, "lora", data, out, options=options, max_steps=steps, lr=1e-2, batch_size=8, seed=0, **QUIET, **kwargs)
    return out


def _distill(base: Path, prompts: Path, out: Path, held: Path, steps: int, **teacher):
    """A rank-8 LoRA distilled from ``teacher`` (a teacher prompt or teacher adapters) on ``prompts``."""
    from adapters.training import train

    options = {"r": 8, "lora_alpha": 16}
    return train(
        base,
        "lora",
        prompts,
        out,
        objective="distill",
        eval_data=held,
        options=options,
        max_steps=steps,
        lr=1e-2,
        batch_size=8,
        max_new_tokens=4,
        **QUIET,
        **teacher,
    )


# ---- sections -----------------------------------------------------------------------------


def _greedy_em(
    base: Path, held: Path, turns: list[dict] = (), adapters: list[Path] = ()
) -> tuple[float, float, list[str]]:
    """Exact match on ``held`` of the base (+ ``adapters``) with ``turns`` before each prompt, scored as
    ``evaluate`` scores (same formatting, greedy decoding and normalisation); the seconds to the first answer
    token of every row (the prompt's cost: one greedy step), and the answers. One helper for both sides, so
    the two latencies are like for like."""
    from adapters.evaluation.heldout import greedy_batch, normalise
    from adapters.runtime.stack import load_stack
    from adapters.training.data import format_prompt

    stack = load_stack(base, adapters, task="causal-lm")
    model, tokenizer = stack.model, stack.tokenizer
    model.eval()
    rows = _rows(held)
    batches = [
        [format_prompt(tokenizer, r["prompt"], turns=turns) for r in rows[at : at + 8]] for at in range(0, len(rows), 8)
    ]
    answers = [a for prompts in batches for a in greedy_batch(model, tokenizer, prompts, 8)]
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        for prompts in batches:
            greedy_batch(model, tokenizer, prompts, 1)
        timings.append(time.perf_counter() - started)
    hits = sum(normalise(a) == normalise(r["completion"]) for a, r in zip(answers, rows, strict=True))
    return hits / len(rows), sorted(timings)[1], answers


def context_distillation(base: Path, work: Path) -> list[dict]:
    """A 4-shot hard prompt (four earlier chat turns: the chat model's own few-shot form) folded into a LoRA:
    the LoRA without the prompt vs the prompted base, on held-out rows."""
    rows = []
    for task in ("entity", "animal"):
        started = time.time()
        train_rows, held = _rows(TASKS / task / "train.jsonl"), TASKS / task / "heldout.jsonl"
        turns = [
            {"role": role, "content": r[key]}
            for r in train_rows[:4]
            for role, key in (("user", "prompt"), ("assistant", "completion"))
        ]
        shots = work / f"{task}-shots.json"
        shots.write_text(json.dumps(turns, indent=1) + "\n")
        prompts = _write(work / f"{task}-prompts.jsonl", [{"prompt": r["prompt"]} for r in train_rows[4:]])
        held_prompts = _write(work / f"{task}-held-prompts.jsonl", [{"prompt": r["prompt"]} for r in _rows(held)])
        out = work / f"{task}-context"
        result = _distill(base, prompts, out, held_prompts, 40, teacher_prompt=shots)
        prompted, t_prompted, _ = _greedy_em(base, held, turns=turns)
        student, t_student, answers = _greedy_em(base, held, adapters=[out])
        assert round(student, 3) == _em(base, held, [out])  # the helper scores as `hub evaluate` does
        rows.append(
            {
                "name": f"context distillation ({task}, 4-shot chat prompt -> LoRA)",
                "prompted_base_em": round(prompted, 3),
                "lora_without_prompt_em": round(student, 3),
                "base_without_prompt_em": _em(base, held),
                # no ratio where the prompted base itself gets nothing right (0 / 0 says nothing)
                "ratio": round(student / prompted, 3) if prompted else None,
                "goal": ">= 0.90 of the prompted base",
                # seconds to the first answer token of all held-out rows (median of 3): what the prompt costs
                "prompted_first_token_s": round(t_prompted, 3),
                "lora_first_token_s": round(t_student, 3),
                "lora_answers": answers,
                "teacher_kl": round(result.metrics.get("teacher_kl", float("nan")), 4),
                "greedy_match": round(result.metrics.get("greedy_match", float("nan")), 3),
                "steps": result.steps,
                "held_out": len(_rows(held)),
                **_stamp(started),
            }
        )
    return rows


def compression(base: Path, work: Path) -> list[dict]:
    """Four stacked task LoRAs -> one rank-8 LoRA; greedy agreement with the stack on held-out prompts."""
    from adapters.evaluation.agreement import evaluate_agreement

    started = time.time()
    tasks = ("animal", "emotion", "topic", "yesno")
    members = [_lora(base, TASKS / t / "train.jsonl", work / f"{t}-lora") for t in tasks]
    prompts = _write(
        work / "compress-prompts.jsonl",
        [{"prompt": r["prompt"]} for t in tasks for r in _rows(TASKS / t / "train.jsonl")],
    )
    held = _write(
        work / "compress-held.jsonl",
        [{"prompt": r["prompt"]} for t in tasks for r in _rows(TASKS / t / "heldout.jsonl")],
    )
    out = work / "compressed"
    result = _distill(base, prompts, out, held, 40, teacher_adapters=members)
    after = evaluate_agreement(None, held, [out], teacher_adapters=members, max_new_tokens=4)
    before = evaluate_agreement(base, held, (), teacher_adapters=members, max_new_tokens=4)
    return [
        {
            "name": "compression (4 stacked LoRAs -> one rank-8 LoRA)",
            "greedy_match": round(after["greedy_match"], 3),
            "greedy_match_base_alone": round(before["greedy_match"], 3),
            "teacher_kl": round(after["teacher_kl"], 4),
            "teacher_kl_base_alone": round(before["teacher_kl"], 4),
            "goal": "greedy match >= 0.9",
            "ok": after["greedy_match"] >= 0.9,
            "held_out_prompts": after["n"],
            "steps": result.steps,
            **_stamp(started),
        }
    ]


def reward_grpo(base: Path, work: Path) -> list[dict]:
    """A reward model on the preference pairs, then GRPO on their prompts with the answer-form reward."""
    from adapters.training import train

    started = time.time()
    reward = train(
        base,
        "lora",
        PREFS / "train.jsonl",
        work / "reward",
        objective="reward",
        eval_data=PREFS / "heldout.jsonl",
        options={"r": 8, "lora_alpha": 16},
        max_steps=30,
        lr=3e-3,
        batch_size=4,
        **QUIET,
    )
    rows = [
        {
            "name": "reward model (preference pairs, held-out pairwise accuracy)",
            "pairwise_accuracy": round(reward.metrics["pairwise_accuracy"], 3),
            "held_out_pairs": len(_rows(PREFS / "heldout.jsonl")),
            "steps": reward.steps,
            **_stamp(started),
        }
    ]
    started = time.time()
    prompts = _write(work / "grpo-prompts.jsonl", [{"prompt": r["prompt"]} for r in _rows(PREFS / "train.jsonl")])
    held = _write(work / "grpo-held.jsonl", [{"prompt": r["prompt"]} for r in _rows(PREFS / "heldout.jsonl")])
    grpo = train(
        base,
        "lora",
        prompts,
        work / "grpo",
        objective="grpo",
        reward_fn=f"{PREFS / 'rewards.py'}:answer_form",
        eval_data=held,
        options={"r": 8, "lora_alpha": 16},
        max_steps=20,
        lr=5e-3,
        batch_size=4,
        num_generations=4,
        max_completion_length=16,
        **QUIET,
    )
    rows.append(
        {
            "name": "GRPO (answer-form reward, held-out prompts)",
            "mean_reward_base": round(grpo.metrics["mean_reward_base"], 3),
            "mean_reward_after": round(grpo.metrics["mean_reward"], 3),
            "goal": "rises over the base",
            "ok": grpo.metrics["mean_reward"] > grpo.metrics["mean_reward_base"],
            "held_out_prompts": len(_rows(held)),
            "steps": grpo.steps,
            **_stamp(started),
        }
    )
    return rows


def continual(base: Path, work: Path) -> list[dict]:
    """Task A, then task B from A's weights, with and without replay of A: A before/after, B after."""
    a, b = "animal", "emotion"
    a_held, b_held = TASKS / a / "heldout.jsonl", TASKS / b / "heldout.jsonl"
    first = _lora(base, TASKS / a / "train.jsonl", work / "cont-a")
    a_before = _em(base, a_held, [first])
    rows = []
    for replay in (None, TASKS / a / "train.jsonl"):
        started = time.time()
        out = work / ("cont-b-replay" if replay else "cont-b")
        _lora(
            base, TASKS / b / "train.jsonl", out, parent=first, replay=replay, replay_fraction=0.5 if replay else None
        )
        rows.append(
            {
                "name": f"continual: {a} then {b}, {'replay 0.5 of ' + a if replay else 'no replay'}",
                "old_task_before": a_before,
                "old_task_after": _em(base, a_held, [out]),
                "new_task_after": _em(base, b_held, [out]),
                "new_task_base": _em(base, b_held),
                **_stamp(started),
            }
        )
    return rows


def multitask(base: Path, work: Path) -> list[dict]:
    """One LoRA on two tasks vs one LoRA per task: the task x adapter table of exact match."""
    started = time.time()
    a, b = "topic", "yesno"
    singles = {t: _lora(base, TASKS / t / "train.jsonl", work / f"mt-{t}") for t in (a, b)}
    both = _lora(base, [f"{t}={TASKS / t / 'train.jsonl'}" for t in (a, b)], work / "mt-both", steps=40, mix="uniform")
    table = {
        t: {
            "base": _em(base, TASKS / t / "heldout.jsonl"),
            **{f"{s}-only": _em(base, TASKS / t / "heldout.jsonl", [d]) for s, d in singles.items()},
            "multi-task": _em(base, TASKS / t / "heldout.jsonl", [both]),
        }
        for t in (a, b)
    }
    return [{"name": f"multi-task ({a} + {b}, uniform mix) vs single-task LoRAs", "table": table, **_stamp(started)}]


def fusion(base: Path, work: Path) -> list[dict]:
    """Bottleneck adapters on three tasks; AdapterFusion of all three trained on one of them vs each member."""
    from adapters.training import train

    started = time.time()
    tasks = ("entity", "animal", "topic")
    target = tasks[0]
    members = []
    for t in tasks:
        out = work / f"bn-{t}"
        train(base, "bottleneck", TASKS / t / "train.jsonl", out, max_steps=20, lr=1e-3, batch_size=8, **QUIET)
        members.append(out)
    held = TASKS / target / "heldout.jsonl"
    out = work / "fusion"
    train(
        base,
        "fusion",
        TASKS / target / "train.jsonl",
        out,
        # static fusion (no value projection): the fused output stays a mix of the members' outputs
        options={"adapters": ",".join(map(str, members)), "value": False},
        max_steps=40,
        lr=5e-3,
        batch_size=8,
        **QUIET,
    )
    singles = {t: _em(base, held, [m]) for t, m in zip(tasks, members, strict=True)}
    fused = _em(base, held, [out])
    return [
        {
            "name": f"AdapterFusion, static ({'+'.join(tasks)} bottlenecks, fusion trained on {target})",
            "fusion_em": fused,
            "members_em": singles,
            "best_single_em": max(singles.values()),
            "base_em": _em(base, held),
            "goal": "fusion >= best single member",
            "ok": fused >= max(singles.values()),
            **_stamp(started),
        }
    ]


# ---- the README table ---------------------------------------------------------------------


def _f(value) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def _row_text(section: str, row: dict) -> tuple[str, str, str]:
    """(what was measured, the figure, the goal and whether it was met) for one results row."""
    if section == "context_distillation":
        figure = (
            f"LoRA without the prompt {_f(row['lora_without_prompt_em'])} vs prompted base "
            f"{_f(row['prompted_base_em'])} (base without prompt {_f(row['base_without_prompt_em'])}); "
            f"first answer token of all {row['held_out']} rows in {row['lora_first_token_s']} s vs "
            f"{row['prompted_first_token_s']} s"
        )
        if row["ratio"] is None:
            return row["name"], figure, ">= 0.90 of prompted: no ratio (the prompted base scores 0)"
        met = "met" if row["ratio"] >= 0.9 else "not met"
        return row["name"], figure, f">= 0.90 of prompted: {_f(row['ratio'])} ({met})"
    if section == "compression":
        figure = (
            f"greedy match {_f(row['greedy_match'])} (base alone {_f(row['greedy_match_base_alone'])}), "
            f"KL {row['teacher_kl']} (base alone {row['teacher_kl_base_alone']})"
        )
        return row["name"], figure, f">= 0.9 ({'met' if row['ok'] else 'not met'})"
    if "pairwise_accuracy" in row:
        return (
            row["name"],
            f"pairwise accuracy {_f(row['pairwise_accuracy'])} on {row['held_out_pairs']} pairs",
            "report",
        )
    if "mean_reward_base" in row:
        figure = f"mean reward {_f(row['mean_reward_base'])} -> {_f(row['mean_reward_after'])} ({row['steps']} steps)"
        return row["name"], figure, f"rises ({'met' if row['ok'] else 'not met'})"
    if section == "continual":
        figure = (
            f"old task {_f(row['old_task_before'])} -> {_f(row['old_task_after'])}, new task "
            f"{_f(row['new_task_base'])} -> {_f(row['new_task_after'])}"
        )
        return row["name"], figure, "report"
    if section == "multitask":
        cells = "; ".join(
            f"{task}: " + ", ".join(f"{col} {_f(v)}" for col, v in cols.items()) for task, cols in row["table"].items()
        )
        return row["name"], cells, "report"
    members = ", ".join(f"{k} {_f(v)}" for k, v in row["members_em"].items())
    figure = f"fusion {_f(row['fusion_em'])} vs members {members} (base {_f(row['base_em'])})"
    return row["name"], figure, f">= best single ({'met' if row['ok'] else 'not met'})"


def table(results: dict) -> str:
    """The README table: one line per results row, in section order, with when and at what load."""
    lines = ["| measured | exact match / figure | goal | when, load, threads |", "|---|---|---|---|"]
    for section in SECTIONS:
        for row in results.get(section, []):
            what, figure, goal = _row_text(section, row)
            when = (
                f"{row['measured']}, load {row['load_avg'][0]}, {row['torch_threads']} thread, {row['seconds']:.0f} s"
            )
            lines.append(f"| {what} | {figure} | {goal} | {when} |")
    return "\n".join(lines)


START, END = "<!-- training-styles-table -->", "<!-- /training-styles-table -->"


def rewrite_readme(readme: str, results: dict) -> str:
    """``readme`` with the block between the markers replaced by ``table(results)``."""
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table(results)}\n{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", choices=SECTIONS, help="run only this section (repeatable)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--table", action="store_true", help="rewrite the README table from results.json and stop")
    args = parser.parse_args()
    if args.table:
        readme = ROOT / "README.md"
        readme.write_text(rewrite_readme(readme.read_text(), json.loads(RESULTS.read_text())))
        return 0
    import torch

    from adapters.base.default import ensure_default_base

    torch.set_num_threads(args.threads)
    base = ensure_default_base()
    with tempfile.TemporaryDirectory(prefix="training-styles-") as tmp:
        for name in args.only or SECTIONS:
            work = Path(tmp) / name
            work.mkdir()
            print(f"== {name}", flush=True)
            _save(name, globals()[name](base, work))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
