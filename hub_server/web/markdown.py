"""The one function that turns a model card's Markdown into HTML for every page:
markdown-it-py renders (CommonMark + tables), nh3 sanitises the result, so no script,
event handler, ``javascript:`` link or SVG survives whatever the card contains."""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from hub_rules import CardInvalid, split_card

_MD = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"])
_TAGS = set(nh3.ALLOWED_TAGS) - {"svg", "math", "style", "form", "input", "button", "iframe"}
_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_SCHEMES = {"http", "https", "mailto"}


def strip_front_matter(text: str) -> str:
    """The card's body: the README without its leading ``---`` YAML block."""
    try:
        return split_card(text)[1]  # the one front-matter split (hub_rules.split_card)
    except CardInvalid:  # never closed: the page shows the text as written
        return text.lstrip("\ufeff")


def render_markdown(text: str) -> Markup:
    """Safe HTML for ``text`` (Markdown, raw HTML allowed but sanitised)."""
    html = _MD.render(text or "")
    return Markup(
        nh3.clean(
            html,
            tags=_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes=_SCHEMES,
            strip_comments=True,
            link_rel="noopener noreferrer nofollow",
        )
    )
