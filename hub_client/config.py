"""Where the client finds its endpoint, token and cache, so every entry point agrees.

Precedence: explicit argument, then ``HUB_ENDPOINT`` / ``HUB_TOKEN`` / ``HUB_CACHE``, then what
``hub login`` saved in the user's config directory (``HUB_CONFIG_DIR`` overrides it), then defaults.
Settings a person writes by hand live in ``config.yaml`` there (``require_signed: true``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import platformdirs

from hub_rules import write_atomically

from .settings import DEFAULT_ENDPOINT, settings

__all__ = [
    "DEFAULT_ENDPOINT",
    "cache_dir",
    "config_dir",
    "forget_login",
    "load_saved",
    "load_settings",
    "require_signed",
    "resolve_endpoint",
    "resolve_token",
    "save_login",
    "settings_file",
]

_APP = "adapter-hub"


def config_dir() -> Path:
    """``HUB_CONFIG_DIR``, else ``adapter-hub`` in the user config dir."""
    return settings().config_dir or Path(platformdirs.user_config_dir(_APP))


def cache_dir() -> Path:
    """``HUB_CACHE``, else ``adapter-hub`` in the user cache dir."""
    return settings().cache or Path(platformdirs.user_cache_dir(_APP))


def _auth_file() -> Path:
    return config_dir() / "auth.json"


def load_saved() -> dict[str, Any]:
    """The ``{"endpoint", "token"}`` saved by ``hub login`` (empty when none)."""
    try:
        data = json.loads(_auth_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_login(endpoint: str, token: str) -> Path:
    """Store the token readable by the user only."""
    path = _auth_file()
    return write_atomically(path, json.dumps({"endpoint": endpoint, "token": token}), mode=0o600)


def forget_login() -> bool:
    """Remove the saved token; True when there was one."""
    try:
        _auth_file().unlink()
        return True
    except FileNotFoundError:
        return False


def resolve_endpoint(endpoint: str | None) -> str:
    value = endpoint or settings().endpoint or load_saved().get("endpoint") or DEFAULT_ENDPOINT
    return str(value).rstrip("/")


def resolve_token(token: str | None, endpoint: str | None = None) -> str | None:
    """The saved login token is only sent to the endpoint it was saved for (no leaks to other hosts)."""
    if token:
        return token
    from_env = settings().token
    if from_env:
        return from_env
    saved = load_saved()
    if endpoint is not None and (saved.get("endpoint") or "").rstrip("/") != endpoint.rstrip("/"):
        return None
    return saved.get("token") or None


def settings_file() -> Path:
    return config_dir() / "config.yaml"


def load_settings() -> dict[str, Any]:
    """``config.yaml`` in the config dir as a dict (empty when absent or not a mapping)."""
    import yaml

    try:
        data = yaml.safe_load(settings_file().read_text())
    except FileNotFoundError:
        return {}
    except (OSError, yaml.YAMLError) as exc:
        from .errors import HubError

        raise HubError(f"cannot read {settings_file()}: {' '.join(str(exc).split())}") from None
    return data if isinstance(data, dict) else {}


def require_signed(explicit: bool | None = None) -> bool:
    """``--require-signed``, else ``HUB_REQUIRE_SIGNED=1``, else ``require_signed: true`` in config.yaml."""
    if explicit:
        return True
    from_env = settings().require_signed
    if from_env is not None:
        return from_env
    return load_settings().get("require_signed") is True
