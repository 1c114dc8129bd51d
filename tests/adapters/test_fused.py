"""Fused stacking: every LoRA on a module runs as one low-rank pair in one hook, equal to running each
adapter separately and to PEFT with the same adapters active; re-fused on add, remove, merge, re-weight."""

from __future__ import annotations

import pytest
import torch

from adapters.methods.ia3 import hooks as ia3
from adapters.methods.lora import hooks as lora
from adapters.runtime.fused import fuser_for, is_fused, separate_steps
from adapters.runtime.stack import AdapterStack
from tests.support.stack_fixtures import load_plain, make_adapter
from tests.support.tiny_bases import make_llama_dir

WEIGHTS = [1.0, 0.6, 0.3]


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("llama"))


@pytest.fixture(scope="module")
def loras(tmp_path_factory, llama_dir):
    root = tmp_path_factory.mktemp("loras")
    return [make_adapter(llama_dir, root / f"lora{i}", "lora", seed=i + 1) for i in range(3)]


def _ids():
    return torch.randint(8, 100, (2, 6), generator=torch.Generator().manual_seed(9))


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=torch.ones_like(ids)).logits


def _hooks(model) -> dict[str, int]:
    """Per adapted Linear: how many hooks it carries (its fused forward plus any registered hook)."""
    counts = {
        name: int("forward" in m.__dict__) + len(m._forward_hooks) + len(m._forward_pre_hooks)
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Linear)
    }
    return {name: n for name, n in counts.items() if n}


def test_three_loras_fused_equal_separate_steps_and_peft(llama_dir, loras):
    from peft import PeftModel

    ids = _ids()
    stack = AdapterStack(load_plain(llama_dir))
    for path in loras:
        stack.add(path)
    fused = _logits(stack.model, ids)
    with separate_steps():
        separate = _logits(stack.model, ids)
    peft_model = PeftModel.from_pretrained(load_plain(llama_dir), loras[0], adapter_name="a0")
    for i, path in enumerate(loras[1:], 1):
        peft_model.load_adapter(path, adapter_name=f"a{i}")
    peft_model.base_model.set_adapter(["a0", "a1", "a2"])
    reference = _logits(peft_model, ids)
    assert (fused - _logits(load_plain(llama_dir), ids)).abs().max() > 1e-3  # the adapters do something
    assert (fused - separate).abs().max() <= 1e-5
    assert (fused - reference).abs().max() <= 1e-5
    # one hook on each adapted module, and the fused pair carries every adapter's rank
    hooks = _hooks(stack.model)
    assert hooks and set(hooks.values()) == {1}
    q = stack.model.model.layers[0].self_attn.q_proj
    fuser = fuser_for(q)
    assert len(fuser.items) == 3 and fuser.hook_count == 1


def test_refused_on_add_remove_and_reweight(llama_dir, loras):
    ids = _ids()
    stack = AdapterStack(load_plain(llama_dir))
    stack.add(loras[0], weight=WEIGHTS[0])
    one = _logits(stack.model, ids)
    for path, w in zip(loras[1:], WEIGHTS[1:], strict=True):
        stack.add(path, weight=w)
    three = _logits(stack.model, ids)
    assert (three - one).abs().max() > 1e-3  # the fused pair grew when adapters were added
    stack.set_weight("lora1", 0.0)
    stack.set_weight("lora2", 0.0)
    assert (_logits(stack.model, ids) - one).abs().max() <= 1e-5  # weight 0 == not there
    stack.set_weight("lora1", WEIGHTS[1])
    stack.set_weight("lora2", WEIGHTS[2])
    assert (_logits(stack.model, ids) - three).abs().max() <= 1e-5
    # a fresh stack with the same weights from the start agrees with the re-weighted one
    fresh = AdapterStack(load_plain(llama_dir))
    for path, w in zip(loras, WEIGHTS, strict=True):
        fresh.add(path, weight=w)
    assert (_logits(fresh.model, ids) - three).abs().max() <= 1e-5
    last = stack.entries[-1]
    last.attachment.detach()
    stack.entries.pop()
    two = AdapterStack(load_plain(llama_dir))
    for path, w in zip(loras[:2], WEIGHTS[:2], strict=True):
        two.add(path, weight=w)
    assert (_logits(stack.model, ids) - _logits(two.model, ids)).abs().max() <= 1e-5
    stack.detach_all()
    assert not _hooks(stack.model)
    assert (_logits(stack.model, ids) - _logits(load_plain(llama_dir), ids)).abs().max() <= 1e-6


