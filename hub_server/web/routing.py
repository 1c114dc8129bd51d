"""What every page route shares: the visitor dependency, the checked-form dependency and a
route class that renders service errors as HTML pages (404 page for private repos too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from ..errors import ServiceError
from ..services.context import Hub
from .render import page
from .sessions import Visitor, checked_form, visitor_of

TITLES = {
    400: "Bad request",
    401: "Sign in needed",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Cannot process",
}


class PageRoute(APIRoute):
    """A route whose ``ServiceError``s become an HTML page with the same status and message."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def render_errors(request: Request) -> Response:
            try:
                return await handler(request)
            except ServiceError as exc:
                visitor = await visitor_of(request)
                return page(
                    request,
                    visitor,
                    "error.html",
                    status=exc.status,
                    title=TITLES.get(exc.status, "Error"),
                    message=exc.message,
                )

        return render_errors


def get_hub(request: Request) -> Hub:
    return request.app.state.hub


HubDep = Annotated[Hub, Depends(get_hub)]
VisitorDep = Annotated[Visitor, Depends(visitor_of)]
FormDep = Annotated[dict, Depends(checked_form)]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def safe_next(value: str | None, default: str = "/") -> str:
    """Only a path on this site: never ``//host`` or ``https://…`` (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value
