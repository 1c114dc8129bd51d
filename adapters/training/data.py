"""Training data: JSONL records checked line by line, then tokenised for one task.

Why its own module: the rules that decide what a model learns (chat template, loss only on the
completion, label names) must be identical at training and at evaluation time, and a bad line must
be reported with its file and line number before any model is loaded or any file is written.

Formats
    causal-lm  ``{"prompt": ..., "completion": ...}`` (supervised: loss on the completion only) or
               ``{"text": ...}`` (plain language modelling on the whole text)
    seq-cls    ``{"text": ..., "label": str | int}``
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import AdapterError

IGNORE_INDEX = -100
TASKS = ("causal-lm", "seq-cls")


@dataclass
class Records:
    """Validated rows of one JSONL file plus what they say about the task."""

    rows: list[dict]
    task: str
    source: str
    label_names: list[str] | None = None  # seq-cls with string labels: index -> name
    num_labels: int | None = None
    meta: dict = field(default_factory=dict)


def row_error(path: Path, lineno: int, why: str) -> AdapterError:
    return AdapterError(f"{path}:{lineno}: {why}")


def _check_row(row: Any, task: str, path: Path, lineno: int) -> dict:
    if not isinstance(row, dict):
        raise row_error(path, lineno, f"expected a JSON object, got {type(row).__name__}")
    if task == "seq-cls":
        if not isinstance(row.get("text"), str) or "label" not in row:
            raise row_error(path, lineno, 'seq-cls needs {"text": str, "label": str|int}')
        if not isinstance(row["label"], (str, int)) or isinstance(row["label"], bool):
            raise row_error(path, lineno, "label must be a string or an integer")
        return {"text": row["text"], "label": row["label"]}
    if isinstance(row.get("prompt"), str) and isinstance(row.get("completion"), str):
        return {"prompt": row["prompt"], "completion": row["completion"]}
    if isinstance(row.get("text"), str):
        return {"text": row["text"]}
    if "chosen" in row and "rejected" in row:
        raise row_error(path, lineno, "this is a preference pair; train on pairs with --objective dpo")
    raise row_error(path, lineno, 'causal-lm needs {"prompt": str, "completion": str} or {"text": str}')


def json_lines(path: str | Path) -> Iterator[tuple[int, Any]]:
    """``(line number, parsed value)`` for every non-blank line; bad JSON raises naming file:line."""
    path = Path(path)
    if not path.is_file():
        raise AdapterError(f"{path}: no such data file")
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as exc:
                raise row_error(path, lineno, f"not valid JSON ({exc.msg})") from None


def read_jsonl(path: str | Path, task: str = "causal-lm") -> list[dict]:
    """Parse and validate every line; the first bad one raises ``AdapterError`` naming file:line."""
    if task not in TASKS:
        raise AdapterError(f"unknown task {task!r} (choose from {', '.join(TASKS)})")
    path = Path(path)
    rows = [_check_row(row, task, path, lineno) for lineno, row in json_lines(path)]
    if not rows:
        raise AdapterError(f"{path}: no records")
    return rows


def label_vocabulary(rows: Sequence[dict]) -> tuple[list[str] | None, int]:
    """(label names or None for integer labels, number of labels). Mixed kinds are refused."""
    labels = [r["label"] for r in rows]
    if all(isinstance(x, str) for x in labels):
        names = sorted(set(labels))
        return names, len(names)
    if all(isinstance(x, int) for x in labels):
        if min(labels) < 0:
            raise AdapterError("integer labels must be >= 0")
        return None, max(labels) + 1
    raise AdapterError("labels mix strings and integers; use one kind")


def load_records(path: str | Path, task: str = "causal-lm", label_names: list[str] | None = None) -> Records:
    """Read a data file for ``task``; seq-cls gets its label names (or count) from the rows."""
    rows = read_jsonl(path, task)
    rec = Records(rows=rows, task=task, source=str(path))
    if task == "seq-cls":
        names, count = label_vocabulary(rows)
        if label_names is not None and names is not None:
            unknown = sorted(set(names) - set(label_names))
            if unknown:
                raise AdapterError(f"{path}: labels {unknown} are not among {label_names}")
            names, count = list(label_names), len(label_names)
        rec.label_names, rec.num_labels = names, count
    return rec


def split_eval(rows: Sequence[dict], fraction: float, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Shuffle deterministically and hold out ``fraction`` (at least one row when fraction > 0)."""
    if not 0 <= fraction < 1:
        raise AdapterError(f"eval fraction must be in [0, 1), got {fraction}")
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    n_eval = 0 if fraction == 0 else max(1, round(len(rows) * fraction))
    if n_eval >= len(rows):
        raise AdapterError(f"{len(rows)} records are too few to hold out {fraction:.0%} for evaluation")
    held = sorted(order[:n_eval])
    kept = sorted(order[n_eval:])
    return [rows[i] for i in kept], [rows[i] for i in held]


def read_prompts(path: str | Path, keep_columns: bool = False) -> list[dict]:
    """``{"prompt": str}`` rows, for objectives that make their own answers (distill, grpo); the first bad row
    raises naming ``file:line``. ``keep_columns`` keeps every column and requires the same ones on each row
    (GRPO hands them to the reward function); otherwise only the prompt is kept."""
    path = Path(path)
    rows: list[dict] = []
    columns: set[str] | None = None
    for lineno, row in json_lines(path):
        if not isinstance(row, dict):
            raise row_error(path, lineno, f"expected a JSON object, got {type(row).__name__}")
        if not isinstance(row.get("prompt"), str) or not row["prompt"].strip():
            raise row_error(path, lineno, 'missing or empty "prompt" (this objective reads {"prompt": str} rows)')
        if keep_columns:
            columns = set(row) if columns is None else columns
            if set(row) != columns:
                raise row_error(path, lineno, f"columns {sorted(row)} differ from the first row's {sorted(columns)}")
        rows.append(row if keep_columns else {"prompt": row["prompt"]})
    if not rows:
        raise AdapterError(f"{path}: no prompts (the file is empty)")
    return rows