def test_merging_one_adapter_refuses_the_rest_and_merged_weights_equal_fused(llama_dir, loras):
    ids = _ids()
    stack = AdapterStack(load_plain(llama_dir))
    for path, w in zip(loras, WEIGHTS, strict=True):
        stack.add(path, weight=w)
    hooked = _logits(stack.model, ids)
    stack.entries[1].attachment.merge()  # the middle one folds, the other two stay fused
    q = stack.model.model.layers[0].self_attn.q_proj
    assert len(fuser_for(q).items) == 2
    assert (_logits(stack.model, ids) - hooked).abs().max() <= 1e-5
    stack.merge()
    assert not _hooks(stack.model)
    assert (_logits(stack.model, ids) - hooked).abs().max() <= 1e-5
    stack.set_weight("lora2", 0.9)  # a merged adapter is re-folded
    stack.unmerge()
    with separate_steps():
        separate = _logits(stack.model, ids)
    assert (_logits(stack.model, ids) - separate).abs().max() <= 1e-5


def test_ia3_vectors_multiply_into_one_and_dora_stays_in_its_place(llama_dir, loras, tmp_path):
    ids = _ids()
    ia3_a = make_adapter(llama_dir, tmp_path / "ia3a", "ia3", seed=7)
    ia3_b = make_adapter(llama_dir, tmp_path / "ia3b", "ia3", seed=8)
    dora = make_adapter(llama_dir, tmp_path / "dora", "lora", seed=9, use_dora=True)
    stack = AdapterStack(load_plain(llama_dir))
    for path in (loras[0], ia3_a, ia3_b, dora, loras[1]):
        stack.add(path, weight=0.8)
    v = stack.model.model.layers[0].self_attn.v_proj
    fuser = fuser_for(v)
    assert fuser.hook_count == 1 and len(fuser.items) == 5
    fuser._compile()
    assert len(fuser._steps) == 4  # LoRA, one multiplied IA3 vector, DoRA, LoRA
    down = stack.model.model.layers[0].mlp.down_proj
    assert _hooks(stack.model)["model.layers.0.mlp.down_proj"] == 1  # both IA3 input vectors, one hook
    fuser_for(down)._compile()
    assert len(fuser_for(down)._inputs) == 1  # multiplied into one vector
    fused = _logits(stack.model, ids)
    with separate_steps():
        separate = _logits(stack.model, ids)
    assert (fused - separate).abs().max() <= 1e-5
    stack.detach_all()
    # LoRA, DoRA, LoRA: the DoRA step splits the fused run in two, and merging still equals hooking
    for path in (loras[0], dora, loras[1]):
        stack.add(path, weight=0.8)
    fuser._compile()
    assert len(fuser._steps) == 3
    hooked = _logits(stack.model, ids)
    with separate_steps():
        assert (_logits(stack.model, ids) - hooked).abs().max() <= 1e-5
    stack.merge()
    assert (_logits(stack.model, ids) - hooked).abs().max() <= 1e-5


def test_two_ia3_on_one_module_equal_peft_sequentially_applied(llama_dir, tmp_path):
    """Two IA3 adapters through the fused vector equal the same two merged one after the other."""
    ids = _ids()
    first = make_adapter(llama_dir, tmp_path / "a", "ia3", seed=3)
    second = make_adapter(llama_dir, tmp_path / "b", "ia3", seed=4)
    model = load_plain(llama_dir)
    a, b = ia3.attach(model, first), ia3.attach(model, second)
    fused = _logits(model, ids)
    reference = load_plain(llama_dir)
    ra, rb = ia3.attach(reference, first), ia3.attach(reference, second)
    ra.merge()
    rb.merge()
    assert (fused - _logits(reference, ids)).abs().max() <= 1e-5
    b.detach()
    only_a = load_plain(llama_dir)
    lora_free = ia3.attach(only_a, first)
    assert (_logits(model, ids) - _logits(only_a, ids)).abs().max() <= 1e-5
    a.detach()
    lora_free.detach()
    assert not _hooks(model)


