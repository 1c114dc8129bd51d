"""Continual training (``hub train --from``): start from a saved adapter, replay earlier rows, measure forgetting.

Why its own module: every refusal about the parent (another method, other options, another task, another base
pin, a method that cannot load saved weights back into a trainable model) must come before a model loads or a
file is written, and the card must say which adapter the run continued (its reference or directory and the
sha256 digest of its files), how much earlier data was replayed, and what continuing cost on the old tasks: the
parent and the new adapter scored by ``adapters.evaluation.evaluate`` on the same held-out rows (the
forgetting table). Loading the weights is the method's own ``MethodSpec.load_trainable``; nothing here knows
a method by name.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError

__all__ = [
    "DEFAULT_REPLAY_FRACTION",
    "Lineage",
    "Parent",
    "continual_request",
    "continued_spec",
    "forgetting_markdown",
    "forgetting_rows",
    "mix_replay",
    "resolve_parent",
]

DEFAULT_REPLAY_FRACTION = 0.25
SCORES = ("exact_match", "perplexity", "accuracy")  # what the forgetting table compares (higher is better but ppl)


@dataclass(frozen=True)
class Parent:
    """The adapter a run continues: where it was found and what its card says about it."""

    ref: str  # as the user gave it: NS/NAME@VERSION or a directory
    folder: Path
    from_hub: bool
    method: str
    options: dict
    task: str | None
    pin: dict
    label_names: list[str] | None
    digest: str

    def record(self) -> dict[str, Any]:
        """What the card's provenance says about the parent."""
        found: dict[str, Any] = {"ref": self.ref} if self.from_hub else {"path": str(self.folder)}
        return {**found, "method": self.method, "base": dict(self.pin), "digest": self.digest}


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def resolve_parent(
    ref: str | Path, spec: Any, objective: Any, options: dict | None, task: str, resolver: Any = None
) -> tuple[Parent, dict]:
    """The parent adapter and the run's options (the parent's, any given ones must agree), refused in one line
    when this run cannot continue it. Reads cards and files only, no weights."""
    from ..card import read_card
    from ..registry import method_for_dir
    from ..resolver import is_reference, resolve_adapter
    from .objectives import list_objectives
    from .teacher import dir_digest

    if spec.load_trainable is None:
        raise AdapterError(
            f"method {spec.name!r} cannot continue training from saved weights (--from); "
            "`hub methods` shows which methods can"
        )
    if objective.needs_peft_config:
        which = ", ".join(o.name for o in list_objectives() if not o.needs_peft_config)
        raise AdapterError(
            f"--from continues {which} runs, not --objective {objective.name} (its trainer wraps the model)"
        )
    folder = resolve_adapter(ref, resolver)
    card = read_card(folder)
    hub = card.hub if card else {}
    method = hub.get("method") or method_for_dir(folder).name
    if method != spec.name:
        raise AdapterError(f"--from {ref} is a {method} adapter; this run trains {spec.name}")
    parent_task = hub.get("task")
    if parent_task and parent_task != task:
        raise AdapterError(f"--from {ref} is a {parent_task} adapter; this run trains {task}")
    pin = hub.get("base") or {}
    if not pin.get("fingerprint"):
        raise AdapterError(f"--from {ref} is not pinned to a base; cannot check that it belongs to this run's base")
    saved = hub.get("method_options")
    if not isinstance(saved, dict):
        import json

        config = folder / "adapter_config.json"
        saved = spec.options_from_config(json.loads(config.read_text())) if config.is_file() else {}
    known = {o.name for o in spec.options}
    parent_options = {**spec.defaults(), **{k: v for k, v in saved.items() if k in known}}
    for key, value in (options or {}).items():
        if key in parent_options and _shown(value) != _shown(parent_options[key]):
            raise AdapterError(
                f"--from {ref} was trained with {key}={_shown(parent_options[key])}; this run asks "
                f"{key}={_shown(value)} (continued training keeps the parent's method options)"
            )
    parent = Parent(
        ref=str(ref),
        folder=Path(folder),
        from_hub=not isinstance(ref, Path) and is_reference(str(ref)),
        method=method,
        options=parent_options,
        task=parent_task,
        pin=dict(pin),
        label_names=list(hub["label_names"]) if hub.get("label_names") else None,
        digest=dir_digest(Path(folder)),
    )
    return parent, {**parent_options, **(options or {})}


