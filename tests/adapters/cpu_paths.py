"""bitsandbytes' two CPU paths for NF4, so a test runs on both whatever CPU runs it.

On a CPU with AVX-512-BF16, bitsandbytes repacks NF4 weights for a fused kernel at the first inference
forward; on any other CPU it dequantizes and multiplies. It decides per layer, when the layer is built
(``Linear4bit.support_avx512bf16_for_cpu`` from ``bitsandbytes.nn.modules.has_avx512bf16``). ``use_path``
makes layers built afterwards take the path asked for. The repacking is bitsandbytes' own code on either
machine; only where the CPU lacks the instructions does the fused kernel (native code that would stop the
process with an illegal instruction) run as its pure-torch definition: unpack with bitsandbytes' own
inverse, dequantize, multiply in bf16, as the fused kernel does.
"""

from __future__ import annotations

import copy

import bitsandbytes.functional as bnbf
import bitsandbytes.nn.modules as bnb_modules
import torch

MACHINE_PACKS = bool(bnbf.has_avx512bf16())
MACHINE_PATH = "packed" if MACHINE_PACKS else "generic"
PATHS = ["packed", "generic"]
_real_gemv = bnbf.gemv_4bit


def _packed_gemv_in_torch(A, B, out=None, state=None, transposed_A=False, transposed_B=False):
    """The fused AVX-512-BF16 kernel's result for a repacked weight, computed with plain torch."""
    if not getattr(state, "packing_format_for_cpu", False):
        return _real_gemv(A, B, out=out, state=state, transposed_A=transposed_A, transposed_B=transposed_B)
    qweight, _ = bnbf._convert_weight_packed_for_cpu_inverse(B, copy.deepcopy(state))
    flat = bnbf.QuantState(
        absmax=state.absmax.T.reshape(-1).float(),
        shape=state.shape,
        code=state.code,
        blocksize=state.blocksize,
        quant_type=state.quant_type,
        dtype=torch.bfloat16,
    )
    weight = bnbf.dequantize_4bit(qweight, flat)
    return torch.nn.functional.linear(A.to(torch.bfloat16), weight).to(A.dtype)


def use_path(monkeypatch, path: str) -> str:
    """Make NF4 layers built from now on take ``path`` ("packed" or "generic"); returns it."""
    if path != MACHINE_PATH:
        packs = path == "packed"
        monkeypatch.setattr(bnb_modules, "has_avx512bf16", lambda: packs)
        if packs:
            monkeypatch.setattr(bnbf, "gemv_4bit", _packed_gemv_in_torch)
    return path
