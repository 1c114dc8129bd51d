"""Jinja2 set-up for the site: one environment with autoescaping, the helpers every
template uses (sizes, dates, URLs with changed query parameters) and the page response."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from hub_rules import is_repo_id

from .markdown import render_markdown
from .sessions import CSRF_FIELD, Visitor, remember_csrf

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))


def human_size(size: int | None) -> str:
    value = float(size or 0)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"


def day(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d")


def short(value: str | None, keep: int = 12) -> str:
    if not value:
        return ""
    head = value.split(":", 1)[-1]
    return head[:keep] + "…" if len(head) > keep else head


def with_params(request: Request, path: str | None = None, **changes: str | None) -> str:
    """This page's URL (or ``path``) with query parameters changed; None drops one. A new filter
    starts from the first page, so the cursor goes unless it is what changes."""
    params = dict(request.query_params)
    if "cursor" not in changes:
        params.pop("cursor", None)
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    query = urlencode(params)
    return (path or request.url.path) + (f"?{query}" if query else "")


def quote_path(value: str) -> str:
    return quote(value, safe="/")


env = TEMPLATES.env
env.filters.update(size=human_size, day=day, short=short, urlpath=quote_path)
env.tests["repo_id"] = is_repo_id  # links from card values only for valid ids (never //host)
env.globals.update(markdown=render_markdown, with_params=with_params, csrf_field=CSRF_FIELD)


def page(request: Request, visitor: Visitor, template: str, status: int = 200, **context) -> HTMLResponse:
    """Render ``template`` for the visitor (their name, their CSRF token for forms)."""
    response = TEMPLATES.TemplateResponse(request, template, {"visitor": visitor, **context}, status_code=status)
    response.headers["Cache-Control"] = "no-store" if visitor.principal else "private, no-cache"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
    remember_csrf(request, response, visitor)
    return response
