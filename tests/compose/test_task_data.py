"""The shipped task data: held-out sets share no phrase with their training sets, and the generators
reproduce the shipped files byte for byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from examples.sentiment import make_data as sentiment
from examples.tasks import make_tasks


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("task", list(make_tasks.TASKS))
def test_task_heldout_items_never_appear_in_training(task):
    template = make_tasks.TASKS[task][0]
    head, _, tail = template.partition("{x}")
    item = lambda r: r["prompt"][len(head) : len(r["prompt"]) - len(tail)]
    train = _rows(ROOT / "examples/tasks" / task / "train.jsonl")
    held = _rows(ROOT / "examples/tasks" / task / "heldout.jsonl")
    assert len(train) >= 14 and len(held) >= 6
    assert not {item(r) for r in train} & {item(r) for r in held}
    assert {r["completion"] for r in held} <= {r["completion"] for r in train}


def test_library_and_held_out_tasks_are_disjoint_and_six_or_more():
    assert len(make_tasks.LIBRARY) >= 6 and not set(make_tasks.LIBRARY) & set(make_tasks.HELD_OUT_TASKS)


def test_sentiment_heldout_shares_no_phrase_with_training():
    train = " ".join(r["prompt"] for r in _rows(ROOT / "examples/sentiment/train.jsonl"))
    held = _rows(ROOT / "examples/sentiment/eval.jsonl")
    train_phrases = sentiment.POSITIVE + sentiment.NEGATIVE + [e.strip() for e in sentiment.EXTRAS if e.strip()]
    for row in held:
        assert not [p for p in train_phrases if p in row["prompt"]], row
    for phrase in sentiment.HELD_OUT_POSITIVE + sentiment.HELD_OUT_NEGATIVE:
        assert phrase not in train


def test_generators_reproduce_the_shipped_files(tmp_path):
    make_tasks.main(tmp_path)
    for task in make_tasks.TASKS:
        for part in ("train", "heldout"):
            assert (tmp_path / task / f"{part}.jsonl").read_bytes() == (
                ROOT / "examples/tasks" / task / f"{part}.jsonl"
            ).read_bytes()
    sentiment.main(tmp_path)
    for name in ("train.jsonl", "eval.jsonl"):
        assert (tmp_path / name).read_bytes() == (ROOT / "examples/sentiment" / name).read_bytes()
