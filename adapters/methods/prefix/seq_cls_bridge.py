"""Keep PEFT's prefix tuning training for sequence classification working across a transformers rename.

PEFT (0.21 and earlier) decides where to feed its prefix key/values by looking for ``past_key_values`` in
the forward signatures of the model and its backbone; transformers 5.24 calls that argument ``cache``,
so PEFT refuses with "Model does not support past key values". The prefix itself is PEFT's own
(``get_prompt``); only the keyword it is handed over under changes, exactly as PEFT does when it finds the
argument. Applied only when PEFT's own check would fail, so a fixed PEFT is used untouched.
"""

from __future__ import annotations

import inspect
import types
from typing import Any

from ...runtime.cache_kwarg import cache_argument


def _takes_past_key_values(module: Any) -> bool:
    return "past_key_values" in inspect.signature(module.forward).parameters


def needs_prefix_seq_cls_bridge(peft_model: Any) -> bool:
    """True when PEFT's prefix seq-cls forward would refuse a model that does take a cache."""
    from peft import PeftModelForSequenceClassification, PeftType

    if not isinstance(peft_model, PeftModelForSequenceClassification):
        return False
    if peft_model.peft_config[peft_model.active_adapter].peft_type != PeftType.PREFIX_TUNING:
        return False
    base = peft_model.base_model
    backbone = base.get_submodule(peft_model.transformer_backbone_name)
    if _takes_past_key_values(base) or _takes_past_key_values(backbone):
        return False
    return cache_argument(base) == "cache"


def bridge_prefix_seq_cls(peft_model: Any) -> Any:
    """Route PEFT's prefix for seq-cls through the model's ``cache`` argument when PEFT cannot find it."""
    if not needs_prefix_seq_cls_bridge(peft_model):
        return peft_model

    def _prefix_tuning_forward(
        self,
        input_ids=None,
        attention_mask=None,
        inputs_embeds=None,
        labels=None,
        output_attentions=None,
        output_hidden_states=None,
        return_dict=None,
        **kwargs,
    ):
        ref = input_ids if input_ids is not None else inputs_embeds
        kwargs.update(
            input_ids=input_ids,
            attention_mask=attention_mask,
            inputs_embeds=inputs_embeds,
            output_attentions=output_attentions,
            output_hidden_states=output_hidden_states,
            return_dict=return_dict,
            cache=self.get_prompt(ref.shape[0]),
        )
        return self.base_model(labels=labels, **kwargs)

    peft_model._prefix_tuning_forward = types.MethodType(_prefix_tuning_forward, peft_model)
    return peft_model
