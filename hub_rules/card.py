"""The one model-card front-matter loader (README.md ``---`` YAML ``---`` body), safe for
text written by strangers: PyYAML's safe constructors, anchors and aliases refused (an alias
bomb of a few hundred bytes would otherwise expand to megabytes), bounded size and depth.

Used by the server (publish, validate-yaml), the client (push) and the ML core (cards).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent

from .errors import CardInvalid

MAX_FRONT_MATTER_BYTES = 256 * 1024
MAX_DEPTH = 32


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases and nesting deeper than ``max_depth``."""

    max_depth = MAX_DEPTH

    def __init__(self, stream: str, what: str = "model card front matter") -> None:
        super().__init__(stream)
        self._depth = 0
        self.what = what

    def fetch_flow_collection_start(self, TokenClass: Any) -> None:
        # The scanner looks ahead while '[' / '{' may start a key, at a cost that grows with the
        # flow level: refuse deep flow nesting here, before the composer would see it.
        if self.flow_level >= self.max_depth:
            raise CardInvalid(f"{self.what} is nested deeper than {self.max_depth} levels")
        super().fetch_flow_collection_start(TokenClass)

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent):
            raise CardInvalid(f"{self.what} uses a YAML alias ('*name'); anchors and aliases are not allowed")
        if isinstance(event, (ScalarEvent, CollectionStartEvent)) and event.anchor is not None:
            raise CardInvalid(f"{self.what} uses a YAML anchor ('&name'); anchors and aliases are not allowed")
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise CardInvalid(f"{self.what} is nested deeper than {self.max_depth} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(
    text: str,
    *,
    max_bytes: int = MAX_FRONT_MATTER_BYTES,
    max_depth: int = MAX_DEPTH,
    what: str = "model card front matter",
) -> Any:
    """Parse one YAML document under the safe rules; ``CardInvalid`` (one line, naming ``what``) on any refusal."""
    if len(text) > max_bytes or len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        raise CardInvalid(f"{what} is larger than {max_bytes} bytes")
    loader = None
    try:
        loader = _SafeLoader(text, what)
        loader.max_depth = max_depth
        return loader.get_single_data()
    except CardInvalid:
        raise
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise CardInvalid(f"{what} is invalid YAML: {problem}{where}") from None
    except (RecursionError, ValueError, TypeError, OverflowError) as exc:
        raise CardInvalid(f"{what} cannot be read: {type(exc).__name__}") from None
    finally:
        if loader is not None:
            loader.dispose()


def split_card(text: str) -> tuple[str | None, str]:
    """``(front matter text or None, body)``. Front matter starts with a first non-blank line
    ``---`` (blank lines before it are allowed, as on the HF Hub) and ends at the next line that is
    ``---`` or ``...``; without it the whole text is body."""
    text = text.lstrip("\ufeff")
    first, _newline, rest = text.lstrip().partition("\n")
    if first.strip() != "---":
        return None, text
    lines = rest.split("\n")
    for i, line in enumerate(lines):
        if line.rstrip("\r").rstrip() in ("---", "..."):
            return "\n".join(lines[:i]), "\n".join(lines[i + 1 :])
    raise CardInvalid("model card front matter is not closed by '---'")


def parse_card(
    text: str, *, max_bytes: int = MAX_FRONT_MATTER_BYTES, max_depth: int = MAX_DEPTH
) -> tuple[dict[str, Any], str]:
    """``(front matter mapping, body)``; a card without front matter is ``({}, text)``."""
    block, body = split_card(text)
    if block is None:
        return {}, body
    data = load_yaml(block, max_bytes=max_bytes, max_depth=max_depth) if block.strip() else None
    if data is None:
        return {}, body
    if not isinstance(data, dict):
        raise CardInvalid("model card front matter must be a YAML mapping")
    return data, body


def load_front_matter(text: str, **limits: int) -> dict[str, Any]:
    """The front matter mapping of a card text ({} when it has none)."""
    return parse_card(text, **limits)[0]
