"""The frozen base model and its pin: find it, identify it by its weights, load it, guard adapters.

An adapter only makes sense on the exact weights it was trained on. The pin
(id, revision, fingerprint) travels in every adapter card; ``check_pin`` refuses a
mismatch in one line unless the user explicitly overrides it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import AdapterError, BaseMismatchError
from ..resolver import HUB_SCHEME, Resolver, pull_reference
from .pin import BasePin

__all__ = ["TASKS", "BasePin", "BaseWarning", "base_dir_for", "check_pin", "load_base", "pin_for", "resolve_base"]

TASKS = ("causal-lm", "seq-cls")


class BaseWarning(UserWarning):
    """An adapter is used on a base it is not (provably) pinned to."""


def resolve_base(ref: str | Path, revision: str | None = None, resolver: Resolver | None = None) -> Path:
    """A local model directory for ``ref``: a path, ``hub://NS/NAME[@V]`` (pulled by the caller's ``resolver``),
    or an HF repo id in the local cache."""
    ref = str(ref)
    if ref.startswith(HUB_SCHEME):
        return pull_reference(ref, resolver, "base")
    path = Path(ref).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise AdapterError(f"{path}: not a model directory (no config.json)")
        return path
    if path.exists() or ref.count("/") != 1 or ref.startswith((".", "/", "~")):
        raise AdapterError(f"base {ref!r} is not a model directory, hub://NAMESPACE/NAME[@VERSION] or an HF repo id")
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(ref, revision=revision, local_files_only=True))
    except Exception as exc:  # noqa: BLE001 - offline cache miss is a user-facing condition
        raise AdapterError(f"base {ref!r} is not in the local Hugging Face cache ({type(exc).__name__})") from None


def base_dir_for(
    base: str | Path | None,
    fronts: Sequence[dict],
    names: Sequence[str],
    resolver: Resolver | None = None,
    revision: str | None = None,
) -> Path:
    """The base directory for a command on some adapters: ``base`` when given, else the base they are pinned
    to, found by its fingerprint (``adapters.base.lookup.find_base``). Adapters with no pin at all fall back
    to the ``base_model`` their card names (looked up like ``--base``; loading them warns that nothing is checked)."""
    if base is not None and str(base) != "":
        return resolve_base(base, revision=revision, resolver=resolver)
    if not any(((((f or {}).get("adapter_hub") or {}).get("base")) or {}).get("fingerprint") for f in fronts):
        named = next((f.get("base_model") for f in fronts if f and f.get("base_model")), None)
        if named:
            return resolve_base(str(named), revision=revision, resolver=resolver)
    from .lookup import find_base, pin_of_adapters

    return find_base(pin_of_adapters(fronts, names), resolver)


def _hf_cache_repo_id(model_dir: Path) -> str | None:
    """``org/name`` for a snapshot in the Hugging Face cache (``models--org--name/snapshots/<commit>``)."""
    resolved = model_dir.absolute()
    owner = resolved.parent.parent.name
    if resolved.parent.name == "snapshots" and owner.startswith("models--"):
        return owner[len("models--") :].replace("--", "/")
    return None


def _base_id(model_dir: Path) -> str:
    from ..card import read_card

    if repo_id := _hf_cache_repo_id(model_dir):
        return repo_id
    card = read_card(model_dir)
    if card and card.front.get("base_model") and not card.front.get("base_model_relation"):
        return str(card.front["base_model"])
    try:
        name = json.loads((model_dir / "config.json").read_text()).get("_name_or_path")
    except (OSError, ValueError):
        name = None
    if name and not Path(name).is_absolute():
        return str(name)
    return model_dir.resolve().name


def pin_for(model_dir: str | Path, base_id: str | None = None, revision: str | None = None) -> BasePin:
    """The pin of a local base directory (fingerprint of its safetensors weights); the directory is remembered
    in the local base index so adapters pinned to it find it later."""
    from .fingerprint import fingerprint
    from .index import remember

    model_dir = Path(model_dir)
    pin = BasePin(id=base_id or _base_id(model_dir), revision=revision, fingerprint=fingerprint(model_dir))
    remember(model_dir, pin.fingerprint, pin.id, "--base")
    return pin


def check_pin(adapter_front: dict, pin: BasePin, allow_mismatch: bool = False, adapter_name: str = "") -> None:
    """Refuse (or, when overridden, warn about) an adapter pinned to other base weights."""
    label = f"adapter {adapter_name}" if adapter_name else "adapter"
    hub = (adapter_front or {}).get("adapter_hub") or {}
    pinned = hub.get("base") or {}
    if not pinned.get("fingerprint"):
        warnings.warn(
            f"{label} is not pinned to a base; cannot verify it matches {pin.id} ({pin.fingerprint})",
            BaseWarning,
            stacklevel=2,
        )
        return
    if pinned["fingerprint"] == pin.fingerprint:
        return
    message = (
        f"{label} was trained on base {pinned.get('id') or '?'} ({pinned['fingerprint']}) "
        f"but the loaded base is {pin.id} ({pin.fingerprint})"
    )
    if allow_mismatch:
        warnings.warn(message + "; continuing because the mismatch was allowed", BaseWarning, stacklevel=2)
        return
    raise BaseMismatchError(message + "; pass --allow-base-mismatch to use it anyway")


def load_base(
    model_dir: str | Path,
    task: str = "causal-lm",
    num_labels: int | None = None,
    label_names: list[str] | None = None,
    with_tokenizer: bool = True,
    quantize: str | None = None,
) -> tuple[Any, Any]:
    """``(model, tokenizer)``: fp32, eval mode, every parameter frozen.

    ``quantize="nf4"|"int8"`` loads the linear layers quantized with bitsandbytes (``adapters.training.quantize``);
    the caller checks the backend first.

    ``with_tokenizer=False`` returns ``None`` for the tokenizer: a loaded fast tokenizer holds tens of MB
    that a merge, which only copies the tokenizer files, must not keep."""
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer

    from ..training.quantize import fit_cpu_kernels, load_kwargs

    if task not in TASKS:
        raise AdapterError(f"unknown task {task!r} (known: {', '.join(TASKS)})")
    model_dir = Path(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    if task == "causal-lm":
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, **load_kwargs(quantize))
    else:
        if label_names:
            num_labels = len(label_names)
        kwargs: dict[str, Any] = {"num_labels": num_labels or 2}
        if label_names:
            kwargs["id2label"] = dict(enumerate(label_names))
            kwargs["label2id"] = {n: i for i, n in enumerate(label_names)}
        model = AutoModelForSequenceClassification.from_pretrained(
            model_dir, dtype=torch.float32, **kwargs, **load_kwargs(quantize)
        )
        if model.config.pad_token_id is None and tokenizer.pad_token_id is not None:
            model.config.pad_token_id = tokenizer.pad_token_id
    if quantize is not None:
        model.hub_kernels = fit_cpu_kernels(model)  # every NF4 layer on a CPU kernel that can run its shape
    model.eval()
    for param in model.parameters():
        param.requires_grad_(False)
    return model, tokenizer if with_tokenizer else None
