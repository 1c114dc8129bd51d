"""Forward hooks that can be suspended and resumed in their original place in a module's hook order.

A merged adapter must cost nothing, so its hook is taken off the module (even a no-op hook forces
PyTorch's slow call path). On unmerge it must come back in the same position relative to the other
adapters' hooks, or a stack such as LoRA-then-IA3 would change meaning. PyTorch keys each module's
hooks by a globally increasing handle id in an ordered dict, so re-inserting under the old id and
re-sorting restores the original order exactly.
"""

from __future__ import annotations

from typing import Callable

from torch import nn


class SuspendableHook:
    def __init__(self, module: nn.Module, fn: Callable, pre: bool = False):
        self.module, self.fn, self.pre = module, fn, pre
        handle = module.register_forward_pre_hook(fn) if pre else module.register_forward_hook(fn)
        self.id = handle.id
        self.active = True

    def _table(self):
        return self.module._forward_pre_hooks if self.pre else self.module._forward_hooks

    def suspend(self) -> None:
        if self.active:
            self._table().pop(self.id, None)
            self.active = False

    def resume(self) -> None:
        if not self.active:
            table = self._table()
            table[self.id] = self.fn
            for key in sorted(table):
                table.move_to_end(key)
            self.active = True

    def remove(self) -> None:
        self.suspend()
