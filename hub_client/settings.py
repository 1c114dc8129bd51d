"""Every environment variable the hub client reads, in one place (huggingface_hub's ``constants`` shape).

``settings()`` reads the environment when called, so a changed variable is seen by the next call.
Precedence elsewhere stays: an explicit argument, then these variables, then what ``hub login`` saved
or ``config.yaml`` says (see ``hub_client.config``), then the defaults. The README's configuration table
is generated from the fields below (``tools/settings_table.py``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from hub_rules.env_settings import env_field, read_env

DEFAULT_ENDPOINT = "http://127.0.0.1:8000"
DEFAULT_RATE_WAIT_SECONDS = 10.0


@dataclass(frozen=True)
class ClientSettings:
    endpoint: str | None = env_field(
        "HUB_ENDPOINT",
        None,
        f"the hub the client talks to; unset: the one `hub login` saved, else `{DEFAULT_ENDPOINT}`",
    )
    token: str | None = env_field(
        "HUB_TOKEN",
        None,
        "the token sent with every request; unset: the one `hub login` saved, sent only to the endpoint it was saved for",
    )
    cache: Path | None = env_field(
        "HUB_CACHE",
        None,
        "client cache (content-addressed blobs + snapshots); unset: `adapter-hub` in the user cache dir",
    )
    config_dir: Path | None = env_field(
        "HUB_CONFIG_DIR",
        None,
        "client config dir: saved login, `signing-key.pem`, `trusted-keys.json`, `config.yaml`; "
        "unset: `adapter-hub` in the user config dir",
    )
    require_signed: bool | None = env_field(
        "HUB_REQUIRE_SIGNED",
        None,
        "`1`: pulls refuse unsigned versions; `0`: they do not; unset: `require_signed: true` in `config.yaml` decides",
    )
    no_progress: bool = env_field(
        "HUB_NO_PROGRESS", False, "`1`: no progress bars (they are shown only when stderr is a terminal anyway)"
    )
    max_rate_wait: float = env_field(
        "HUB_MAX_RATE_WAIT",
        DEFAULT_RATE_WAIT_SECONDS,
        "seconds the client waits out a 429 whose `Retry-After` is at most this; longer waits are shown "
        "as errors; `0` never waits",
    )
    ssl_cert_file: str | None = env_field(
        "SSL_CERT_FILE", None, "CA bundle for HTTPS (read by httpx); the verifying context is built once per value"
    )
    ssl_cert_dir: str | None = env_field(
        "SSL_CERT_DIR", None, "directory of CA certificates for HTTPS (read by httpx), as `SSL_CERT_FILE`"
    )


def settings(environ: Mapping[str, str] | None = None) -> ClientSettings:
    """The client's settings from the environment as it is now (or from ``environ``)."""
    return read_env(ClientSettings, environ)


def default_library_verbosity(variables: tuple[str, ...], level: str) -> None:
    """Set each library verbosity variable (``TRANSFORMERS_VERBOSITY`` …) to ``level`` unless the user set it:
    the user's own value always wins over the CLI's quiet default."""
    import os

    for variable in variables:
        os.environ.setdefault(variable, level)


def set_by_user(names: tuple[str, ...], ours: set[str]) -> set[str]:
    """Which of ``names`` the environment holds that this process did not set itself (``ours``): a library
    variable the user chose wins over the CLI's quiet default."""
    return {name for name in names if name in os.environ and name not in ours}


def unset(name: str) -> None:
    """Remove a variable this process set for its libraries (they read it again on next use)."""
    os.environ.pop(name, None)
