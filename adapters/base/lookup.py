"""Find the base an adapter is pinned to, by its fingerprint, so no command needs ``--base`` to be told.

Order: (1) the local base index (the default base directory, directories used as a base, bases pulled
from a hub); (2) the caller's remote source (the hub client passes the configured hub's ``base`` repos);
(3) the Hugging Face cache, then the Hugging Face hub unless ``HF_HUB_OFFLINE`` is set, by the pin's id and
revision. Whatever is found is accepted only when its weights have the pinned fingerprint. When nothing
matches, one line lists what was tried.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ..errors import AdapterError
from ..settings import settings
from . import index as base_index

__all__ = ["BaseNotFound", "find_base", "pin_of_adapters"]

# Only what a base directory needs; never pickled weights.
HF_PATTERNS = ["*.safetensors", "*.json", "tokenizer*", "*.txt", "*.model", "*.jinja", "README.md"]


class BaseNotFound(AdapterError):
    """No base with the pinned fingerprint was found anywhere this command looked."""


def _short(fp: str) -> str:
    algo, _, digest = fp.partition(":")
    return f"{algo}:{digest[:12]}" if digest else fp


def _matches(model_dir: Path, fingerprint: str) -> bool:
    from .fingerprint import fingerprint as weights_fingerprint

    try:
        return weights_fingerprint(model_dir) == fingerprint
    except AdapterError:
        return False


def _seed_default_base() -> None:
    """The default base directory, once built, is always known (a cheap stat when already indexed)."""
    from .default import BASE_ID, cache_root

    model_dir = cache_root() / "smollm2-135m-instruct"
    if not (model_dir / "config.json").is_file():
        return
    known = {b.path for b in base_index.indexed_bases()}
    if model_dir.absolute() not in known:
        from .fingerprint import fingerprint

        try:
            base_index.remember(model_dir, fingerprint(model_dir), BASE_ID, "default")
        except AdapterError:
            pass


def _from_index(fingerprint: str) -> tuple[Path | None, str]:
    _seed_default_base()
    found = base_index.lookup(fingerprint)
    return found, f"local index ({len(base_index.indexed_bases())} bases)"


def _from_hf(pin) -> tuple[Path | None, str]:
    if not pin.id or pin.id.count("/") != 1 or pin.id.startswith((".", "/", "~")):
        return None, "Hugging Face (the pin names no repo id)"
    from huggingface_hub import snapshot_download

    label = f"{pin.id}@{pin.revision}" if pin.revision else pin.id
    attempts = [True] if settings().hf_hub_offline else [True, False]
    what = f"Hugging Face cache {label} (not cached)"
    for offline in attempts:
        try:
            path = Path(
                snapshot_download(pin.id, revision=pin.revision, local_files_only=offline, allow_patterns=HF_PATTERNS)
            )
        except Exception as exc:  # noqa: BLE001 - a miss here is one entry in the "tried" line
            what = f"Hugging Face {'cache' if offline else 'hub'} {label} ({type(exc).__name__})"
            continue
        if _matches(path, pin.fingerprint):
            return path, what
        what = f"Hugging Face {label} (other weights)"
    return None, what


def find_base(pin, resolver=None) -> Path:
    """A local directory whose weights have ``pin.fingerprint``; ``BaseNotFound`` lists where it looked."""
    tried: list[str] = []
    found, what = _from_index(pin.fingerprint)
    tried.append(what)
    if found is None and resolver is not None and resolver.remote_bases is not None:
        candidate, what = resolver.remote_bases(pin)
        tried.append(what)
        if candidate is not None and _matches(Path(candidate), pin.fingerprint):
            found = Path(candidate)
        elif candidate is not None:
            tried[-1] = f"{what} (other weights)"
    if found is None:
        found, what = _from_hf(pin)
        tried.append(what)
    if found is None:
        raise BaseNotFound(
            f"no base with fingerprint {_short(pin.fingerprint)} ({pin.id or 'no id'}) found; "
            f"tried {'; '.join(tried)}; pass --base DIR"
        )
    from .fingerprint import fingerprint

    base_index.remember(found, fingerprint(found), pin.id, "found by pin")
    return found


def pin_of_adapters(fronts: Iterable[dict], names: Iterable[str]):
    """The one base pin the adapters share; refuses unpinned adapters and adapters pinned to different bases."""
    from .pin import BasePin

    pins: dict[str, BasePin] = {}
    for front, name in zip(fronts, names, strict=False):
        pinned = ((front or {}).get("adapter_hub") or {}).get("base") or {}
        if not pinned.get("fingerprint"):
            raise AdapterError(f"adapter {name} is not pinned to a base; pass --base")
        pins.setdefault(pinned["fingerprint"], BasePin.from_dict(pinned))
    if not pins:
        raise AdapterError("no adapters given, so no base to find; pass --base")
    if len(pins) > 1:
        raise AdapterError(
            "the adapters are pinned to different bases ("
            + ", ".join(f"{p.id or '?'} {_short(fp)}" for fp, p in pins.items())
            + "); pass --base"
        )
    return next(iter(pins.values()))
