"""Built-in adapter methods, one folder per method (PEFT's shape); each is a ``MethodSpec`` exposed through
the ``adapter_hub.methods`` entry points, exactly as a third-party method would be.

A method's folder holds its spec and config (``__init__``), its saved files as hooks on a base (``hooks``,
feeding the one fused engine in ``adapters.runtime.fused``) and, where it blends, ``combine``: ``lora``
(also ``factors`` for ``hub compose``), ``ia3``, ``prompt`` (prompt tuning and P-tuning), ``prefix``,
``bottleneck``. ``peft_shared`` is what the PEFT-backed methods share. The core reads only the specs'
declared capabilities, never a method's name.
"""

__all__: list[str] = []
