"""The one name rule for users, orgs and repositories, and for ``namespace/name`` repo ids:
a letter or digit, then letters, digits, ``.``, ``_`` or ``-``, at most 96 characters, never
``..`` anywhere (so a name can never read as a parent folder in a URL or a cache path). The
client, the server and the site (links, snippets) all decide with these functions."""

from __future__ import annotations

import re

from .errors import NameInvalid

MAX_NAME_CHARS = 96
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")


def is_name(value: object) -> bool:
    return isinstance(value, str) and _NAME.fullmatch(value) is not None and ".." not in value


def check_name(value: object, what: str = "name") -> str:
    """``value`` unchanged, or ``NameInvalid`` (one line) naming ``what`` was wrong."""
    if not is_name(value):
        raise NameInvalid(
            f"invalid {what} {str(value)[:120]!r}: use letters, digits, '.', '_' or '-' (max {MAX_NAME_CHARS}, no '..')"
        )
    return value  # type: ignore[return-value]


def is_repo_id(value: object) -> bool:
    """Whether ``value`` is exactly ``namespace/name`` with both parts under the name rule."""
    if not isinstance(value, str) or value.count("/") != 1:
        return False
    namespace, name = value.split("/")
    return is_name(namespace) and is_name(name)


def split_repo_id(value: object) -> tuple[str, str]:
    """``"ns/name"`` → ``("ns", "name")``, or ``NameInvalid``."""
    if not is_repo_id(value):
        raise NameInvalid(f"invalid repo id {str(value)[:200]!r}: expected NAMESPACE/NAME")
    namespace, name = str(value).split("/")
    return namespace, name
