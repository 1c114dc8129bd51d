"""`hub train --from`: continued training starts from the parent's own weights (every method that declares
``load_trainable``, causal-lm and seq-cls), replays a seeded share of earlier rows, names the parent in the card,
and writes a forgetting table whose numbers are the evaluator's own scores of the parent and the new adapter; a
parent of another method, other options, another task or another base, and a method that cannot continue, are
refused in one line with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from safetensors.torch import load_file

from adapters.base import pin_for
from adapters.card import read_card
from adapters.errors import AdapterError
from adapters.registry import get_method, list_methods
from adapters.resolver import Resolver
from adapters.training import train
from adapters.training.continual import continued_spec, mix_replay
from adapters.training.teacher import dir_digest
from tests.support.stack_fixtures import make_method_adapter
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

CONTINUES = [s.name for s in list_methods() if s.load_trainable is not None]
FAST = {"progress": False, "batch_size": 4}


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    old = write_jsonl(root / "old.jsonl", copy_task_rows(16))
    old_eval = write_jsonl(root / "old_eval.jsonl", copy_task_rows(6))
    pairs = [("ab", "ba"), ("cd", "dc"), ("ef", "fe"), ("gh", "hg")]
    new = write_jsonl(root / "new.jsonl", [{"prompt": f"flip {a}", "completion": b} for a, b in pairs * 3])
    new_eval = write_jsonl(root / "new_eval.jsonl", [{"prompt": f"flip {a}", "completion": b} for a, b in pairs])
    return {"old": old, "old_eval": old_eval, "new": new, "new_eval": new_eval}


@pytest.fixture(scope="module")
def parent(llama, files, tmp_path_factory):
    """A LoRA trained by `hub train` on the old task: its card carries options, task and pin."""
    out = tmp_path_factory.mktemp("parents") / "old-task"
    train(llama, "lora", files["old"], out, max_steps=3, lr=1e-2, **FAST)
    return out


def _tensors(folder: Path) -> dict:
    return load_file(str(Path(folder) / "adapter_model.safetensors"))


def _same(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(bool((a[k] == b[k]).all()) for k in a)


def _nothing_written(out: Path) -> bool:
    return not out.exists() and not any(p.name.startswith(f".{out.name}.") for p in out.parent.iterdir())


@pytest.mark.parametrize(
    ("method", "task"), [(m, "causal-lm") for m in CONTINUES] + [("lora", "seq-cls"), ("bottleneck", "seq-cls")]
)
def test_the_prepared_model_starts_at_the_parents_saved_weights(method, task, llama, tmp_path):
    from adapters.base import load_base

    spec = get_method(method)
    saved = make_method_adapter(spec, llama, tmp_path / "parent", task=task, seed=3)
    options = spec.defaults()
    labels = {"num_labels": 3} if task == "seq-cls" else {}
    fresh, _ = load_base(llama, task=task, **labels)
    spec.save(spec.prepare(fresh, options, task), tmp_path / "fresh", options)
    model, _ = load_base(llama, task=task, **labels)
    trainable = continued_spec(spec, saved).prepare(model, options, task)
    assert any(p.requires_grad for p in trainable.parameters())
    spec.save(trainable, tmp_path / "step0", options)
    assert _same(_tensors(tmp_path / "step0"), _tensors(saved))
    assert not _same(_tensors(tmp_path / "fresh"), _tensors(saved))  # a fresh prepare is not the parent


@pytest.mark.parametrize("method", ["lora", "bottleneck"])
def test_a_run_from_the_parent_starts_at_its_weights_and_differs_from_a_fresh_start(method, llama, files, tmp_path):
    start = train(llama, method, files["old"], tmp_path / "start", max_steps=2, lr=1e-2, **FAST).output_dir
    # lr 0: the optimiser moves nothing, so the saved weights are the step-0 weights
    still = train(llama, method, files["new"], tmp_path / "still", parent=start, max_steps=1, lr=0.0, **FAST)
    assert _same(_tensors(still.output_dir), _tensors(start))
    fresh = train(llama, method, files["new"], tmp_path / "fresh", max_steps=2, lr=1e-2, **FAST)
    moved = train(llama, method, files["new"], tmp_path / "moved", parent=start, max_steps=2, lr=1e-2, **FAST)
    assert not _same(_tensors(moved.output_dir), _tensors(fresh.output_dir))
    assert not _same(_tensors(moved.output_dir), _tensors(start))


def test_forgetting_table_is_the_evaluators_scores_of_parent_and_child(llama, files, parent, tmp_path):
    from adapters.evaluation import evaluate

    out = tmp_path / "child"
    result = train(
        llama,
        "lora",
        files["new"],
        out,
        parent=parent,
        old_eval=[files["old_eval"]],
        eval_data=files["new_eval"],
        max_steps=3,
        lr=1e-2,
        **FAST,
    )
    found = result.continual
    old, new = found["forgetting"]
    assert (old["role"], old["task"], new["role"], new["task"]) == ("old", "old_eval", "new", "new")
    for row, data in ((old, files["old_eval"]), (new, files["new_eval"])):
        before = evaluate(llama, data, [parent], batch_size=4, progress=False).as_dict()
        after = evaluate(llama, data, [out], batch_size=4, progress=False).as_dict()
        assert row["before"] == {k: before[k] for k in ("exact_match", "perplexity")}
        assert row["after"] == {k: after[k] for k in ("exact_match", "perplexity")}
        assert row["data"]["path"] == str(data) and row["data"]["rows"] == before["n"]
    assert old["before"]["perplexity"] != old["after"]["perplexity"]  # training moved the adapter
    card = read_card(out)
    assert card.hub["continual"] == found and "continual" in card.front["tags"]
    assert found["parent"] == {
        "path": str(parent),
        "method": "lora",
        "base": read_card(parent).hub["base"],
        "digest": dir_digest(parent),
    }
    assert card.hub["provenance"]["parent"] == found["parent"] and card.hub["training"]["continued_from"] == str(parent)
    assert card.hub["method_options"] == read_card(parent).hub["method_options"]
    assert "## Forgetting" in card.body
    assert (
        f"| old_eval | old | perplexity | {old['before']['perplexity']:.4g} | {old['after']['perplexity']:.4g} |"
        in (card.body)
    )


def test_without_eval_data_the_new_task_is_scored_on_its_held_out_rows(llama, files, parent, tmp_path):
    result = train(llama, "lora", files["new"], tmp_path / "c", parent=parent, max_steps=1, eval_fraction=0.25, **FAST)
    [row] = result.continual["forgetting"]
    assert row["role"] == "new" and row["data"]["rows"] == 3 and row["data"]["path"].endswith("(held out)")
    assert set(row["before"]) == {"exact_match", "perplexity"}


def test_replay_mixes_a_seeded_share_of_earlier_rows():
    new = [{"text": f"new {i}"} for i in range(20)]
    old = [{"text": f"old {i}"} for i in range(30)]
    mixed, picked = mix_replay(new, old, 0.25, seed=0)
    assert len(picked) == 5 and len(mixed) == 25
    assert all(r in old for r in picked) and all(r in mixed for r in new + picked)
    assert sorted(r["text"] for r in mixed if r["text"].startswith("old")) == sorted(r["text"] for r in picked)
    assert mix_replay(new, old, 0.25, seed=0) == (mixed, picked)
    assert mix_replay(new, old, 0.25, seed=1)[1] != picked
    assert len(mix_replay(new, old[:3], 0.5, seed=0)[1]) == 3  # fewer earlier rows than asked: all of them
    with pytest.raises(AdapterError, match="--replay-fraction must be positive"):
        mix_replay(new, old, 0.0, seed=0)


def test_a_run_with_replay_trains_on_the_new_rows_plus_the_replayed_ones(llama, files, parent, tmp_path):
    result = train(
        llama, "lora", files["new"], tmp_path / "r", parent=parent, replay=files["old"], replay_fraction=0.5,
        eval_data=files["new_eval"], max_steps=1, **FAST,
    )  # fmt: skip
    assert result.settings["replay_records"] == 6 and result.settings["train_records"] == 12 + 6
    replay = read_card(tmp_path / "r").hub["continual"]["replay"]
    assert replay["rows"] == 16 and replay["rows_mixed"] == 6 and replay["fraction"] == 0.5
    assert replay["path"] == str(files["old"]) and replay["sha256"].startswith("sha256:")
    assert read_card(tmp_path / "r").hub["provenance"]["data"]["rows"] == 12  # the new file's own rows


def test_a_hub_reference_is_pulled_through_the_callers_resolver(llama, files, parent, tmp_path):
    pulled: list[str] = []

    def pull(ref: str) -> Path:
        pulled.append(ref)
        return parent

    result = train(
        llama, "lora", files["new"], tmp_path / "h", parent="alice/old-task@1.0.0", resolver=Resolver(pull=pull),
        max_steps=1, **FAST,
    )  # fmt: skip
    assert pulled == ["alice/old-task@1.0.0"]
    assert result.continual["parent"]["ref"] == "alice/old-task@1.0.0"
    assert result.continual["parent"]["digest"] == dir_digest(parent) and "path" not in result.continual["parent"]
    assert "Continued from `alice/old-task@1.0.0`" in read_card(tmp_path / "h").body
    out = tmp_path / "other"
    with pytest.raises(AdapterError) as caught:
        train(llama, "bottleneck", files["new"], out, parent="alice/old-task@1.0.0", resolver=Resolver(pull=pull))
    assert str(caught.value) == "--from alice/old-task@1.0.0 is a lora adapter; this run trains bottleneck"
    assert _nothing_written(out)
    with pytest.raises(AdapterError, match="is a hub reference; pull it first"):
        train(llama, "lora", files["new"], out, parent="alice/old-task@1.0.0")


def test_refusals_are_one_line_and_write_nothing(llama, files, parent, tmp_path):
    other_base = make_llama_dir(tmp_path / "other-llama", seed=7)
    p_tuning = make_method_adapter(get_method("p_tuning"), llama, tmp_path / "pt")
    seq_cls = make_method_adapter(get_method("lora"), llama, tmp_path / "cls", task="seq-cls")
    out = tmp_path / "runs" / "child"
    out.parent.mkdir()
    cases = [
        ({"method": "ia3"}, f"--from {parent} is a lora adapter; this run trains ia3"),
        ({"base": other_base}, f"--from {parent} was trained on base llama ("),
        ({"options": {"r": 4}}, f"--from {parent} was trained with r=8; this run asks r=4"),
        ({"method": "p_tuning", "parent": p_tuning}, "method 'p_tuning' cannot continue training from saved weights"),
        ({"parent": seq_cls}, "is a seq-cls adapter; this run trains causal-lm"),
        ({"objective": "dpo"}, "--from continues causal-lm, seq-cls, distill runs, not --objective dpo"),
        ({"parent": None, "replay": files["old"]}, "--replay apply to continued training (--from ADAPTER)"),
        ({"parent": None, "old_eval": [files["old_eval"]]}, "--old-eval apply to continued training"),
        ({"replay_fraction": 0.5}, "--replay-fraction needs --replay FILE"),
        ({"replay": files["old"], "replay_fraction": -1.0}, "--replay-fraction must be positive"),
        ({"parent": tmp_path / "nowhere"}, "no such adapter directory"),
    ]
    for change, message in cases:
        kwargs = {"base": llama, "method": "lora", "parent": parent, **change}
        base, method = kwargs.pop("base"), kwargs.pop("method")
        with pytest.raises(AdapterError) as caught:
            train(base, method, files["new"], out, max_steps=1, **FAST, **kwargs)
        assert message in str(caught.value) and "\n" not in str(caught.value), (change, str(caught.value))
        assert _nothing_written(out), change
    with pytest.raises(AdapterError) as caught:
        train(other_base, "lora", files["new"], out, parent=parent, max_steps=1, **FAST)
    assert str(caught.value) == (
        f"--from {parent} was trained on base llama ({pin_for(llama).fingerprint}), "
        f"this run's base is other-llama ({pin_for(other_base).fingerprint})"
    )


def test_bad_rows_in_replay_and_old_eval_files_name_file_and_line(llama, files, parent, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "completion": "b"}\n{"prompt": 3}\n')
    out = tmp_path / "child"
    for kwargs in ({"replay": bad}, {"old_eval": [files["old_eval"], bad]}):
        with pytest.raises(AdapterError, match=r"bad\.jsonl:2: "):
            train(llama, "lora", files["new"], out, parent=parent, max_steps=1, **FAST, **kwargs)
        assert _nothing_written(out)


def test_prefix_with_a_projection_cannot_continue(llama, files, tmp_path):
    start = train(
        llama, "prefix_tuning", files["old"], tmp_path / "pre", options={"prefix_projection": True,
        "encoder_hidden_size": 8, "num_virtual_tokens": 2}, max_steps=1, **FAST,
    ).output_dir  # fmt: skip
    out = tmp_path / "child"
    with pytest.raises(AdapterError, match="saves only its projected output"):
        train(llama, "prefix_tuning", files["new"], out, parent=start, max_steps=1, **FAST)
    assert _nothing_written(out)


def test_cli_prints_the_forgetting_table_and_puts_it_in_json(llama, files, parent, tmp_path):
    import json

    from click.testing import CliRunner

    from hub_client.cli.main import main

    args = ["train", "--base", str(llama), "--method", "lora", "--data", str(files["new"]), "--from", str(parent)]
    args += ["--old-eval", str(files["old_eval"]), "--replay", str(files["old"]), "--max-steps", "1", "--no-progress"]
    shown = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a"), "--json"])
    assert shown.exit_code == 0, shown.output
    found = json.loads(shown.stdout.strip().splitlines()[-1])
    assert found["continual"] == read_card(tmp_path / "a").hub["continual"]
    assert [r["task"] for r in found["continual"]["forgetting"]] == ["old_eval", "new"]
    text = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b")])
    assert text.exit_code == 0, text.output
    old = read_card(tmp_path / "b").hub["continual"]["forgetting"][0]
    assert f"continued from {parent} ({dir_digest(parent)})" in text.stdout
    assert "replayed 3 of 16 rows from" in text.stdout
    ppl = f"old old_eval  perplexity: {old['before']['perplexity']:.4g} -> {old['after']['perplexity']:.4g}"
    assert ppl in text.stdout


def test_a_classifier_continues_with_its_head_and_its_labels(llama, tmp_path):
    from tests.support.tiny_bases import sentiment_rows

    data = write_jsonl(tmp_path / "sent.jsonl", sentiment_rows(16))
    start = train(llama, "lora", data, tmp_path / "start", task="seq-cls", max_steps=2, lr=1e-2, **FAST).output_dir
    assert any("score" in k for k in _tensors(start))  # the head is part of what continues
    still = train(llama, "lora", data, tmp_path / "still", task="seq-cls", parent=start, max_steps=1, lr=0.0, **FAST)
    assert _same(_tensors(still.output_dir), _tensors(start))
    other = write_jsonl(
        tmp_path / "other.jsonl", [{"text": "abc", "label": "maybe"}, {"text": "xyz", "label": "no"}] * 4
    )
    with pytest.raises(AdapterError) as caught:
        train(llama, "lora", other, tmp_path / "o", task="seq-cls", parent=start, max_steps=1, **FAST)
    assert str(caught.value) == f"--from {start} classifies ['neg', 'pos']; this run's data has labels ['maybe', 'no']"
    assert _nothing_written(tmp_path / "o")


def test_distillation_continues_from_the_parent_too(llama, files, tmp_path):
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": f"say {w}"} for w in ("cat", "dog", "sun", "red")])
    (tmp_path / "teacher.txt").write_text("Answer in one word.")
    start = train(llama, "lora", files["old"], tmp_path / "start", max_steps=2, lr=1e-2, **FAST).output_dir
    still = train(
        llama, "lora", prompts, tmp_path / "still", objective="distill", teacher_prompt=tmp_path / "teacher.txt",
        max_new_tokens=3, eval_data=prompts, parent=start, max_steps=1, lr=0.0, **FAST,
    )  # fmt: skip
    assert _same(_tensors(still.output_dir), _tensors(start))
    assert still.continual["forgetting"] == []  # distill rows are prompts: no new-task scores without --old-eval


def test_several_tasks_can_continue_a_parent(llama, files, parent, tmp_path):
    result = train(
        llama, "lora", [files["new"], files["old"]], tmp_path / "both", parent=parent, mix="uniform",
        old_eval=[files["old_eval"]], max_steps=1, **FAST,
    )  # fmt: skip
    assert [r["task"] for r in result.continual["forgetting"]] == ["old_eval", "new+old"]
    # 11 + 14 rows after holding out: 25 split evenly, the odd row to the first task
    assert {t["name"]: t["mixed_rows"] for t in result.tasks["tasks"]} == {"new": 13, "old": 12}
