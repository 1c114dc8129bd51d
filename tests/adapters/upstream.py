"""Known upstream behaviour the PEFT-comparison tests depend on, detected from the installed libraries.

Our runtime never needs these: it is checked against a library-independent reference as well. They only
say, for the tests that compare with PEFT itself, which library is at fault when PEFT breaks on a
transformers release (used as ``xfail(strict=True)`` conditions, so a fixed PEFT shows up at once).
"""

from __future__ import annotations

import inspect


def transformers_names_cache_argument() -> bool:
    from transformers import LlamaForCausalLM, LlamaForSequenceClassification, LlamaModel

    return all(
        "past_key_values" not in inspect.signature(cls.forward).parameters
        for cls in (LlamaForCausalLM, LlamaForSequenceClassification, LlamaModel)
    )


CACHE_RENAME = transformers_names_cache_argument()
CACHE_RENAME_REASON = (
    "transformers renamed the forward argument `past_key_values` to `cache` (5.24); PEFT "
    "still looks for `past_key_values`, so its prefix seq-cls forward refuses the model and "
    "its prompt-learning generate feeds the virtual tokens at the wrong steps"
)
