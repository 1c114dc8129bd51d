"""The batched runtime: rows on different adapters (every method) and the base share each forward, rows join
and leave between decode steps, and each row's greedy tokens equal ``hub run`` with that adapter alone."""

from __future__ import annotations

import pytest
import torch

from adapters import load_base
from adapters.errors import AdapterError
from adapters.runtime.batched import BatchedRuntime
from adapters.runtime.decode_batch import DecodeBatch, prefill
from tests.serving.runtime_fixtures import METHODS, hub_run_tokens, make_tiny_adapters

PROMPTS = ["say cat", "the moon is", "hello there, how", "x", "abc abc abc", "ok", "why?", "tell me"]
NEW = 12


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_adapters(tmp_path_factory.mktemp("rt"))


def _runtime(base, adapters):
    model, tok = load_base(base)
    runtime = BatchedRuntime(model)
    for name, path in adapters.items():
        runtime.add(name, path)
    return runtime, tok


def test_mixed_batch_with_joins_and_leaves_equals_hub_run_per_row(tiny):
    base, adapters = tiny
    runtime, tok = _runtime(base, adapters)
    before = {n: p.clone() for n, p in runtime.model.state_dict().items()}
    jobs = [(name, PROMPTS[i % len(PROMPTS)]) for i, name in enumerate([*METHODS, None, "lora-a"])]
    batch = DecodeBatch(runtime)
    produced: dict[int, list[int]] = {}
    rows: list[int] = []  # job index per batch row
    pending = list(range(len(jobs)))
    gathered = shared = False  # whether steps ran the LoRAs as one gathered product, q/v sharing one x A^T
    budget = {i: NEW - (i % 3) * 3 for i in range(len(jobs))}  # different lengths: rows leave at different steps
    while pending or rows:
        if pending:  # one new sequence joins before each step
            j = pending.pop(0)
            ids = tok(jobs[j][1], return_tensors="pt")["input_ids"]
            seq = prefill(runtime, jobs[j][0], ids)
            produced[j] = [int(seq.logits.argmax())]
            batch.join(seq)
            rows.append(j)
        done = [r for r, j in enumerate(rows) if len(produced[j]) >= budget[j]]
        batch.leave(done)
        rows = [j for r, j in enumerate(rows) if r not in done]
        if not rows:
            continue
        logits = batch.step([produced[j][-1] for j in rows])
        plan = runtime.plan([jobs[j][0] for j in rows])
        gathered |= "gathered" in plan.kinds.values()
        shared |= plan.shared_groups > 0
        assert logits.shape[0] == len(rows)
        for r, j in enumerate(rows):
            produced[j].append(int(logits[r].argmax()))
    for j, (name, prompt) in enumerate(jobs):
        expected = hub_run_tokens(base, adapters[name] if name else None, prompt, budget[j])
        assert produced[j][: len(expected)] == expected, (name, prompt)
    assert gathered and shared
    outputs = {tuple(produced[j]) for j in range(len(jobs))}
    assert len(outputs) >= len(jobs) - 2  # adapters really change the output
    after = runtime.model.state_dict()
    assert all(torch.equal(before[n], after[n]) for n in before)  # nothing merged into the base


def test_removed_adapter_leaves_the_base_untouched_and_is_refused(tiny):
    base, adapters = tiny
    runtime, tok = _runtime(base, {"lora-a": adapters["lora-a"]})
    ids = tok("say cat", return_tensors="pt")["input_ids"]
    with_adapter = prefill(runtime, "lora-a", ids).logits
    plain = prefill(runtime, None, ids).logits
    assert not torch.allclose(with_adapter, plain)
    runtime.remove("lora-a")
    assert not runtime._handles
    torch.testing.assert_close(prefill(runtime, None, ids).logits, plain, rtol=0, atol=0)
    with pytest.raises(AdapterError, match="not loaded"):
        prefill(runtime, "lora-a", ids)
