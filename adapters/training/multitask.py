"""Multi-task training (``hub train --data A --data B --mix ...``): one adapter on several tasks' rows at once.

Why its own module: how much of each task the adapter sees is the whole point of a mixture, so it must be
exact, seeded and written down. Each ``--data`` is a task (named by its file stem, or ``name=path``); its rows
are read by the objective's own reader (a bad row names file:line) and held out per task. The training set has
as many rows as the tasks together, drawn per task by the mix: ``proportional`` (each task's own count, every row
once), ``uniform`` (the same count per task) or ``temperature=T`` (p_i proportional to n_i^(1/T), as in T5 and
mT5: T=1 is proportional, large T approaches uniform). A task drawn more often than it has rows repeats all of
them before any row a further time. The card records the tasks, their counts and the mix.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError

__all__ = ["Mix", "TaskSource", "load_tasks", "mix_counts", "mix_tasks", "parse_mix", "task_sources"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MIX_HELP = "proportional, uniform or temperature=T (T > 0)"


@dataclass(frozen=True)
class Mix:
    """How tasks are weighted: ``kind`` proportional | uniform | temperature, and T for the last."""

    kind: str = "proportional"
    temperature: float | None = None

    def weights(self, sizes: Sequence[int]) -> list[float]:
        """Each task's share of the training rows."""
        if self.kind == "uniform":
            raw = [1.0] * len(sizes)
        elif self.kind == "temperature":
            assert self.temperature is not None
            raw = [n ** (1.0 / self.temperature) for n in sizes]
        else:
            raw = [float(n) for n in sizes]
        total = sum(raw)
        return [r / total for r in raw]

    def record(self) -> dict[str, Any]:
        return {"kind": self.kind, **({"temperature": self.temperature} if self.kind == "temperature" else {})}


def parse_mix(text: str | None) -> Mix:
    """``proportional`` (the default), ``uniform`` or ``temperature=T``; anything else is one line."""
    if text is None:
        return Mix()
    word = str(text).strip()
    if word in ("proportional", "uniform"):
        return Mix(word)
    key, sep, value = word.partition("=")
    if key == "temperature" and sep:
        try:
            temperature = float(value)
        except ValueError:
            temperature = float("nan")
        if math.isfinite(temperature) and temperature > 0:
            return Mix("temperature", temperature)
    raise AdapterError(f"--mix must be {MIX_HELP}, got {text!r}")


@dataclass(frozen=True)
class TaskSource:
    name: str
    path: Path


def task_sources(data: Sequence[str | Path]) -> list[TaskSource]:
    """``name=path`` or ``path`` (named by its stem) per ``--data``; two tasks of one name are refused."""
    found: list[TaskSource] = []
    for item in data:
        text = str(item)
        name, sep, rest = text.partition("=")
        if sep and not isinstance(item, Path) and not Path(text).exists():
            source = TaskSource(name, Path(rest))
        else:
            source = TaskSource(Path(text).stem, Path(text))
        if not _NAME.match(source.name):
            raise AdapterError(
                f"--data {text}: task name {source.name!r} is not a plain name (letters, digits, '.', '_', '-'); "
                "use name=path"
            )
        if any(s.name == source.name for s in found):
            raise AdapterError(f"--data {text}: a second task named {source.name!r}; name them with name=path")
        found.append(source)
    return found


def mix_counts(sizes: Sequence[int], mix: Mix) -> list[int]:
    """Rows per task: the tasks' total split by the mix's shares, rounded by largest remainder (sums exactly)."""
    total = sum(sizes)
    exact = [total * w for w in mix.weights(sizes)]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def mix_tasks(
    per_task: Sequence[tuple[str, Sequence[dict]]], mix: Mix, seed: int
) -> tuple[list[dict], list[str], list[int]]:
    """The training rows of every task drawn by ``mix`` and shuffled together (seeded). Returns (rows, the task
    of each row, rows per task). A task's count above its size repeats every row before drawing the rest."""
    counts = mix_counts([len(rows) for _, rows in per_task], mix)
    rng = random.Random(seed)
    tagged: list[tuple[str, dict]] = []
    for (name, rows), count in zip(per_task, counts, strict=True):
        whole, part = divmod(count, len(rows))
        picked = [*list(rows) * whole, *(rows[i] for i in sorted(rng.sample(range(len(rows)), part)))]
        tagged += [(name, row) for row in picked]
    rng.shuffle(tagged)
    return [row for _, row in tagged], [name for name, _ in tagged], counts


