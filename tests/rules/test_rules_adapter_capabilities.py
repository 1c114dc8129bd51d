"""What the hub reads an adapter can do from its own files (``hub_rules.adapter_capabilities``): PEFT's
``peft_type`` decides loadable and mergeable unless the card declares them; a native type (bottleneck), a
missing or malformed config assumes nothing; the task is the card's, ``causal-lm`` otherwise. Checked
against the methods' own declarations in the registry, so a method that changes its flags fails here."""

from __future__ import annotations

import pytest

from hub_rules.adapter_capabilities import Capabilities, capabilities

CONFIGS = {
    "lora": "LORA",
    "ia3": "IA3",
    "prompt_tuning": "PROMPT_TUNING",
    "p_tuning": "P_TUNING",
    "prefix_tuning": "PREFIX_TUNING",
    "bottleneck": "BOTTLENECK",
}


@pytest.mark.parametrize("method", list(CONFIGS))
def test_peft_type_agrees_with_the_methods_declared_mergeable_flag(method):
    from adapters.registry import get_method

    spec = get_method(method)
    caps = capabilities({"adapter_hub": {"method": method}}, {"peft_type": CONFIGS[method]})
    assert caps.mergeable is spec.mergeable
    assert caps.peft is (spec.peft_config is not None)  # PEFT-backed methods are the ones PEFT loads


def test_a_card_declaration_wins_and_junk_assumes_nothing():
    declared = {"adapter_hub": {"capabilities": {"mergeable": True, "peft": False}, "task": "seq-cls"}}
    assert capabilities(declared, {"peft_type": "BOTTLENECK"}) == Capabilities(True, False, "seq-cls")
    junk = {"adapter_hub": {"capabilities": {"mergeable": "yes"}, "task": "rm -rf"}}
    assert capabilities(junk, {"peft_type": ["LORA"]}) == Capabilities(False, False, "causal-lm")
    assert capabilities(None, None) == Capabilities(False, False, "causal-lm")
    assert capabilities({"adapter_hub": []}, {"peft_type": "lora"}) == Capabilities(True, True, "causal-lm")
