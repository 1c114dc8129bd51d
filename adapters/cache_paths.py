"""Where the ML core keeps what it can rebuild (bases, fingerprints, the base index): one rule, an
environment variable that names the path, else a name in the user's ``adapter-hub`` cache folder."""

from __future__ import annotations

import os
from pathlib import Path


def cache_path(env: str, name: str) -> Path:
    """``$env`` when set, else ``<user cache dir>/adapter-hub/<name>``."""
    override = os.environ.get(env)
    if override:
        return Path(override)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("adapter-hub")) / name
