"""The model server behind ``hub serve-model``: one frozen base, many hub adapters per batch, spoken to
through OpenAI's and LoRAX/TGI's APIs. Imports ``adapters`` and ``hub_client``; nothing imports it."""

from __future__ import annotations

from .app import create_app
from .errors import ServeError
from .settings import ServeSettings

__all__ = ["ServeError", "ServeSettings", "create_app"]
