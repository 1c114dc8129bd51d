"""The base model an adapter belongs to: its pin, finding it by fingerprint, loading it, the default base.

``pin`` (the value every card carries), ``fingerprint`` (what identifies the weights, pure Python),
``load`` (resolve, pin and load a base; guard adapters against another base), ``lookup`` and ``index``
(find a base by its pin: the local index, the caller's hub, the Hugging Face cache), ``default`` (the
SmolLM2 base the tests and examples use: ``python -m adapters.base.default``), ``gguf_import``.
Names are loaded lazily, so reading a pin or a fingerprint never imports torch.
"""

from __future__ import annotations

from ..lazy_exports import lazy_getattr

_EXPORTS: dict[str, str] = {
    "BasePin": "adapters.base.pin",
    "BaseWarning": "adapters.base.load",
    "TASKS": "adapters.base.load",
    "base_dir_for": "adapters.base.load",
    "check_pin": "adapters.base.load",
    "load_base": "adapters.base.load",
    "pin_for": "adapters.base.load",
    "resolve_base": "adapters.base.load",
    "BaseNotFound": "adapters.base.lookup",
    "find_base": "adapters.base.lookup",
    "pin_of_adapters": "adapters.base.lookup",
    "IndexedBase": "adapters.base.index",
    "indexed_bases": "adapters.base.index",
    "remember": "adapters.base.index",
    "import_gguf": "adapters.base.gguf_import",
    "gguf_model_id": "adapters.base.gguf_import",
    "ensure_default_base": "adapters.base.default",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_getattr(__name__, _EXPORTS)
