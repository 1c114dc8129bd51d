"""Where the client finds its endpoint, token and cache, so every entry point agrees.

Precedence: explicit argument, then ``HUB_ENDPOINT`` / ``HUB_TOKEN`` / ``HUB_CACHE``, then what
``hub login`` saved in the user's config directory (``HUB_CONFIG_DIR`` overrides it), then defaults.
Settings a person writes by hand live in ``config.yaml`` there (``require_signed: true``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from hub_rules import write_atomically

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"
_APP = "adapter-hub"


def config_dir() -> Path:
    override = os.environ.get("HUB_CONFIG_DIR")
    return Path(override) if override else Path(platformdirs.user_config_dir(_APP))


def cache_dir() -> Path:
    override = os.environ.get("HUB_CACHE")
    return Path(override) if override else Path(platformdirs.user_cache_dir(_APP))


def _auth_file() -> Path:
    return config_dir() / "auth.json"


def load_saved() -> dict:
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
    value = endpoint or os.environ.get("HUB_ENDPOINT") or load_saved().get("endpoint") or DEFAULT_ENDPOINT
    return value.rstrip("/")


def resolve_token(token: str | None, endpoint: str | None = None) -> str | None:
    """The saved login token is only sent to the endpoint it was saved for (no leaks to other hosts)."""
    if token or os.environ.get("HUB_TOKEN"):
        return token or os.environ.get("HUB_TOKEN")
    saved = load_saved()
    if endpoint is not None and (saved.get("endpoint") or "").rstrip("/") != endpoint.rstrip("/"):
        return None
    return saved.get("token") or None


def settings_file() -> Path:
    return config_dir() / "config.yaml"


def load_settings() -> dict:
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
    env = os.environ.get("HUB_REQUIRE_SIGNED")
    if env is not None and env.strip():
        return env.strip().lower() in ("1", "true", "yes", "on")
    return load_settings().get("require_signed") is True