def check_parent_base(parent: Parent, pin: Any) -> None:
    """The parent's pin must name this run's base weights."""
    if parent.pin.get("fingerprint") != pin.fingerprint:
        raise AdapterError(
            f"--from {parent.ref} was trained on base {parent.pin.get('id') or '?'} ({parent.pin.get('fingerprint')}), "
            f"this run's base is {pin.id} ({pin.fingerprint})"
        )


def check_parent_labels(parent: Parent, label_names: list[str] | None) -> None:
    """A classifier continues on the same classes: the head it carries has one output per parent label."""
    if parent.label_names and label_names and list(label_names) != parent.label_names:
        raise AdapterError(
            f"--from {parent.ref} classifies {parent.label_names}; this run's data has labels {list(label_names)}"
        )


def continued_spec(spec: Any, folder: Path) -> Any:
    """``spec`` whose ``prepare`` also loads the parent's weights (``load_trainable``), so every objective that
    prepares through the spec starts from them without knowing about continual training."""

    def prepare(model: Any, options: dict, task: str) -> Any:
        trainable = spec.prepare(model, options, task)
        spec.load_trainable(trainable, folder, options)
        return trainable

    return dataclasses.replace(spec, prepare=prepare)


@dataclass
class Replay:
    """Earlier rows mixed into the new ones: which file, how many were read and how many went in."""

    path: Path
    fraction: float
    rows_read: int
    picked: list[dict] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        from ..provenance import data_record

        return {**data_record(self.path, self.rows_read), "fraction": self.fraction, "rows_mixed": len(self.picked)}


def mix_replay(
    train_rows: Sequence[dict], replay_rows: Sequence[dict], fraction: float, seed: int
) -> tuple[list[dict], list[dict]]:
    """``train_rows`` plus ``round(fraction * len(train_rows))`` (at least one) of ``replay_rows`` drawn without
    replacement (all of them when there are fewer), shuffled together; both draws seeded. Returns
    (mixed rows, the replayed rows)."""
    if not fraction > 0:
        raise AdapterError(f"--replay-fraction must be positive, got {fraction}")
    wanted = min(len(replay_rows), max(1, round(fraction * len(train_rows))))
    rng = random.Random(seed)
    picked = [replay_rows[i] for i in sorted(rng.sample(range(len(replay_rows)), wanted))]
    mixed = [*train_rows, *picked]
    rng.shuffle(mixed)
    return mixed, picked


def _scores(result: Any) -> dict[str, float]:
    found = result.as_dict()
    return {k: float(found[k]) for k in SCORES if found.get(k) is not None}


def forgetting_rows(
    sets: Sequence[tuple[str, str, Path]],
    score: Callable[[Path, Path], Any],
    parent_dir: Path,
    new_dir: Path,
) -> list[dict[str, Any]]:
    """One row per held-out set ``(role, name, file)``: the parent's scores (before) and the new adapter's
    (after), each from ``score(adapter_dir, file)`` (``adapters.evaluation.evaluate``)."""
    from ..provenance import data_record

    rows = []
    for role, name, path in sets:
        before = score(parent_dir, path)
        after = score(new_dir, path)
        rows.append(
            {
                "task": name,
                "role": role,
                "data": data_record(path, before.n),
                "before": _scores(before),
                "after": _scores(after),
            }
        )
    return rows


