"""The detach/merge lifecycle the attachment kinds share, written once.

Weight-side attachments (LoRA, IA3) hook Linear layers: detaching unmerges, unhooks and puts back any
head PEFT saved alongside. Input-side attachments (prompt, prefix) only change what the model is fed:
there is nothing to fold, and detaching only puts back such a head.
"""

from __future__ import annotations


class HookedLayers:
    """Mixin for attachments with ``layers`` (each with a ``hook``), ``unmerge`` and ``saved_modules``."""

    def _remove_hooks(self) -> None:
        for layer in self.layers:
            layer.hook.remove()

    def detach(self) -> None:
        self.unmerge()
        self._remove_hooks()
        self.saved_modules.restore()


class InputSide:
    """Mixin for attachments that prepare inputs and may carry ``saved_modules`` (a seq-cls head)."""

    def merge(self) -> None:
        """Nothing to fold: the cost is on the input side and stays."""

    def unmerge(self) -> None:
        """Nothing was folded."""

    def detach(self) -> None:
        """No hooks on the model: the stack stops preparing inputs; a swapped-in head is restored."""
        if self.saved_modules is not None:
            self.saved_modules.restore()
            self.saved_modules = None
