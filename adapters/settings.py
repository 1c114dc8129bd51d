"""Every environment variable the ML core reads, in one place (each of the other packages has its own
settings module).

``settings()`` reads the environment when called, so a changed variable is seen by the next call. What the
core can rebuild (bases, fingerprints, the base index) lives under one rule: the variable naming the path,
else a name in the user's ``adapter-hub`` cache folder. The README's configuration table is generated from
the fields below (``tools/settings_table.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub_rules.env_settings import env_field, read_env


def user_cache_path(name: str) -> Path:
    """``<user cache dir>/adapter-hub/<name>``: the default home of everything the core can rebuild."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("adapter-hub")) / name


@dataclass(frozen=True)
class CoreSettings:
    base_cache: Path | None = env_field(
        "HUB_BASE_CACHE",
        None,
        "where the default SmolLM2 base directory is built; unset: `bases` in the user cache dir",
    )
    base_index: Path | None = env_field(
        "HUB_BASE_INDEX",
        None,
        "the local base index file (fingerprint → directory); unset: `bases.json` in the user cache dir",
    )
    fingerprint_cache: Path | None = env_field(
        "HUB_FINGERPRINT_CACHE",
        None,
        "the base-fingerprint cache file, keyed by (path, size, mtime); unset: `fingerprints.json` in the "
        "user cache dir",
    )
    train_max_steps: int | None = env_field(
        "HUB_TRAIN_MAX_STEPS",
        None,
        "caps every training run at this many steps (smoke tests of scripts and docs); at least 1",
    )
    hf_hub_offline: bool = env_field(
        "HF_HUB_OFFLINE",
        False,
        "`1`: finding a pinned base looks only in the Hugging Face cache, never on the Hugging Face hub "
        "(huggingface_hub's own variable)",
    )

    def base_cache_dir(self) -> Path:
        return self.base_cache or user_cache_path("bases")

    def base_index_file(self) -> Path:
        return self.base_index or user_cache_path("bases.json")

    def fingerprint_cache_file(self) -> Path:
        return self.fingerprint_cache or user_cache_path("fingerprints.json")


def settings(environ: Mapping[str, str] | None = None) -> CoreSettings:
    """The ML core's settings from the environment as it is now (or from ``environ``)."""
    return read_env(CoreSettings, environ)
