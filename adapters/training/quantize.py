"""Loading a frozen base quantized with bitsandbytes (NF4 or int8): the QLoRA recipe.

Why its own module: one place decides what ``nf4`` and ``int8`` mean (the ``BitsAndBytesConfig``), whether
this machine can run them at all (a tiny quantize round trip on the device, before anything is loaded
or written), which CPU kernel each NF4 layer can run on (bitsandbytes' packed AVX-512-BF16 kernel takes only
some shapes), and what a card records about it. The base pin is never touched here: it stays the
fingerprint of the full-precision weights the user named, so an adapter trained on the quantized base
still loads, stacks and merges on the full-precision one.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import AdapterError

__all__ = [
    "QUANTIZATIONS",
    "card_entry",
    "check_backend",
    "check_mergeable",
    "fit_cpu_kernels",
    "is_quantized",
    "packable_on_cpu",
    "quantization_config",
]

logger = logging.getLogger(__name__)

PACKED_ROWS = 32
"""bitsandbytes' packed AVX-512-BF16 CPU layout interleaves output rows in blocks of this many."""

QUANTIZATIONS = ("nf4", "int8")


def _validate(kind: str) -> str:
    if kind not in QUANTIZATIONS:
        raise AdapterError(f"unknown quantization {kind!r} (choose from {', '.join(QUANTIZATIONS)})")
    return kind


def device() -> str:
    """Where a quantized base runs: the GPU when torch sees one, else the CPU (bitsandbytes has both)."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def check_backend(kind: str) -> None:
    """Refuse in one line unless bitsandbytes can quantize on this machine's device."""
    _validate(kind)
    try:
        import bitsandbytes.functional as bnbf
        import torch

        probe = torch.linspace(-1, 1, 128, device=device()).reshape(2, 64)
        if kind == "nf4":
            packed, state = bnbf.quantize_4bit(probe, quant_type="nf4")
            back = bnbf.dequantize_4bit(packed, state)
        else:
            packed, scales, _ = bnbf.int8_vectorwise_quant(probe)
            back = packed.float() * scales.unsqueeze(1) / 127
        if not bool(torch.isfinite(back).all()) or float((back - probe).abs().max()) > 0.2:
            raise RuntimeError("quantize round trip gave wrong values")
    except Exception as exc:  # noqa: BLE001 - any failure here means "no working backend"
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AdapterError(
            f"--quantize {kind} needs a working bitsandbytes backend on {device()}, "
            f"and this machine has none ({reason})"
        ) from None


def quantization_config(kind: str):
    """The ``BitsAndBytesConfig`` for ``kind``; NF4 computes in fp32 (the CPU has no fast bf16 matmul)."""
    import torch
    from transformers import BitsAndBytesConfig

    if _validate(kind) == "nf4":
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_compute_dtype=torch.float32,
            bnb_4bit_use_double_quant=False,
        )
    return BitsAndBytesConfig(load_in_8bit=True)


def load_kwargs(kind: str | None) -> dict[str, Any]:
    """Extra ``from_pretrained`` arguments: none for full precision, the config and device map otherwise."""
    if kind is None:
        return {}
    return {"quantization_config": quantization_config(kind), "device_map": device()}


def packable_on_cpu(out_features: int, in_features: int, blocksize: int) -> bool:
    """Whether bitsandbytes' packed AVX-512-BF16 CPU kernel can take an NF4 weight of this shape.

    Its layout (``_convert_weight_packed_for_cpu``) reshapes the absmax to one row of ``in/blocksize`` scales
    per output row and interleaves output rows in blocks of 32, so it needs ``in % blocksize == 0`` (which also
    makes ``in`` even) and ``out % 32 == 0``; any other shape fails there (``shape '[32, 0]' is invalid``)."""
    return in_features >= blocksize and in_features % blocksize == 0 and out_features % PACKED_ROWS == 0