def forgetting_markdown(parent: Parent, rows: Sequence[dict]) -> str:
    """The card's "Forgetting" section: one line per task and score, before (the parent) and after."""
    named = parent.ref if parent.from_hub else f"{parent.folder.name} ({parent.digest[:19]})"
    lines = [
        "## Forgetting",
        "",
        (
            f"Continued from `{named}`. Before: the parent adapter; after: this adapter; same held-out rows "
            "(perplexity: lower is better)."
        ),
        "",
        "| task | role | metric | before | after | change |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        for metric, before in row["before"].items():
            after = row["after"].get(metric)
            change = "" if after is None else f"{after - before:+.4g}"
            shown = "" if after is None else f"{after:.4g}"
            lines.append(f"| {row['task']} | {row['role']} | {metric} | {before:.4g} | {shown} | {change} |")
    return "\n".join(lines) + "\n"


@dataclass
class Lineage:
    """A continued run: the checked parent, the run's options (the parent's), the replay and the old tasks."""

    parent: Parent
    options: dict
    replay_path: Path | None
    replay_fraction: float
    old_eval: list[tuple[str, Path]]  # (name in the table, file)
    replay: Replay | None = None

    def mix(self, goal: Any, train_rows: list[dict], label_names: list[str] | None, seed: int) -> list[dict]:
        """The new rows with the replayed ones mixed in (read by the objective's own reader)."""
        assert self.replay_path is not None
        earlier = goal.load(self.replay_path, None, 0.0, seed)[0]
        if label_names:
            unknown = sorted({str(r["label"]) for r in earlier if "label" in r} - {str(n) for n in label_names})
            if unknown:
                raise AdapterError(f"{self.replay_path}: labels {unknown} are not among {label_names}")
        mixed, picked = mix_replay(train_rows, earlier, self.replay_fraction, seed)
        self.replay = Replay(self.replay_path, self.replay_fraction, len(earlier), picked)
        return mixed

    def provenance(self) -> dict[str, Any]:
        return {"parent": self.parent.record(), "replay": self.replay.record() if self.replay else None}

    def measure(
        self,
        out: Path,
        base_dir: Path,
        task: str,
        goal: Any,
        data: Any,
        eval_data: Any,
        eval_rows: Sequence[dict],
        work_dir: Path,
        batch_size: int,
        resolver: Any,
    ) -> dict[str, Any]:
        """Score the parent and the new adapter in ``out`` on every old task and the new one, and write the
        forgetting table into the card (front matter and a markdown section). Returns the card's ``continual``."""
        import json

        from ..card import read_card, write_card
        from ..evaluation.heldout import evaluate

        sets: list[tuple[str, str, Path]] = [("old", name, path) for name, path in self.old_eval]
        if goal.name == goal.task:  # supervised rows: the evaluator reads the same format
            if eval_data is not None:
                sets.append(("new", Path(data).stem, Path(eval_data)))
            elif eval_rows:
                held = work_dir / f"{Path(data).stem}.heldout.jsonl"
                held.write_text("".join(json.dumps(r) + "\n" for r in eval_rows), encoding="utf-8")
                sets.append(("new", Path(data).stem, held))

        def score(adapter_dir: Path, path: Path) -> Any:
            return evaluate(
                base_dir, path, [adapter_dir], task=task, batch_size=batch_size, progress=False, resolver=resolver
            )

        rows = forgetting_rows(sets, score, self.parent.folder, out)
        for row in rows:
            if row["data"]["path"].endswith(".heldout.jsonl"):
                row["data"]["path"] = f"{data} (held out)"
        found = {**self.provenance(), "forgetting": rows}
        card = read_card(out)
        assert card is not None
        front = {**card.front, "tags": [*card.front.get("tags", []), "continual"]}
        front["adapter_hub"] = {**card.hub, "continual": found}
        write_card(out, front, card.body + "\n" + forgetting_markdown(self.parent, rows))
        return found


def continual_request(
    goal: Any,
    spec: Any,
    parent: Any,
    replay: Any,
    replay_fraction: float | None,
    old_eval: Sequence[Any],
    options: dict | None,
    task: str,
    resolver: Any,
) -> Lineage | None:
    """The checked ``--from`` request (None without one); ``--replay`` and ``--old-eval`` need ``--from``. Reads
    the parent's card and every old task's rows (a bad row names file:line), loads no weights. An ``old_eval``
    item is a file (named by its stem in the table) or ``(name, file)``."""
    from .data import read_jsonl

    if parent is None:
        named = [
            f
            for f, on in (("--replay", replay), ("--replay-fraction", replay_fraction), ("--old-eval", old_eval))
            if on
        ]
        if named:
            raise AdapterError(f"{', '.join(named)} apply to continued training (--from ADAPTER)")
        return None
    if replay_fraction is not None and replay is None:
        raise AdapterError("--replay-fraction needs --replay FILE")
    fraction = DEFAULT_REPLAY_FRACTION if replay_fraction is None else float(replay_fraction)
    if not fraction > 0:
        raise AdapterError(f"--replay-fraction must be positive, got {fraction}")
    found, options = resolve_parent(parent, spec, goal, options, task, resolver)
    olds = [(str(p[0]), Path(p[1])) if isinstance(p, tuple) else (Path(p).stem, Path(p)) for p in old_eval]
    for _, path in olds:
        read_jsonl(path, task)
    return Lineage(found, options, Path(replay) if replay is not None else None, fraction, olds)
