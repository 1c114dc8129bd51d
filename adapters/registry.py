"""The method registry: adapter kinds are plugins, found through one entry-point group.

Built-in methods are declared in this project's own ``pyproject.toml`` under the
``adapter_hub.methods`` group, exactly like a third-party package would, so the core
never needs to know a method by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol

from .errors import AdapterError

ENTRY_POINT_GROUP = "adapter_hub.methods"


@dataclass(frozen=True)
class MethodOption:
    """One user-facing knob of a method (becomes a ``--flag`` of ``hub train``)."""

    name: str
    type: type
    default: Any
    help: str = ""


class Attachment(Protocol):
    """A live adapter hooked onto a base model.

    ``merge`` folds the adapter into the base weights in place (only when the spec
    says ``mergeable``); ``unmerge`` restores them; ``detach`` removes every hook and
    leaves the base exactly as it was.
    """

    name: str
    mergeable: bool
    merged: bool
    latency_note: str  # why it still costs time when it cannot be merged ("" if mergeable)

    def merge(self) -> None: ...

    def unmerge(self) -> None: ...

    def detach(self) -> None: ...


@dataclass(frozen=True)
class MethodSpec:
    """Everything the core needs to train, save, load, stack and merge one method.

    prepare(model, options, task) -> torch.nn.Module
        Wrap a frozen base for training; only adapter parameters require grad.
    save(trained, out_dir, options) -> None
        Write the method's own files (PEFT layout for PEFT-backed methods:
        adapter_config.json + adapter_model.safetensors).
    detect(adapter_config: dict) -> bool
        True when a plain adapter directory (no card of ours) belongs to this method.
    attach(model, adapter_dir, weight, name) -> Attachment
        Hook a saved adapter onto a (possibly already stacked) base model.

    Capabilities the core reads (never the method's name):
    objectives     training objectives it supports (``causal-lm``, ``seq-cls``, ``dpo``, ``distill``, ``reward``,
                   ``grpo``, see ``adapters.training.objectives``); ``dpo``, ``reward`` and ``grpo`` also need
                   ``peft_config``.
    quantizable    it trains and runs on a base quantized with bitsandbytes (``--quantize nf4|int8``).
    checkpointable it trains under gradient checkpointing (used on quantized bases to save memory).
    peft_config(model, options, task) -> peft.PeftConfig
        The method as a PEFT config, for trainers (TRL) that wrap the model themselves.
    low_rank_factors(adapter_dir) -> {module path: (A, B)}
        The saved adapter as exact per-Linear deltas ``B @ A`` (scale folded into B), so ``hub compose``
        can weight and concatenate it with others; None when the method is not such a sum.
    mergeable      its attachments can fold into the base weights (``hub merge``, ``load_stack(merge=True)``).
    combinable     ``hub combine`` may blend several of its adapters into one; then ``combine`` says how
                   and ``combinations`` names the ways it offers (the first is the default).
    combine(request: CombineRequest) -> dict
        Write the child of ``request.parents`` into ``request.out`` (the method's own files; the core adds
        the card); returns the settings it used (recorded in the card's ``combination``).
    prepares_inputs its attachment feeds the model extra positions (virtual tokens, prefix caches) through
                   ``prepare_inputs``; a stack holds at most one such adapter.
    default_lr / default_batch_size
                   training defaults when the user gives none (None: the core's ``DEFAULT_LR`` etc.).
    resolve_options(options, pin, resolver, allow_base_mismatch) -> dict
                   for a method whose options name other saved adapters (AdapterFusion's members): make them
                   local through the caller's ``Resolver`` and check them against the base pin, before any
                   weights load or any file is written; returns the options ``prepare`` and ``save`` get (the
                   card keeps the options as given).
    lineage(adapter_dir) -> [dict]
                   the adapters a saved one is built from, for its card's ``lineage`` (None: built from none).
    load_trainable(trainable, adapter_dir, options) -> None
                   copy a saved adapter's weights into a model ``prepare`` just made with the same options,
                   leaving them trainable, so ``hub train --from`` continues from them (None: it cannot).
    """

    name: str
    summary: str
    prepare: Callable[..., Any]
    save: Callable[..., None]
    detect: Callable[[dict], bool]
    attach: Callable[..., Attachment]
    options: tuple[MethodOption, ...] = ()
    tasks: tuple[str, ...] = ("causal-lm", "seq-cls")
    mergeable: bool = False
    combinable: bool = False
    combine: Callable[[CombineRequest], dict] | None = None
    combinations: tuple[str, ...] = ()
    prepares_inputs: bool = False
    default_lr: float | None = None
    default_batch_size: int | None = None
    objectives: tuple[str, ...] = ("causal-lm", "seq-cls")
    quantizable: bool = False
    checkpointable: bool = True
    peft_config: Callable[..., Any] | None = None
    files: tuple[str, ...] = ("adapter_config.json", "adapter_model.safetensors")
    low_rank_factors: Callable[[Path], dict] | None = None
    resolve_options: Callable[..., dict] | None = None
    lineage: Callable[[Path], list[dict]] | None = None
    load_trainable: Callable[..., None] | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.combinable and (self.combine is None or not self.combinations):
            raise AdapterError(
                f"method {self.name!r} declares combinable but gives no combine callable and combinations"
            )

    def defaults(self) -> dict[str, Any]:
        return {o.name: o.default for o in self.options}

    def options_from_config(self, adapter_config: dict) -> dict[str, Any]:
        """This method's options as a saved ``adapter_config.json`` records them (for a derived adapter's card)."""
        return {o.name: adapter_config[o.name] for o in self.options if o.name in adapter_config}


@dataclass(frozen=True)
class CombineRequest:
    """What ``MethodSpec.combine`` is handed: checked parents (one method, one base pin) and how to blend them.

    out        an empty directory for the child's files (the core writes the card and moves it into place)
    load_base  the pinned base model, loaded on first call (methods that blend saved tensors never call it)
    step       advance the progress bar; call it once per parent read
    """

    parents: tuple[Path, ...]
    weights: tuple[float, ...]
    how: str
    out: Path
    task: str
    density: float | None = None
    svd_rank: int | None = None
    load_base: Callable[[], Any] = lambda: None
    step: Callable[[], None] = lambda: None


class MethodRegistry:
    """A dict of specs, filled lazily from entry points (no import-time side effects)."""

    def __init__(self) -> None:
        self._specs: dict[str, MethodSpec] = {}
        self._loaded = False

    def register(self, spec: MethodSpec) -> None:
        self._specs[spec.name] = spec

    def _load_entry_points(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if ep.name in self._specs:
                continue
            spec = ep.load()
            if not isinstance(spec, MethodSpec):
                raise AdapterError(f"entry point {ep.value} is not a MethodSpec")
            self._specs.setdefault(spec.name, spec)

    def get(self, name: str) -> MethodSpec:
        self._load_entry_points()
        try:
            return self._specs[name]
        except KeyError:
            known = ", ".join(sorted(self._specs)) or "none"
            raise AdapterError(f"unknown adapter method {name!r} (installed: {known})") from None

    def all(self) -> list[MethodSpec]:
        self._load_entry_points()
        return [self._specs[k] for k in sorted(self._specs)]

    def detect(self, adapter_config: dict) -> MethodSpec:
        for spec in self.all():
            if spec.detect(adapter_config):
                return spec
        raise AdapterError("no installed method recognises this adapter_config.json")


registry = MethodRegistry()


def get_method(name: str) -> MethodSpec:
    return registry.get(name)


def list_methods() -> list[MethodSpec]:
    return registry.all()


def method_for_dir(adapter_dir: Path) -> MethodSpec:
    """The spec for a saved adapter: from its card if it has one, else by detection."""
    import json

    from .card import read_card

    card = read_card(adapter_dir)
    name = (card.front.get("adapter_hub") or {}).get("method") if card else None
    if name:
        return get_method(name)
    cfg_path = Path(adapter_dir) / "adapter_config.json"
    if not cfg_path.exists():
        raise AdapterError(f"{adapter_dir}: no adapter_config.json and no card naming a method")
    return registry.detect(json.loads(cfg_path.read_text()))
