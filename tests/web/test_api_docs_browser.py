"""``/docs`` (Swagger UI) and ``/redoc`` render in Chromium with every request off the loopback refused, as on
a private network without internet."""

from __future__ import annotations

from urllib.parse import urlparse


def _offline_page(chromium):
    page = chromium.new_page()
    refused: list[str] = []

    def only_loopback(route) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_loopback)
    return page, refused


def test_swagger_ui_and_redoc_render_without_internet(chromium, web_hub, shot):
    page, refused = _offline_page(chromium)
    try:
        page.goto(web_hub.url + "/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        assert "Adapter Hub" in page.inner_text(".swagger-ui .info .title")
        assert page.locator(".opblock").count() > 10  # the operations of /openapi.json are listed
        shot(page, "docs-offline")
        page.goto(web_hub.url + "/redoc")
        page.wait_for_selector("h1", timeout=30_000)
        assert "Adapter Hub" in page.inner_text("h1")
        shot(page, "redoc-offline")
    finally:
        page.close()
    assert refused == []
