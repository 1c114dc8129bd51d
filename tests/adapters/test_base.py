"""Base pinning: resolve, pin, load frozen, and refuse adapters made for other weights."""

import warnings

import pytest

from adapters.base import BasePin, BaseWarning, check_pin, load_base, pin_for, resolve_base
from adapters.errors import AdapterError, BaseMismatchError
from tests.support.tiny_bases import make_bert_dir, make_llama_dir


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("b") / "llama")


def test_pin_round_trip_and_fingerprint(llama):
    pin = pin_for(llama, base_id="org/tiny", revision="v1")
    assert pin.fingerprint.startswith("sha256:") and pin.id == "org/tiny"
    assert BasePin.from_dict(pin.to_dict()) == pin
    with pytest.raises(AdapterError):
        BasePin.from_dict({"id": "x"})


def test_resolve_local_and_bad_refs(llama, tmp_path):
    assert resolve_base(str(llama)) == llama
    with pytest.raises(AdapterError, match="no config.json"):
        resolve_base(str(tmp_path))
    with pytest.raises(AdapterError, match="not in the local Hugging Face cache"):
        resolve_base("nobody-here/never-downloaded-model")


def test_load_base_frozen_eval_fp32(llama, tmp_path):
    import torch

    model, tok = load_base(llama)
    assert not model.training
    assert all(not p.requires_grad for p in model.parameters())
    assert {p.dtype for p in model.parameters()} == {torch.float32}
    assert tok.pad_token is not None
    bert = make_bert_dir(tmp_path / "bert")
    cls, _ = load_base(bert, task="seq-cls", label_names=["neg", "pos"])
    assert cls.config.id2label == {0: "neg", 1: "pos"} and cls.num_labels == 2
    with pytest.raises(AdapterError, match="unknown task"):
        load_base(llama, task="translation")


def test_check_pin_refuses_in_one_line_and_override_warns(llama):
    pin = pin_for(llama, base_id="org/tiny")
    other = {"adapter_hub": {"base": {"id": "org/other", "fingerprint": "sha256:" + "b" * 64}}}
    with pytest.raises(BaseMismatchError) as err:
        check_pin(other, pin, adapter_name="a1")
    msg = str(err.value)
    assert "\n" not in msg
    for part in ("a1", "org/other", "sha256:" + "b" * 64, "org/tiny", pin.fingerprint):
        assert part in msg
    with pytest.warns(BaseWarning, match="allowed"):
        check_pin(other, pin, allow_mismatch=True)
    with pytest.warns(BaseWarning, match="not pinned"):
        check_pin({}, pin)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_pin({"adapter_hub": {"base": pin.to_dict()}}, pin)


def test_shape_mismatch_refused_even_when_overridden(llama, tmp_path):
    """A mismatch override never loads tensors that do not fit the architecture."""
    from adapters.base import load_base as lb
    from adapters.methods.bottleneck import BOTTLENECK

    model, _ = lb(llama)
    BOTTLENECK.save(BOTTLENECK.prepare(model, {"reduction_factor": 4}, "causal-lm"), tmp_path / "a", {})
    bert_model, _ = lb(make_bert_dir(tmp_path / "bert2"), task="seq-cls", num_labels=2)
    import json

    cfg = json.loads((tmp_path / "a" / "adapter_config.json").read_text())
    cfg["reduction_factor"] = 2  # same hidden size, different bottleneck width
    (tmp_path / "a" / "adapter_config.json").write_text(json.dumps(cfg))
    fresh, _ = lb(llama)
    with pytest.raises(AdapterError, match="shape"):
        BOTTLENECK.attach(fresh, tmp_path / "a")
    with pytest.raises(AdapterError):
        BOTTLENECK.attach(bert_model, tmp_path / "a")
    assert not any("bottleneck" in n for n, _ in fresh.named_modules())
