"""JSON nesting depth measured without parsing, every step a C-level bytes operation:
escapes are dropped, everything but quotes and brackets deleted (``{`` counts as ``[``),
strings cut out, then innermost pairs peeled one level per pass. A body nested deeper
than the limit is refused before any parser recurses into it."""

from __future__ import annotations

_BRACKETS = bytes.maketrans(b"{}", b"[]")
_NOT_KEPT = bytes(b for b in range(256) if b not in b'"[]{}')


def json_depth_exceeds(body: bytes, limit: int) -> bool:
    """True when ``body`` (JSON or NDJSON) nests containers deeper than ``limit``.

    Brackets still left after ``limit`` peels count as too deep: such a body is either
    deeper or not valid JSON, so refusing it loses nothing.
    """
    kept = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(_BRACKETS, _NOT_KEPT)
    # Adjacent quotes have no bracket between them: dropping them only joins or empties strings.
    kept = kept.replace(b'""', b"")
    brackets = b"".join(kept.split(b'"')[::2]) if b'"' in kept else kept
    too_deep = b"[" * (limit + 1)
    for _ in range(limit):
        if not brackets:
            return False
        if too_deep in brackets:
            return True
        peeled = brackets.replace(b"[]", b"")
        if len(peeled) == len(brackets):
            return True  # unbalanced
        brackets = peeled
    return bool(brackets)
