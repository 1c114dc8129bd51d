"""Each runtime hook gives exactly PEFT's logits for the same saved adapter, and leaves the base clean."""

from __future__ import annotations

import pytest
import torch

from adapters.errors import AdapterError
from adapters.methods.ia3 import hooks as ia3
from adapters.methods.lora import hooks as lora
from adapters.methods.prefix import hooks as prefix
from adapters.methods.prompt import hooks as prompt
from tests.support.stack_fixtures import load_plain, make_adapter, peft_logits
from tests.support.tiny_bases import make_bert_dir, make_llama_dir

ATTACH = {
    "lora": lora.attach,
    "ia3": ia3.attach,
    "prompt_tuning": prompt.attach,
    "p_tuning": prompt.attach,
    "prefix_tuning": prefix.attach,
}


@pytest.fixture(scope="module")
def llama_dir(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("llama"))


@pytest.fixture(scope="module")
def bert_dir(tmp_path_factory):
    return make_bert_dir(tmp_path_factory.mktemp("bert"))


def _ids(batch: int = 2, length: int = 7):
    return torch.randint(8, 100, (batch, length), generator=torch.Generator().manual_seed(5))


def _hooked_logits(model, attachment, ids):
    inputs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    prepare = getattr(attachment, "prepare_inputs", None)
    if prepare:
        inputs = prepare(model, inputs)
    with torch.no_grad():
        out = model(**inputs).logits
    strip = getattr(attachment, "strip_positions", 0)
    return out[:, strip:] if out.dim() == 3 else out


@pytest.mark.parametrize("method", ["lora", "ia3", "prompt_tuning", "p_tuning", "prefix_tuning"])
def test_causal_lm_hooks_equal_peft(method, llama_dir, tmp_path):
    adapter = make_adapter(llama_dir, tmp_path / method, method)
    ids = _ids()
    model = load_plain(llama_dir)
    with torch.no_grad():
        base = model(input_ids=ids).logits
    attachment = ATTACH[method](model, adapter)
    ours = _hooked_logits(model, attachment, ids)
    ref = peft_logits(llama_dir, adapter, ids)
    assert (ref - base).abs().max() > 1e-3, "the test adapter must change the output"
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)
    attachment.detach()
    with torch.no_grad():
        torch.testing.assert_close(model(input_ids=ids).logits, base)


@pytest.mark.parametrize("method", ["lora", "ia3", "prompt_tuning"])
def test_seq_cls_hooks_equal_peft_including_the_head(method, bert_dir, tmp_path):
    adapter = make_adapter(bert_dir, tmp_path / method, method, task="seq-cls")
    ids = _ids()
    model = load_plain(bert_dir, "seq-cls")
    head_before = model.classifier.weight.detach().clone()
    attachment = ATTACH[method](model, adapter)
    ours = _hooked_logits(model, attachment, ids)
    ref = peft_logits(bert_dir, adapter, ids, task="seq-cls")
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-4)
    assert not torch.equal(model.classifier.weight, head_before)
    attachment.detach()
    assert torch.equal(model.classifier.weight, head_before)


@pytest.mark.parametrize("method", ["lora", "ia3"])
def test_merge_equals_hooks_and_unmerge_restores_weights(method, llama_dir, tmp_path):
    adapter = make_adapter(llama_dir, tmp_path / method, method)
    ids = _ids()
    model = load_plain(llama_dir)
    original = {k: v.clone() for k, v in model.state_dict().items()}
    attachment = ATTACH[method](model, adapter, weight=0.7)
    hooked = _hooked_logits(model, attachment, ids)
    attachment.merge()
    merged = _hooked_logits(model, attachment, ids)
    assert (merged - hooked).abs().max() <= 1e-4 * hooked.abs().max()
    attachment.unmerge()
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, original[key], atol=1e-6, rtol=1e-5)
    attachment.merge()
    attachment.detach()  # detaching a merged adapter unmerges it
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, original[key], atol=1e-6, rtol=1e-5)


def test_lora_weight_scales_the_delta(llama_dir, tmp_path):
    adapter = make_adapter(llama_dir, tmp_path / "lora", "lora")
    model = load_plain(llama_dir)
    att = lora.attach(model, adapter, weight=1.0)
    q = model.model.layers[0].self_attn.q_proj
    x = torch.randn(3, q.in_features)
    full = q(x) - torch.nn.functional.linear(x, q.weight)
    att.set_weight(0.5)
    half = q(x) - torch.nn.functional.linear(x, q.weight)
    torch.testing.assert_close(half, 0.5 * full)
    att.detach()


def test_rslora_scale_matches_peft(llama_dir, tmp_path):
    adapter = make_adapter(llama_dir, tmp_path / "rs", "lora", use_rslora=True)
    ids = _ids()
    model = load_plain(llama_dir)
    ours = _hooked_logits(model, lora.attach(model, adapter), ids)
    torch.testing.assert_close(ours, peft_logits(llama_dir, adapter, ids), atol=1e-5, rtol=1e-4)


def test_pickle_only_adapter_is_refused(llama_dir, tmp_path):
    adapter = make_adapter(llama_dir, tmp_path / "p", "lora")
    (adapter / "adapter_model.safetensors").rename(adapter / "adapter_model.bin")
    with pytest.raises(AdapterError, match="pickle"):
        lora.attach(load_plain(llama_dir), adapter)


def test_adapter_for_another_architecture_is_refused(llama_dir, bert_dir, tmp_path):
    adapter = make_adapter(llama_dir, tmp_path / "l", "lora")
    with pytest.raises(AdapterError, match="wrong base"):
        lora.attach(load_plain(bert_dir, "seq-cls"), adapter)


def test_merged_adapter_leaves_no_hooks_and_unmerge_keeps_stack_order(llama_dir, tmp_path):
    from adapters.runtime.fused import is_fused

    first = make_adapter(llama_dir, tmp_path / "l", "lora", seed=1)
    second = make_adapter(llama_dir, tmp_path / "i", "ia3", seed=2)
    model = load_plain(llama_dir)
    v_proj = model.model.layers[0].self_attn.v_proj
    x = torch.randn(2, 5, v_proj.in_features)
    a, b = lora.attach(model, first), ia3.attach(model, second)
    with torch.no_grad():
        before = v_proj(x)
    assert is_fused(v_proj) and not v_proj._forward_hooks  # LoRA and IA3 on v_proj: one hook
    a.merge()
    b.merge()
    assert not is_fused(v_proj) and not is_fused(model.model.layers[0].mlp.down_proj)
    assert "forward" not in v_proj.__dict__
    b.unmerge()
    a.unmerge()
    assert is_fused(v_proj)
    with torch.no_grad():  # LoRA still applies before the IA3 rescaling, as attached
        assert torch.allclose(v_proj(x), before, atol=1e-5)
