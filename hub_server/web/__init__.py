"""The community site served at ``/`` by the hub itself: server-rendered pages (Jinja2) over
the same services as the API (accounts, browsing, repo pages, the file viewer), one stylesheet, a
little plain JavaScript for copy buttons.

``install_web(app)`` adds the routes last, so the API's and the HF API's paths win."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from .markdown import render_markdown

__all__ = ["install_web", "render_markdown"]

STATIC = Path(__file__).resolve().parent / "static"


def install_web(app: FastAPI) -> None:
    from . import access_pages, account_pages, browse_pages, collection_pages, community_pages, file_pages, repo_pages

    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(account_pages.router)
    app.include_router(collection_pages.router)  # before /{namespace}/{name} pages
    app.include_router(browse_pages.router)
    app.include_router(repo_pages.router)
    app.include_router(community_pages.router)
    app.include_router(access_pages.router)
    app.include_router(file_pages.router)