def test_lora_attach_directly_shares_the_module_hook(llama_dir, loras):
    model = load_plain(llama_dir)
    attachments = [lora.attach(model, p) for p in loras]
    q = model.model.layers[0].self_attn.q_proj
    assert is_fused(q) and _hooks(model)["model.layers.0.self_attn.q_proj"] == 1
    for att in attachments:
        att.detach()
    assert not is_fused(q) and not _hooks(model)


def _kinds(module) -> list[str]:
    fuser = fuser_for(module)
    fuser._compile()
    return [getattr(step, "kind", "own") for step in fuser._steps]


def test_dense_delta_where_the_total_rank_costs_more_and_back_when_it_shrinks(llama_dir, loras):
    """v_proj is 32 -> 16: three rank-4 LoRAs (12 * (32 + 16) >= 32 * 16) run as one dense delta, q_proj
    (12 * 64 < 32 * 32) as one low-rank pair; both exact, and removing an adapter re-plans the module."""
    ids = _ids()
    stack = AdapterStack(load_plain(llama_dir))
    for path, w in zip(loras, WEIGHTS, strict=True):
        stack.add(path, weight=w)
    attn = stack.model.model.layers[0].self_attn
    assert _kinds(attn.v_proj) == ["dense"] and _kinds(attn.q_proj) == ["low-rank"]
    fused = _logits(stack.model, ids)
    with separate_steps():
        assert _kinds(attn.v_proj) == ["reference"] * 3
        separate = _logits(stack.model, ids)
    assert (fused - separate).abs().max() <= 1e-5
    stack.set_weight("lora1", 0.0)  # re-weighted: the dense delta is summed again
    with separate_steps():
        separate = _logits(stack.model, ids)
    assert (_logits(stack.model, ids) - separate).abs().max() <= 1e-5
    last = stack.entries.pop()
    last.attachment.detach()
    # rank 8: 8 * 48 < 512, so v_proj is a low-rank pair again, and with q_proj's it shares one x A^T
    assert _kinds(attn.v_proj) == ["shared-low-rank"] and _kinds(attn.q_proj) == ["shared-low-rank"]
    with separate_steps():
        separate = _logits(stack.model, ids)
    assert (_logits(stack.model, ids) - separate).abs().max() <= 1e-5


def test_fused_forward_in_other_dtypes_and_with_gradients(llama_dir, loras):
    """Factors follow the activations' dtype (converted once, at the first call in it), and a forward that
    builds a graph adds out of place so gradients reach the input."""
    ids = _ids()
    stack = AdapterStack(load_plain(llama_dir).double())
    for path, w in zip(loras, WEIGHTS, strict=True):
        stack.add(path, weight=w)
    fused = _logits(stack.model, ids)
    assert fused.dtype == torch.float64
    with separate_steps():
        separate = _logits(stack.model, ids)
    assert (fused - separate).abs().max() <= 1e-6  # the saved factors are float32, summed before the cast
    embeds = stack.model.get_input_embeddings()(ids).detach().requires_grad_(True)
    out = stack.model(inputs_embeds=embeds, attention_mask=torch.ones_like(ids)).logits
    assert (out - fused).abs().max() <= 1e-10
    out.sum().backward()
    assert embeds.grad is not None and embeds.grad.abs().sum() > 0


def test_a_stack_of_eight_loras_unmerged_generates_the_merged_tokens(llama_dir, tmp_path):
    """Eight LoRAs hooked (one fused product per module: the A's and scaled B's concatenated) generate what
    the same eight merged into the weights generate, token for token, on a short and a ~200-token prompt."""
    from adapters.runtime.generation import greedy_generate

    paths = [make_adapter(llama_dir, tmp_path / f"l{i}", "lora", seed=20 + i) for i in range(8)]
    hooked, merged = AdapterStack(load_plain(llama_dir)), AdapterStack(load_plain(llama_dir))
    for path in paths:
        hooked.add(path)
        merged.add(path)
    merged.merge()
    q = hooked.model.model.layers[0].self_attn.q_proj
    assert len(fuser_for(q).items) == 8
    for length in (20, 200):
        ids = torch.randint(8, 100, (1, length), generator=torch.Generator().manual_seed(length))
        with torch.no_grad():
            ours = greedy_generate(hooked.model, ids, torch.ones_like(ids), 24, None)
            reference = greedy_generate(merged.model, ids, torch.ones_like(ids), 24, None)
            plain = greedy_generate(load_plain(llama_dir), ids, torch.ones_like(ids), 24, None)
        assert ours.shape[-1] == 24 and torch.equal(ours, reference)
        assert not torch.equal(ours, plain)  # the stack changes the output
    assert len(fuser_for(q)._steps) == 1  # eight adapters, one step on the module