@dataclass
class Tasks:
    """What the card says about a multi-task run: each task's file, its rows and how many went into training."""

    mix: Mix
    entries: list[dict] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # the task of each training row, in training order
    held_out: dict[str, list[dict]] = field(default_factory=dict)  # per task, when --eval-data is not given

    def record(self) -> dict[str, Any]:
        return {"mix": self.mix.record(), "tasks": [dict(e) for e in self.entries]}


def load_tasks(
    goal: Any, data: Sequence[str | Path], eval_data: Any, eval_fraction: float, seed: int, mix: Mix
) -> tuple[list[dict], list[dict], list[str] | None, int | None, Tasks]:
    """``goal.load`` per task (held out per task unless ``eval_data``), then the mix. Returns what ``goal.load``
    returns for one file, plus the tasks' record."""
    from ..provenance import data_record
    from .data import label_vocabulary

    sources = task_sources(data)
    per_task: list[tuple[str, list[dict]]] = []
    tasks = Tasks(mix)
    eval_rows: list[dict] = []
    label_names, num_labels = None, None
    for source in sources:
        train_rows, held, label_names, num_labels = goal.load(
            source.path, None, eval_fraction if eval_data is None else 0.0, seed
        )
        per_task.append((source.name, train_rows))
        if eval_data is None:
            tasks.held_out[source.name] = held
            eval_rows += held
        tasks.entries.append(
            {
                "name": source.name,
                **data_record(source.path, len(train_rows) + len(held)),
                "train_rows": len(train_rows),
            }
        )
    if eval_data is not None:
        eval_rows = goal.load(eval_data, None, 0.0, seed)[0]
    rows, tags, counts = mix_tasks(per_task, mix, seed)
    for entry, count in zip(tasks.entries, counts, strict=True):
        entry["mixed_rows"] = count
    tasks.tags = tags
    everything = [*rows, *eval_rows]
    if goal.task == "seq-cls" and all("label" in r for r in everything):
        label_names, num_labels = label_vocabulary(everything)  # one head over every task's labels
    return rows, eval_rows, label_names, num_labels, tasks


def score_tasks(
    tasks: Tasks, out: Path, base_dir: Path, task: str, goal: Any, work_dir: Path, batch_size: int, resolver: Any
) -> None:
    """Each task's held-out rows scored alone on the new adapter (``adapters.evaluation.evaluate``, as
    ``hub evaluate --data A --data B --each`` would), into the card's ``multitask.tasks[].eval`` and a markdown
    table. Supervised objectives only: the evaluator reads their rows."""
    import json

    from ..card import read_card, write_card
    from ..evaluation.heldout import evaluate

    if goal.name != goal.task:
        return
    lines = ["## Tasks", "", f"Mix: `{_mix_text(tasks.mix)}`.", "", "| task | rows | trained on | held-out scores |"]
    lines.append("|---|---|---|---|")
    for entry in tasks.entries:
        held = tasks.held_out.get(entry["name"]) or []
        scores = ""
        if held:
            path = work_dir / f"{entry['name']}.heldout.jsonl"
            path.write_text("".join(json.dumps(r) + "\n" for r in held), encoding="utf-8")
            found = evaluate(base_dir, path, [out], task=task, batch_size=batch_size, progress=False, resolver=resolver)
            values = found.as_dict()
            entry["eval"] = {k: float(values[k]) for k in ("exact_match", "perplexity", "accuracy") if k in values}
            entry["eval_rows"] = len(held)
            scores = ", ".join(f"{k} {v:.4g}" for k, v in entry["eval"].items())
        lines.append(f"| {entry['name']} | {entry['rows']} | {entry['mixed_rows']} | {scores} |")
    card = read_card(out)
    assert card is not None
    front = {**card.front, "adapter_hub": {**card.hub, "multitask": tasks.record()}}
    write_card(out, front, card.body + "\n" + "\n".join(lines) + "\n")


def _mix_text(mix: Mix) -> str:
    return f"temperature={mix.temperature:g}" if mix.kind == "temperature" else mix.kind
