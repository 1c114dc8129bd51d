"""``/docs`` and ``/redoc`` need no internet: their pages name no outside address, and every script, style
and icon they reference is served by the hub itself with its content type."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import httpx
import pytest

REFERENCE = re.compile(r"""(?:src|href|spec-url)\s*=\s*["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""")
TYPES = {
    ".js": ("text/javascript", "application/javascript"),
    ".css": ("text/css",),
    ".png": ("image/png",),
    ".json": ("application/json",),
}


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_the_hubs_own_files(hub_server, page):
    with httpx.Client(base_url=hub_server.url) as http:
        html = http.get(page)
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        assert re.findall(r"https?://", html.text) == []  # no CDN, no fonts, no favicon from elsewhere
        policy = html.headers["content-security-policy"]  # and the browser may fetch nothing elsewhere
        assert "default-src 'self'" in policy and "img-src 'self' data:;" in policy and "https:" not in policy
        refs = {a or b for a, b in REFERENCE.findall(html.text)}
        assert any(r.endswith(".js") for r in refs) and "/openapi.json" in refs
        for ref in refs:
            answer = http.get(urljoin(hub_server.url + page, ref))
            suffix = "." + ref.rsplit(".", 1)[-1]
            assert answer.status_code == 200, ref
            assert answer.headers["content-type"].split(";")[0] in TYPES[suffix], (ref, answer.headers)
            assert len(answer.content) > 100, ref