def test_q_and_v_share_one_a_product_equal_to_separate_steps_and_merged(llama_dir, loras):
    """q_proj and v_proj read the same hidden state: their A's are concatenated and one ``x A^T`` serves
    both (each reads its columns); the logits equal the unfused reference and the merged weights, the group
    re-plans when an adapter goes, and an input that is not the same tensor gets its own product."""
    ids = _ids()
    stack = AdapterStack(load_plain(llama_dir))
    stack.add(loras[0])
    attn = stack.model.model.layers[0].self_attn
    shared = _logits(stack.model, ids)
    assert _kinds(attn.q_proj) == ["shared-low-rank"] and _kinds(attn.v_proj) == ["shared-low-rank"]
    group = fuser_for(attn.q_proj).group
    assert group is fuser_for(attn.v_proj).group and group._shared.a_columns == 4 + 4  # rank 4 on each
    with separate_steps():
        separate = _logits(stack.model, ids)
    assert (shared - separate).abs().max() <= 1e-5
    # the same module called on two different inputs: the second is not served the first one's product
    x1, x2 = torch.randn(3, 32), torch.randn(3, 32)
    with torch.no_grad():
        q1, v2 = attn.q_proj(x1), attn.v_proj(x2)
    with separate_steps(), torch.no_grad():
        assert (q1 - attn.q_proj(x1)).abs().max() <= 1e-5 and (v2 - attn.v_proj(x2)).abs().max() <= 1e-5
    stack.add(loras[1], weight=0.5)  # a second adapter: the group re-plans with the longer pairs
    assert group._shared is None
    two = _logits(stack.model, ids)
    with separate_steps():
        assert (two - _logits(stack.model, ids)).abs().max() <= 1e-5
    stack.merge()
    assert not _hooks(stack.model) and (_logits(stack.model, ids) - two).abs().max() <= 1e-5


def test_plain_linear_runs_one_fast_forward_and_falls_back_where_it_must(llama_dir, loras):
    """A plain Linear whose update is one low-rank pair runs the step's fast forward (linear + in-place addmm
    in one function); a call with extra arguments, under autocast, or building a graph takes the general path,
    and every one of them equals the unfused reference."""
    ids = _ids()
    stack = AdapterStack(load_plain(llama_dir))
    for path, w in zip(loras[:2], WEIGHTS[:2], strict=True):
        stack.add(path, weight=w)
    layer = stack.model.model.layers[0]
    down = layer.mlp.down_proj  # its own low-rank pair; q_proj's reads the group's shared product
    for module in (layer.self_attn.q_proj, down):
        fuser = fuser_for(module)
        plan = fuser._compile()
        assert plan is fuser._steps[0].fast
    fused = _logits(stack.model, ids)
    x = torch.randn(2, 5, down.in_features)
    with torch.no_grad():
        out = down(x)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            autocast_out = down(x)
    assert autocast_out.dtype == torch.bfloat16
    graph_x = x.clone().requires_grad_(True)
    graph_out = down(graph_x)
    graph_out.sum().backward()
    with separate_steps():
        assert (fused - _logits(stack.model, ids)).abs().max() <= 1e-5
        with torch.no_grad():
            reference = down(x)
        assert plan is not fuser._compile()  # the reference plan has no fast forward
    assert (out - reference).abs().max() <= 1e-5
    assert (graph_out.detach() - reference).abs().max() <= 1e-5 and graph_x.grad.abs().sum() > 0
    # bfloat16 rounds: the autocast output is the adapted one to that precision, far from the bare layer's
    bare = torch.nn.functional.linear(x, down.weight, down.bias)
    off = (autocast_out.float() - reference).abs().max()
    assert off <= 0.1 and off < (bare - reference).abs().max() / 4
