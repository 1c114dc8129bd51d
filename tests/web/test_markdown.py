"""The one Markdown function: tables and headings render; scripts, event handlers,
``javascript:`` links, SVG and comment tricks do not survive."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from hub_server.web import render_markdown
from hub_server.web.markdown import strip_front_matter

XSS = [
    "<script>window.pwned=1</script>",
    '<img src="x" onerror="window.pwned=1">',
    "[click](javascript:window.pwned=1)",
    '<a href="JaVaScRiPt:window.pwned=1">x</a>',
    '<a href="&#106;avascript:window.pwned=1">x</a>',
    "<svg><script>window.pwned=1</script></svg>",
    '<svg onload="window.pwned=1"></svg>',
    "<!--><script>window.pwned=1</script>-->",
    "<!-- --!><img src=x onerror=window.pwned=1> -->",
    '<iframe src="javascript:window.pwned=1"></iframe>',
    '<details open ontoggle="window.pwned=1">x</details>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.pwned=1>",
    '<a href="data:text/html,<script>window.pwned=1</script>">x</a>',
    '<form action="javascript:window.pwned=1"><button>go</button></form>',
    "![x](javascript:window.pwned=1)",
]


class _Elements(HTMLParser):
    """Every element and attribute the browser would build from the HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs += [(k, v or "") for k, v in attrs]


@pytest.mark.parametrize("payload", XSS)
def test_payload_renders_inert(payload: str):
    html = str(render_markdown(f"# Title\n\n{payload}\n"))
    found = _Elements()
    found.feed(html)
    assert not {"script", "svg", "math", "iframe", "form", "style", "button", "object", "embed"} & set(found.tags), html
    assert not [k for k, _ in found.attrs if k.startswith("on")], html
    for key, value in found.attrs:
        if key in ("href", "src", "action"):
            assert value.split(":", 1)[0].lower() in ("http", "https", "mailto") or ":" not in value, html
    assert "<script" not in html.lower()


def test_markdown_renders_heading_table_code_and_safe_links():
    html = str(
        render_markdown(
            "# Sentiment\n\n| metric | value |\n|---|---|\n| em | 0.92 |\n\n"
            "`hub pull x` and [docs](https://example.org)"
        )
    )
    assert "<h1>Sentiment</h1>" in html
    assert "<table>" in html and "<td>0.92</td>" in html
    assert "<code>hub pull x</code>" in html
    assert 'href="https://example.org"' in html and 'rel="noopener noreferrer nofollow"' in html


def test_front_matter_is_not_part_of_the_body():
    assert strip_front_matter("---\nlicense: mit\n---\n# Hi\n") == "# Hi\n"
    assert strip_front_matter("# No front matter\n") == "# No front matter\n"
