"""Built-in methods come from entry points; PEFT-backed specs save what unmodified PEFT loads."""

import pytest
import torch

from adapters.base import load_base
from adapters.errors import AdapterError
from adapters.registry import get_method, list_methods, method_for_dir, registry
from tests.support.tiny_bases import make_bert_dir, make_llama_dir

PEFT_METHODS = ["lora", "ia3", "prompt_tuning", "prefix_tuning", "p_tuning"]


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    root = tmp_path_factory.mktemp("reg")
    return {"causal-lm": make_llama_dir(root / "llama"), "seq-cls": make_bert_dir(root / "bert")}


def test_builtins_registered_with_defaults():
    names = {s.name for s in list_methods()}
    assert set(PEFT_METHODS) | {"bottleneck"} <= names
    lora = get_method("lora").defaults()
    assert (lora["r"], lora["lora_alpha"], lora["lora_dropout"]) == (8, 16, 0.05)
    assert get_method("lora").mergeable and get_method("ia3").mergeable
    assert not get_method("bottleneck").mergeable and not get_method("prompt_tuning").mergeable
    assert get_method("prompt_tuning").defaults()["num_virtual_tokens"] == 16
    with pytest.raises(AdapterError, match="unknown adapter method"):
        get_method("nope")


@pytest.mark.parametrize("task", ["causal-lm", "seq-cls"])
def test_lora_auto_targets_per_architecture(bases, task):
    model, _ = load_base(bases[task], task=task, num_labels=2 if task == "seq-cls" else None)
    peft_model = get_method("lora").prepare(model, get_method("lora").defaults(), task)
    targets = set(peft_model.peft_config["default"].target_modules)
    assert targets == ({"q_proj", "v_proj"} if task == "causal-lm" else {"query", "value"})
    trainable = [n for n, p in peft_model.named_parameters() if p.requires_grad]
    assert trainable and all("lora_" in n or "classifier" in n or "score" in n for n in trainable)


@pytest.mark.parametrize("method", PEFT_METHODS)
def test_saved_dir_loads_with_plain_peft_and_is_detected(bases, method, tmp_path):
    from peft import PeftModel

    spec = get_method(method)
    model, tok = load_base(bases["causal-lm"])
    trained = spec.prepare(model, spec.defaults(), "causal-lm")
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in trained.parameters():
            if p.requires_grad:
                p.add_(torch.randn(p.shape, generator=gen) * 0.1)
    trained.eval()
    enc = tok("hello", return_tensors="pt")
    with torch.no_grad():
        expected = trained(**enc).logits[:, -1]
    spec.save(trained, tmp_path / "a", spec.defaults())
    assert (tmp_path / "a" / "adapter_model.safetensors").is_file()
    assert not list((tmp_path / "a").glob("*.bin"))
    assert method_for_dir(tmp_path / "a").name == method
    fresh, _ = load_base(bases["causal-lm"])
    loaded = PeftModel.from_pretrained(fresh, str(tmp_path / "a"))
    loaded.eval()
    with torch.no_grad():
        torch.testing.assert_close(loaded(**enc).logits[:, -1], expected, atol=1e-5, rtol=0)


def test_detect_unknown_config_is_an_error():
    with pytest.raises(AdapterError):
        registry.detect({"peft_type": "SOMETHING_ELSE"})
