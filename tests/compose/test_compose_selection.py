"""What `compose` returns: the user's metric, a held-out part the optimiser never sees, and the best single
candidate when it beats the mix there. On the tiny library only `nope` (always "no") is learned well enough to
match exactly, so the cases that need exact match are built on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.composition.few_shot import Examples, encode_examples, read_examples, score
from adapters.composition.from_examples import Candidate, compose
from adapters.composition.selection import default_metric, held_out_count, split_examples
from adapters.errors import AdapterError
from tests.compose.tiny_library import WORDS, noise_like, split_task_rows, task_rows, with_noise
from tests.support.tiny_bases import write_jsonl


def _candidates(adapters: dict[str, Path]) -> list[Candidate]:
    return [Candidate(f"tests/{task}@1.0.0", path) for task, path in adapters.items()]


def _card(out: Path) -> str:
    return (out / "README.md").read_text()


@pytest.mark.parametrize("n, held", [(1, 0), (2, 0), (3, 1), (4, 2), (5, 2), (8, 2), (9, 3), (12, 3), (40, 10)])
def test_the_held_out_part_has_a_floor_and_leaves_rows_to_fit(n, held):
    assert held_out_count(n, 0.25) == held
    assert held_out_count(n, 0.0) == 0


def test_the_split_is_disjoint_complete_and_drawn_by_seed():
    examples = Examples([{"prompt": str(i), "completion": "x"} for i in range(20)], "sha256:x", "x")
    split = split_examples(examples, 0.25, seed=3)
    assert len(split.held_out_rows) == 5 and len(split.fit_rows) == 15
    assert sorted(split.fit_rows + split.held_out_rows) == list(range(20))
    assert [r["prompt"] for r in split.held_out.rows] == [str(i) for i in split.held_out_rows]
    assert [r["prompt"] for r in split.fit.rows] == [str(i) for i in split.fit_rows]
    assert split_examples(examples, 0.25, seed=3).held_out_rows == split.held_out_rows
    assert {split_examples(examples, 0.25, seed=s).held_out_rows for s in range(5)} != {split.held_out_rows}
    with pytest.raises(AdapterError, match="--holdout must be in"):
        split_examples(examples, 1.0)


def test_short_answers_are_judged_by_exact_match_and_long_text_by_loss():
    short = Examples([{"prompt": "p", "completion": "no"}, {"prompt": "q", "completion": "two small words"}], "", "")
    long = Examples([{"prompt": "p", "completion": "no"}, {"prompt": "q", "completion": "a b c d e f"}], "", "")
    assert default_metric(short) == "exact_match" and default_metric(long) == "loss"


def test_the_best_single_candidate_is_returned_when_it_beats_the_mix_on_held_out(library, tmp_path):
    """Fit rows copy, held-out rows nope: the mix follows copy, and only `nope` alone matches the held-out rows."""
    from adapters.base import load_base

    base, adapters = library
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", split_task_rows("copy", "nope")))
    result = compose(base, examples, _candidates(adapters), tmp_path / "out", steps=8, progress=False)
    assert result.metric == "exact_match" and result.chosen == "best single"
    assert result.scores["best_single"]["adapter"] == "tests/nope@1.0.0"
    assert result.scores["best_single"]["held_out"]["exact_match"] == 1.0
    assert result.scores["mix"]["held_out"]["exact_match"] == 0.0
    assert result.note == (
        "the best single candidate tests/nope@1.0.0 beats the mix on 3 held-out examples: "
        "exact match 1.00 vs 0.00; wrote that candidate instead (--keep-mix keeps the mix)"
    )
    for name in ("adapter_model.safetensors", "adapter_config.json"):
        assert (tmp_path / "out" / name).read_bytes() == (adapters["nope"] / name).read_bytes()
    assert result.weights == [0.0, 0.0, 1.0] and result.mix_weights != result.weights
    card = _card(tmp_path / "out")
    assert "the best single candidate" in card and "chosen: best single" in card and "metric: exact_match" in card
    assert "held_out: 3" in card and "fit: 9" in card and "tests/copy" not in card.split("composition:")[0]

    # the optimiser never saw the held-out rows: every step's score is the fit rows' alone
    from adapters.composition.deltas import FusedDeltas
    from adapters.methods.lora.factors import low_rank_factors

    split = result.split
    assert not set(split.fit_rows) & set(split.held_out_rows)
    model, tokenizer = load_base(base)
    fit_batch = encode_examples(tokenizer, Examples([examples.rows[i] for i in split.fit_rows], "", ""))
    all_batch = encode_examples(tokenizer, examples)
    fused = FusedDeltas(model, [low_rank_factors(p) for p in adapters.values()])
    for step in result.history[:3]:
        fused.set_weights(step.weights)
        assert score(model, fit_batch)[0] == pytest.approx(step.fit.loss, abs=1e-5)
        assert abs(score(model, all_batch)[0] - step.fit.loss) > 1e-3


def test_keep_mix_writes_the_mix_and_still_says_the_single_was_better(library, tmp_path):
    base, adapters = library
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", split_task_rows("copy", "nope")))
    result = compose(base, examples, _candidates(adapters), tmp_path / "out", steps=8, keep_mix=True, progress=False)
    assert result.chosen == "mix" and result.weights == result.mix_weights
    assert result.note.endswith("exact match 1.00 vs 0.00; kept the mix (--keep-mix)")
    assert (tmp_path / "out" / "adapter_model.safetensors").read_bytes() != (
        adapters["nope"] / "adapter_model.safetensors"
    ).read_bytes()


def test_a_mix_that_beats_every_candidate_on_held_out_is_returned(library, tmp_path):
    """nope+N and nope-N: each alone carries the harmful update N, their average is the clean nope LoRA."""
    base, adapters = library
    noise = noise_like(adapters["nope"], 1)
    dirs = [
        with_noise(adapters["nope"], tmp_path / "plus", noise, 1.0),
        with_noise(adapters["nope"], tmp_path / "minus", noise, -1.0),
    ]
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows("nope", WORDS, repeat=1)))
    result = compose(
        base, examples, [Candidate(f"tests/{d.name}@1.0.0", d) for d in dirs], tmp_path / "out", steps=6, progress=False
    )
    assert result.chosen == "mix" and result.note is None
    assert result.scores["mix"]["held_out"]["exact_match"] == 1.0
    assert max(p["exact_match"] for p in result.scores["candidates_held_out"].values()) == 0.0
    assert result.exact_match == 1.0 and result.weights == result.mix_weights
    card = _card(tmp_path / "out")
    assert "chosen: mix" in card and "| mix | 1.00 | 1.00 |" in card


def test_metric_loss_without_held_out_is_the_optimisers_own_choice(library, tmp_path):
    """`--metric loss --holdout 0` is compose as it always was: the step with the lowest loss + L1, the mix."""
    base, adapters = library
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows("nope", WORDS, repeat=1)))
    result = compose(
        base, examples, _candidates(adapters), tmp_path / "out", steps=8, metric="loss", holdout=0.0, progress=False
    )
    best = min(result.history, key=lambda s: s.objective)
    assert result.metric == "loss" and result.chosen == "mix" and result.weights == best.weights
    assert len(result.history) == 8 and result.split.held_out_rows == ()
    assert result.loss == best.fit.loss and result.scores["mix"]["held_out"] is None
    assert result.note.startswith("no held-out examples (12 examples, --holdout 0.0)")
    assert "metric: loss" in _card(tmp_path / "out")


def test_an_unknown_metric_is_refused_before_loading(library, tmp_path):
    base, adapters = library
    examples = read_examples(write_jsonl(tmp_path / "few.jsonl", task_rows("nope", WORDS, repeat=1)))
    with pytest.raises(AdapterError, match="unknown metric 'bleu'; choose one of exact_match, loss"):
        compose(base, examples, _candidates(adapters), tmp_path / "out", metric="bleu", progress=False)
    assert not (tmp_path / "out").exists()
