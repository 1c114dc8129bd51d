"""Where bottleneck adapters go in a transformer, per architecture family.

Houlsby: after the attention block's output and after the feed-forward block's output.
Pfeiffer: after the feed-forward block only. Both sit before the residual add / LayerNorm.
"""

from __future__ import annotations

from torch import nn

from ...errors import AdapterError


def output_hook(layer: nn.Module):
    """A forward hook that runs ``layer`` on a block's output (the first item when the block returns a tuple):
    how a bottleneck adapter, or a fusion of several, sits after the block it adapts."""

    def hook(_module, _inputs, output):
        if isinstance(output, tuple):
            return (layer(output[0]), *output[1:])
        return layer(output)

    return hook


def _block_outputs(model: nn.Module) -> list[tuple[str, str]]:
    """``(attention_output_path, ffn_output_path)`` per transformer layer."""
    found = []
    for name, module in model.named_modules():
        if hasattr(module, "self_attn") and hasattr(module, "mlp"):  # LLaMA, Mistral, Qwen, SmolLM ...
            found.append((f"{name}.self_attn", f"{name}.mlp"))
        elif (
            hasattr(module, "attention")
            and hasattr(getattr(module.attention, "output", None), "dense")
            and hasattr(getattr(module, "output", None), "dense")
        ):  # BERT, RoBERTa ...
            found.append((f"{name}.attention.output.dense", f"{name}.output.dense"))
    return found


def adapter_sites(model: nn.Module, variant: str) -> list[str]:
    """Module paths whose outputs an adapter rewrites."""
    blocks = _block_outputs(model)
    if not blocks:
        raise AdapterError(
            f"bottleneck: unsupported architecture {type(model).__name__} "
            "(LLaMA-family and BERT-family models are supported)"
        )
    if variant == "houlsby":
        return [path for pair in blocks for path in pair]
    return [ffn for _, ffn in blocks]


def classifier_head(model: nn.Module) -> tuple[str, nn.Module] | None:
    """The freshly initialised sequence-classification head that must be trained and saved too."""
    for attr in ("score", "classifier"):
        head = getattr(model, attr, None)
        if isinstance(head, nn.Module):
            return attr, head
    return None
