"""What one model server runs with: its base, its limits, the hub it pulls adapters from."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ServeSettings:
    """``base``: a model directory or ``hub://NS/NAME[@V]``. ``endpoint``/``token`` default to ``HUB_ENDPOINT``
    and ``HUB_TOKEN`` (then ``hub login``); the server pulls adapters from that hub with that token."""

    base: str
    max_adapters: int = 8
    max_batch_size: int = 16
    require_signed: bool = False
    require_token: bool = False
    endpoint: str | None = None
    token: str | None = None
    max_new_tokens_limit: int = 4096
    token_check_seconds: float = 60.0  # how long a token the hub accepted is trusted before asking again
