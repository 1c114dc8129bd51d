"""The address clients use to reach this hub, for every absolute URL the server writes (pagination
links, repo and commit URLs, the site's snippets).

Behind a load balancer that rewrites ``Host`` to a backend's address, the request's own URL names
one host, which the next request may not reach; ``HUB_PUBLIC_URL`` names the balancer instead.
Unset, the URL the request arrived at is used (right when ``Host`` is passed through).
"""

from __future__ import annotations

from starlette.requests import Request


def public_base(request: Request) -> str:
    """``scheme://host[:port][/prefix]`` without a trailing slash."""
    configured = request.app.state.hub.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def scope_base(scope) -> str | None:
    """``public_base`` of a raw ASGI ``scope`` (the middleware's view, before any route runs); None when
    the request's own address cannot be read (a malformed ``Host``)."""
    hub = getattr(getattr(scope.get("app"), "state", None), "hub", None)
    configured = hub.settings.public_url if hub is not None else None
    try:
        return (configured or str(Request(scope).base_url)).rstrip("/")
    except ValueError:
        return None


def public_url(request: Request, **query: str) -> str:
    """The request's own path and query (with ``query`` replaced) at the public address."""
    url = request.url.include_query_params(**query) if query else request.url
    path_and_query = url.path + (f"?{url.query}" if url.query else "")
    return public_base(request) + path_and_query[len(request.scope.get("root_path", "")) :]
