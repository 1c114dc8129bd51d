"""Fold adapters into the base weights and write a plain transformers model directory.

The result loads with ``AutoModelFor*.from_pretrained`` alone (no PEFT, no adapter code) and runs as
fast as the base. Adapters that cannot be folded are never dropped silently: they are copied to
``attached/``, listed in the card, and reported with the reason they still cost time.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import AdapterError
from ..resolver import Resolver


@dataclass
class MergeResult:
    out: Path
    merged: list[str] = field(default_factory=list)
    attached: list[dict] = field(default_factory=list)  # {"name", "method", "note", "path"}


def lineage_entry(ref: str | Path, adapter_dir: Path, front: dict, weight: float, method: str) -> dict:
    from ..base.fingerprint import fingerprint

    hub = front.get("adapter_hub") or {}
    text = str(ref)
    repo, _, version = text.partition("@")
    is_ref = not Path(text).is_dir()
    return {
        "id": repo if is_ref else (hub.get("id") or adapter_dir.name),
        "version": (version or None) if is_ref else hub.get("version"),
        "fingerprint": fingerprint(adapter_dir),
        "weight": float(weight),
        "method": method,
    }


def _card_front(stack, lineage: list[dict], attached: list[dict], own_fingerprint: str) -> dict:
    pin = stack.pin.to_dict() if stack.pin is not None else None
    return {
        "library_name": "transformers",
        "base_model": (pin or {}).get("id"),
        "base_model_relation": "merge",
        "tags": ["adapter-hub", "merge", stack.task],
        "adapter_hub": {
            "kind": "base",
            "task": stack.task,
            "base": pin,
            "fingerprint": own_fingerprint,
            "lineage": lineage,
            "attached": [
                {"name": a["name"], "method": a["method"], "note": a["note"], "path": a["path"]} for a in attached
            ],
        },
    }


def _card_body(merged: list[str], attached: list[dict]) -> str:
    lines = ["# Merged model", "", "Adapters folded into the weights: " + (", ".join(merged) or "none") + "."]
    if attached:
        lines += ["", "Adapters that could not be folded (still attached, in `attached/`):", ""]
        lines += [f"- {a['name']} ({a['method']}): {a['note']}" for a in attached]
    return "\n".join(lines) + "\n"


TOKENIZER_FILES = (
    "tokenizer*",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.*",
    "merges.txt",
    "chat_template.*",
    "*.model",
)


def _copy_tokenizer_files(base_dir: Path, out: Path) -> None:
    """The base's own tokenizer files, byte for byte: no tokenizer object (tens of MB) is loaded to write them."""
    for pattern in TOKENIZER_FILES:
        for path in base_dir.glob(pattern):
            if path.is_file() and not (out / path.name).exists():
                shutil.copyfile(path, out / path.name)


def merge_to_dir(
    base: str | Path | None,
    adapters: Sequence[str | Path],
    weights: Sequence[float] | None,
    out: str | Path,
    *,
    task: str | None = None,
    allow_base_mismatch: bool = False,
    progress: bool = True,
    resolver: Resolver | None = None,
    quantize: str | None = None,
) -> MergeResult:
    """Load ``base`` with ``adapters`` stacked, merge in place, save the weights, tokenizer and a card.

    ``base=None``: the base the adapters are pinned to, found by fingerprint; ``resolver`` as in ``load_stack``.

    Each mergeable adapter is folded as soon as it is attached and its tensors freed, and the tokenizer is
    copied as files, so the peak memory is the base model plus one adapter."""
    from tqdm.auto import tqdm

    from ..base.fingerprint import fingerprint
    from ..card import write_card
    from ..training.quantize import check_mergeable
    from .stack import adapter_front, load_stack

    check_mergeable(quantize)  # folding into packed 4/8-bit weights is refused before anything loads
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise AdapterError(f"{out}: output directory is not empty")
    weights = list(weights) if weights is not None else [1.0] * len(adapters)
    stack = load_stack(
        base,
        adapters,
        weights,
        task=task,
        allow_base_mismatch=allow_base_mismatch,
        with_tokenizer=False,
        fold=True,
        resolver=resolver,
    )
    bar = tqdm(total=len(stack.entries) + 1, desc="merge", unit="adapter", disable=not progress)
    result = MergeResult(out, merged=[e.name for e in stack.entries if e.mergeable])  # folded by load_stack
    lineage = []
    out.mkdir(parents=True, exist_ok=True)
    for ref, entry, weight in zip(adapters, stack.entries, weights, strict=False):
        adapter_dir = entry.path
        lineage.append(lineage_entry(ref, adapter_dir, adapter_front(adapter_dir), weight, entry.method))
        if not entry.mergeable:
            dest = out / "attached" / entry.name.replace("/", "--")
            shutil.copytree(adapter_dir, dest)
            note = next(r["note"] for r in stack.latency_report() if r["name"] == entry.name)
            result.attached.append(
                {"name": entry.name, "method": entry.method, "note": note, "path": dest.relative_to(out).as_posix()}
            )
            entry.attachment.detach()
        bar.update(1)
    from .memory import release_freed_memory

    release_freed_memory()
    stack.model.save_pretrained(out, safe_serialization=True)
    _copy_tokenizer_files(stack.base_dir, out)
    bar.update(1)
    bar.close()
    write_card(
        out, _card_front(stack, lineage, result.attached, fingerprint(out)), _card_body(result.merged, result.attached)
    )
    return result
