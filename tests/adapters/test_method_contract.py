"""One contract for every registered adapter method, on tiny random LLaMA (causal-lm) and BERT (seq-cls).

For each method x task the method supports: training lowers the held-out loss, the saved directory
loads through ``load_stack`` to exactly the outputs of the model still in memory, a base with other
weights is refused, and the card carries the pin. A method built from other trained adapters (its spec's
``extra["members"]`` names their method and the option that lists them, as AdapterFusion's does) gets two
such members, trained first on the same base and task.
"""

from __future__ import annotations

import pytest
import torch

from adapters.base.fingerprint import fingerprint
from adapters.card import read_card
from adapters.errors import BaseMismatchError
from adapters.registry import get_method, list_methods
from adapters.training import method_defaults, train
from tests.support.tiny_bases import copy_task_rows, make_bert_dir, make_llama_dir, sentiment_rows, write_jsonl

TASKS = ("causal-lm", "seq-cls")
CASES = [
    pytest.param(spec, task, id=f"{spec.name}-{task}")
    for spec in list_methods()
    for task in TASKS
    if task in spec.tasks
]  # each method on each task it declares


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("bases")
    data = tmp_path_factory.mktemp("data")
    return {
        "causal-lm": (make_llama_dir(root / "llama"), write_jsonl(data / "lm.jsonl", copy_task_rows())),
        # a wider init than BERT's 0.02 gives a random encoder features a classifier can tell apart
        "seq-cls": (
            make_bert_dir(root / "bert", initializer_range=0.3),
            write_jsonl(data / "cls.jsonl", sentiment_rows()),
        ),
        "other-causal-lm": make_llama_dir(root / "llama-other", seed=1),
        "other-seq-cls": make_bert_dir(root / "bert-other", seed=1, initializer_range=0.3),
    }


def _train(spec, task, bases, out, **kw):
    base, data = bases[task]
    # tiny random models need a bolder step than the real defaults; a random BERT head more so
    lr = kw.pop("lr", max(method_defaults(spec)["lr"], 1e-2 if task == "causal-lm" else 5e-2))
    return train(base, spec.name, data, out, task=task, lr=lr, batch_size=8, eval_fraction=0.25, progress=False, **kw)


def _member_options(spec, task, bases, root) -> dict:
    """For a method built from other adapters: two members of the method it names, trained here first (briefly:
    members that already saturate this tiny task would leave the method nothing to lower)."""
    members = spec.extra.get("members")
    if not members:
        return {}
    member_spec = get_method(members["method"])
    dirs = [
        str(_train(member_spec, task, bases, root / f"member{seed}", max_steps=2, lr=1e-3, seed=seed).output_dir)
        for seed in (1, 2)
    ]
    return {"options": {members["option"]: dirs}}


def _last_positions(logits: torch.Tensor, n: int) -> torch.Tensor:
    return logits[:, -n:] if logits.dim() == 3 else logits


@pytest.mark.parametrize("spec,task", CASES)
def test_method_contract(spec, task, bases, tmp_path):
    from adapters.runtime.stack import load_stack

    extra = _member_options(spec, task, bases, tmp_path)
    untrained = _train(spec, task, bases, tmp_path / "untrained", max_steps=1, lr=0.0, **extra)
    trained = _train(spec, task, bases, tmp_path / "trained", max_steps=20, **extra)
    assert trained.metrics["eval_loss"] < untrained.metrics["eval_loss"] - 1e-3, (untrained.metrics, trained.metrics)
    assert trained.steps == 20

    out = trained.output_dir
    base_dir = bases[task][0]
    text = "say moon" if task == "causal-lm" else "lovely day"
    enc = trained.tokenizer(text, return_tensors="pt")
    n = enc["input_ids"].shape[1]
    with torch.no_grad():
        expected = _last_positions(trained.model(**enc).logits, n)
        stack = load_stack(base_dir, [out], task=task)
        got = _last_positions(stack(**enc).logits, n)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=0)

    with pytest.raises(BaseMismatchError):
        load_stack(bases[f"other-{task}"], [out], task=task)

    front = read_card(out).front
    hub = front["adapter_hub"]
    assert hub["base"]["fingerprint"] == fingerprint(base_dir)
    assert hub["base"]["fingerprint"] != fingerprint(bases[f"other-{task}"])
    assert front["base_model"] == hub["base"]["id"]
    assert front["library_name"] == "peft" and front["base_model_relation"] == "adapter"
    assert hub["method"] == spec.name and hub["task"] == task
    assert hub["training"]["steps"] == 20 and hub["training"]["seed"] == 0
    metric = "perplexity" if task == "causal-lm" else "accuracy"
    assert metric in hub["metrics"] and "eval_loss" in hub["metrics"]
    if task == "seq-cls":
        assert hub["label_names"] == ["neg", "pos"]
    for name in spec.files:
        assert (out / name).is_file()