def fit_cpu_kernels(model: Any) -> dict[str, list[str]]:
    """Keep every NF4 layer of a loaded model on a CPU kernel that can run it; returns which layer runs where.

    On a CPU with AVX-512-BF16 (Sapphire Rapids, Zen 4 and later) bitsandbytes repacks each NF4 weight for its
    fast kernel at the first inference forward, and that repacking only handles some shapes
    (``packable_on_cpu``). Layers of any other shape stay NF4 but are sent to the generic 4-bit kernel, the
    one every other CPU uses, and one log line names them. Returns ``{"packed": [...], "generic": [...]}``:
    the layer names the fast kernel will run, and those the generic one runs (all of them where the machine,
    or the device, has no packed kernel)."""
    placed: dict[str, list[str]] = {"packed": [], "generic": []}
    refused: list[str] = []
    for name, module in model.named_modules():
        state = getattr(getattr(module, "weight", None), "quant_state", None)
        if state is None or not hasattr(module, "support_avx512bf16_for_cpu"):
            continue  # not an NF4 layer (int8 and full-precision layers never take the packed path)
        out_features, in_features = (int(n) for n in state.shape)
        on_cpu = module.weight.device.type == "cpu"
        if (
            module.support_avx512bf16_for_cpu
            and on_cpu
            and not packable_on_cpu(out_features, in_features, int(state.blocksize))
        ):
            module.support_avx512bf16_for_cpu = False
            refused.append(f"{name} [{out_features}x{in_features}]")
        placed["packed" if module.support_avx512bf16_for_cpu and on_cpu else "generic"].append(name)
    if refused:
        logger.warning(
            "%d NF4 layer(s) have shapes bitsandbytes' packed AVX-512-BF16 CPU kernel cannot take "
            "(it needs out %% %d == 0 and in %% blocksize == 0); they stay NF4 on the generic "
            "4-bit kernel: %s%s",
            len(refused),
            PACKED_ROWS,
            ", ".join(refused[:8]),
            f" and {len(refused) - 8} more" if len(refused) > 8 else "",
        )
    return placed


def card_entry(kind: str) -> dict[str, Any]:
    """What an adapter card records next to the base pin (the pin itself stays the full-precision one)."""
    from importlib.metadata import version

    entry: dict[str, Any] = {"library": "bitsandbytes", "version": version("bitsandbytes"), "type": _validate(kind)}
    if kind == "nf4":
        entry.update(bits=4, compute_dtype="float32")
    else:
        entry.update(bits=8)
    return entry


def is_quantized(model: Any) -> str | None:
    """The quantization a loaded model carries (``nf4``/``int8``), or None for a full-precision one."""
    config = getattr(getattr(model, "config", None), "quantization_config", None)
    if config is None:
        return None
    get = config.get if isinstance(config, dict) else lambda k, d=None: getattr(config, k, d)
    if get("load_in_4bit"):
        return str(get("bnb_4bit_quant_type") or "nf4")
    return "int8" if get("load_in_8bit") else "quantized"


def check_mergeable(kind: str | None) -> None:
    """Folding adapter deltas into packed 4/8-bit weights would re-quantize them: refuse, point at the fix."""
    if kind:
        raise AdapterError(
            f"cannot merge into a {kind}-quantized base: merge into the full-precision base "
            "instead (drop --quantize); the adapter is pinned to it"
        )


def prepare_for_training(model: Any, checkpointing: bool = True) -> Any:
    """PEFT's k-bit preparation, the QLoRA recipe: norms in fp32, input grads on, gradient checkpointing.

    Checkpointing matters on a quantized base: each layer's weights are dequantized for its matmul, and
    without it autograd keeps every dequantized copy for the backward pass (as much memory as the fp32
    model); with it they are dequantized again during the backward pass instead. Methods that cannot train
    under it (``MethodSpec.checkpointable``) pass ``checkpointing=False``."""
    from peft import prepare_model_for_kbit_training

    return prepare_model_for_kbit_training(
        model, use_gradient_checkpointing=checkpointing, gradient_checkpointing_kwargs={"use_reentrant": False}
    )