def load_split(read: Callable[[Any], list[dict]], num_labels: int | None = None) -> Callable[..., tuple]:
    """An objective's ``load`` over a row reader: the rows of ``data``, held out from ``eval_data`` when given,
    else a seeded ``eval_fraction`` of ``data`` (``(train, eval, label_names, num_labels)``)."""

    def load(data: Any, eval_data: Any, eval_fraction: float, seed: int) -> tuple:
        rows = read(data)
        if eval_data is not None:
            return rows, read(eval_data), None, num_labels
        train_rows, eval_rows = split_eval(rows, eval_fraction, seed)
        return train_rows, eval_rows, None, num_labels

    return load


def format_prompt(tokenizer: Any, prompt: str, turns: Sequence[dict[str, str]] = ()) -> str:
    """The exact text a model sees before its answer: the chat template's user turn when there is one, after
    any earlier ``turns`` of the conversation (``{"role", "content"}``); without a template, the turns' texts
    a line each, a blank line, then the prompt."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(
            [*turns, {"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
        )
    if turns:
        return "\n".join(t["content"] for t in turns) + "\n\n" + prompt
    return prompt


def _completion_text(tokenizer: Any, prompt: str, completion: str) -> str:
    """What follows the prompt: the assistant turn as the template renders it, or completion + EOS."""
    if getattr(tokenizer, "chat_template", None):
        head = format_prompt(tokenizer, prompt)
        full = tokenizer.apply_chat_template(
            [{"role": "user", "content": prompt}, {"role": "assistant", "content": completion}], tokenize=False
        )
        if full.startswith(head):
            return full[len(head) :]
    return completion + (tokenizer.eos_token or "")


def _ids(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def bos_ids(tokenizer: Any) -> list[int]:
    """BOS when the tokenizer adds one by itself and no chat template already renders it."""
    if getattr(tokenizer, "chat_template", None) or tokenizer.bos_token_id is None:
        return []
    return [tokenizer.bos_token_id] if getattr(tokenizer, "add_bos_token", False) else []


def encode_row(
    tokenizer: Any, row: dict, task: str, max_length: int = 512, label_names: list[str] | None = None
) -> dict:
    """One row -> ``input_ids`` and ``labels`` (token labels for causal-lm, a class id for seq-cls)."""
    if task == "seq-cls":
        ids = list(tokenizer(row["text"], truncation=True, max_length=max_length)["input_ids"])
        label = row["label"]
        if isinstance(label, str):
            if not label_names or label not in label_names:
                raise AdapterError(f"label {label!r} is not among the label names {label_names}")
            label = label_names.index(label)
        return {"input_ids": ids, "labels": int(label)}
    bos = bos_ids(tokenizer)
    if "prompt" in row:
        head = bos + _ids(tokenizer, format_prompt(tokenizer, row["prompt"]))
        tail = _ids(tokenizer, _completion_text(tokenizer, row["prompt"], row["completion"]))
        ids = (head + tail)[:max_length]
        labels = ([IGNORE_INDEX] * len(head) + tail)[:max_length]
    else:
        eos = [tokenizer.eos_token_id] if tokenizer.eos_token_id is not None else []
        ids = (bos + _ids(tokenizer, row["text"]) + eos)[:max_length]
        labels = list(ids)
    return {"input_ids": ids, "labels": labels}


def encode_rows(
    tokenizer: Any, rows: Sequence[dict], task: str, max_length: int = 512, label_names: list[str] | None = None
) -> list[dict]:
    encoded = [encode_row(tokenizer, r, task, max_length, label_names) for r in rows]
    if task == "causal-lm" and not any(l != IGNORE_INDEX for e in encoded for l in e["labels"]):
        raise AdapterError("every completion was truncated away; raise max_length")
    return encoded


def pad_id(tokenizer: Any) -> int:
    """The id used for padding: the tokenizer's own, else EOS, else 0."""
    for candidate in (tokenizer.pad_token_id, tokenizer.eos_token_id):
        if candidate is not None:
            return int(candidate)
    return 0


class Collator:
    """Right-pads a batch: ``input_ids`` with the pad id, ``labels`` with -100, plus the attention mask."""

    def __init__(self, pad_token_id: int) -> None:
        self.pad_token_id = pad_token_id

    def __call__(self, batch: list[dict]) -> dict:
        import torch

        width = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), width), self.pad_token_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        token_labels = isinstance(batch[0]["labels"], list)
        labels = torch.full((len(batch), width), IGNORE_INDEX, dtype=torch.long) if token_labels else None
        for i, b in enumerate(batch):
            n = len(b["input_ids"])
            ids[i, :n] = torch.tensor(b["input_ids"], dtype=torch.long)
            mask[i, :n] = 1
            if token_labels:
                labels[i, :n] = torch.tensor(b["labels"], dtype=torch.long)
        if not token_labels:
            labels = torch.tensor([b["labels"] for b in batch], dtype=torch.long)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels}
