"""Bottleneck adapters: identity when untrained, Houlsby vs Pfeiffer placement, save/attach/detach round trip."""

import json

import pytest
import torch

from adapters.base import load_base
from adapters.errors import AdapterError
from adapters.methods.bottleneck import BOTTLENECK
from tests.support.tiny_bases import make_bert_dir, make_llama_dir


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("bn")
    return {"causal-lm": make_llama_dir(root / "llama"), "seq-cls": make_bert_dir(root / "bert")}


def _load(bases, task):
    return load_base(bases[task], task=task, num_labels=2 if task == "seq-cls" else None)


def _inputs(tok):
    return tok("hello moon", return_tensors="pt")


@pytest.mark.parametrize("task", ["causal-lm", "seq-cls"])
@pytest.mark.parametrize("variant,per_layer", [("pfeiffer", 1), ("houlsby", 2)])
def test_untrained_is_identity_and_placement(bases, task, variant, per_layer):
    model, tok = _load(bases, task)
    enc = _inputs(tok)
    with torch.no_grad():
        before = model(**enc).logits
    trained = BOTTLENECK.prepare(model, {"variant": variant, "reduction_factor": 4}, task)
    names = [n for n, p in trained.named_parameters() if p.requires_grad and ".up.weight" in n]
    assert len(names) == per_layer * model.config.num_hidden_layers
    with torch.no_grad():
        torch.testing.assert_close(trained(**enc).logits, before, atol=0, rtol=0)


@pytest.mark.parametrize("task", ["causal-lm", "seq-cls"])
def test_save_attach_reproduces_and_detach_restores(bases, task, tmp_path):
    model, tok = _load(bases, task)
    enc = _inputs(tok)
    with torch.no_grad():
        plain = model(**enc).logits.clone()
    trained = BOTTLENECK.prepare(model, {"variant": "houlsby", "reduction_factor": 4}, task)
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in trained.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=gen) * 0.3)
        expected = trained(**enc).logits
    BOTTLENECK.save(trained, tmp_path / "a", {})
    cfg = json.loads((tmp_path / "a" / "adapter_config.json").read_text())
    assert cfg["peft_type"] == "BOTTLENECK" and cfg["variant"] == "houlsby"
    assert BOTTLENECK.detect(cfg)

    fresh, _ = _load(bases, task)
    with torch.no_grad():
        fresh_plain = fresh(**enc).logits.clone()
        att = BOTTLENECK.attach(fresh, tmp_path / "a")
        torch.testing.assert_close(fresh(**enc).logits, expected, atol=1e-5, rtol=0)
        assert att.mergeable is False and att.latency_note
        with pytest.raises(AdapterError):
            att.merge()
        att.detach()
        torch.testing.assert_close(fresh(**enc).logits, fresh_plain, atol=0, rtol=0)
    assert not any("bottleneck" in n for n, _ in fresh.named_modules())
    if task == "causal-lm":
        torch.testing.assert_close(fresh_plain, plain)


def test_weight_scales_the_delta(bases, tmp_path):
    model, tok = _load(bases, "causal-lm")
    enc = _inputs(tok)
    trained = BOTTLENECK.prepare(model, {"reduction_factor": 4}, "causal-lm")
    with torch.no_grad():
        for p in trained.parameters():
            if p.requires_grad:
                p.fill_(0.1)
    BOTTLENECK.save(trained, tmp_path / "a", {})
    fresh, _ = _load(bases, "causal-lm")
    with torch.no_grad():
        plain = fresh(**enc).logits.clone()

    def run(weight):
        """Logits, and input/output of the first adapted block (its input is the base's at any weight)."""
        att = BOTTLENECK.attach(fresh, tmp_path / "a", weight=weight)
        first = next(name for name, _ in fresh.named_modules() if name in att.layers)
        seen = {}
        handle = fresh.get_submodule(first).register_forward_hook(  # runs after the adapter's own hook
            lambda _m, _i, out: seen.setdefault("out", (out[0] if isinstance(out, tuple) else out).clone())
        )
        with torch.no_grad():
            logits = fresh(**enc).logits.clone()
        handle.remove()
        att.detach()
        return logits, seen["out"]

    _, block_base = run(0.0)  # the adapted block's output with the adapter at weight 0 ...
    logits0, _ = run(0.0)
    logits1, block1 = run(1.0)
    _, block_half = run(0.5)
    torch.testing.assert_close(logits0, plain, atol=0, rtol=0)  # weight 0: exactly the base
    assert (logits1 - plain).abs().max() > 1e-2  # weight 1: attaching changes the output
    delta = block1 - block_base
    assert delta.abs().max() > 1e-2
    torch.testing.assert_close(block_half - block_base, 0.5 * delta, atol=1e-5, rtol=1e-4)  # half the delta
    torch.testing.assert_close(fresh(**enc).logits, plain, atol=0, rtol=0)  # detached: the base again


def test_bad_options_are_adapter_errors(bases):
    model, _ = _load(bases, "causal-lm")
    with pytest.raises(AdapterError, match="variant"):
        BOTTLENECK.prepare(model, {"variant": "sideways"}, "causal-lm")
    with pytest.raises(AdapterError, match="non_linearity"):
        BOTTLENECK.prepare(model, {"non_linearity": "cube"}, "causal-lm")
