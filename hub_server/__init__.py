"""Adapter Hub server: metadata in SQL, content-addressed blobs, the native ``/api/v1``
API and the HF-compatible API. Exports are lazy so importing the package is cheap."""

from __future__ import annotations

from typing import Any

__all__ = ["Settings", "create_app", "create_user_token"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from .app import create_app

        return create_app
    if name == "Settings":
        from .settings import Settings

        return Settings
    if name == "create_user_token":
        from .admin import create_user_token

        return create_user_token
    raise AttributeError(name)
