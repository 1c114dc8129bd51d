"""One forward pass's logits, whatever the model returns (a bare base, a PEFT model or an ``AdapterStack``):
shared by greedy decoding, classification and perplexity so each reads outputs the same way."""

from __future__ import annotations

from typing import Any


def logits_of(model: Any, **inputs: Any) -> Any:
    out = model(**inputs)
    return out.logits if hasattr(out, "logits") else out[0]
