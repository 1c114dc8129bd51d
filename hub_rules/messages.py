"""How long a version's message may be: one limit for the server (native publish, HF commits) and
the client (``hub push -m``), which refuses before uploading anything. A message is kept whole or
refused, never cut short."""

from __future__ import annotations

from .errors import MessageTooLong

MAX_MESSAGE_CHARS = 64 * 1024


def check_message(message: str) -> str:
    """``message`` unchanged, or ``MessageTooLong`` (one line) above MAX_MESSAGE_CHARS characters."""
    if len(message) > MAX_MESSAGE_CHARS:
        raise MessageTooLong(f"the commit message is {len(message)} characters; the limit is {MAX_MESSAGE_CHARS}")
    return message
