"""The ``formatted`` fields of ``list_repo_commits(formatted=True)``: the commit's title and message
as HTML, escaped (a message is a stranger's text), paragraphs split on blank lines."""

from __future__ import annotations

from html import escape


def with_formatted(entry: dict) -> dict:
    """``entry`` (``hf_views.commit_entry``) plus ``{"formatted": {"title", "message"}}``."""
    paragraphs = [p.strip() for p in entry["message"].split("\n\n") if p.strip()]
    message = "".join(f"<p>{escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return {**entry, "formatted": {"title": escape(entry["title"]), "message": message}}
