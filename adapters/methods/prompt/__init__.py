"""Soft prompts: prompt tuning and P-tuning, learned virtual tokens prepended to the input (PEFT).

Both save prompt embeddings, so one hooks module (``hooks``) runs either on a base; the base is untouched.
Only prompt tuning can continue training (``--from``): a P-tuning save holds the encoder's output, not the
encoder, so it has no ``load_trainable``.
"""

from __future__ import annotations

from ...registry import MethodOption, MethodSpec
from ..peft_shared import ALL_OBJECTIVES, VIRTUAL_NOTE, detector, lazy_attach, load_trainable, save, task_type, wrapping

__all__ = ["PROMPT_TUNING", "P_TUNING"]


def _prompt_config(model, options: dict, task: str):
    from peft import PromptTuningConfig

    return PromptTuningConfig(task_type=task_type(task), num_virtual_tokens=int(options.get("num_virtual_tokens", 16)))


def _p_tuning_config(model, options: dict, task: str):
    from peft import PromptEncoderConfig

    return PromptEncoderConfig(
        task_type=task_type(task),
        num_virtual_tokens=int(options.get("num_virtual_tokens", 16)),
        encoder_hidden_size=int(options.get("encoder_hidden_size", 128)),
        encoder_reparameterization_type=str(options.get("encoder_type", "MLP")).upper(),
    )


PROMPT_TUNING = MethodSpec(
    name="prompt_tuning",
    summary="Learned soft-prompt embeddings prepended to the input; the base is untouched.",
    prepare=wrapping(_prompt_config),
    save=save,
    detect=detector("PROMPT_TUNING"),
    attach=lazy_attach("adapters.methods.prompt.hooks"),
    options=(MethodOption("num_virtual_tokens", int, 16, "number of learned prompt tokens"),),
    objectives=ALL_OBJECTIVES,
    quantizable=True,
    peft_config=_prompt_config,
    load_trainable=load_trainable,
    prepares_inputs=True,
    default_lr=3e-2,  # soft prompts need far bigger steps than LoRA
    extra={"latency_note": VIRTUAL_NOTE},
)

P_TUNING = MethodSpec(
    name="p_tuning",
    summary="Soft prompt produced by a small trained encoder (P-tuning); saved as prompt embeddings.",
    prepare=wrapping(_p_tuning_config),
    save=save,
    detect=detector("P_TUNING"),
    attach=lazy_attach("adapters.methods.prompt.hooks"),
    options=(
        MethodOption("num_virtual_tokens", int, 16, "number of learned prompt tokens"),
        MethodOption("encoder_hidden_size", int, 128, "hidden size of the prompt encoder"),
        MethodOption("encoder_type", str, "MLP", "prompt encoder: MLP or LSTM"),
    ),
    objectives=ALL_OBJECTIVES,
    quantizable=True,
    peft_config=_p_tuning_config,
    prepares_inputs=True,
    default_lr=1e-2,
    extra={"latency_note": VIRTUAL_NOTE},
)
