"""Validation of names (users, orgs, repos) and manifest file paths: relative,
normalised, no pickle formats (the shared ``hub_rules`` path rule) — checked before
anything is stored."""

from __future__ import annotations

import re

from hub_rules import PathRefused, check_not_pickle
from hub_rules import check_manifest_paths as rules_check_manifest_paths
from hub_rules import check_path as rules_check_path

from ..errors import Invalid, Unprocessable

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def check_name(name: str, what: str = "name") -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name) or ".." in name:
        raise Invalid(f"invalid {what} {name!r}: use letters, digits, '.', '_' or '-' (max 96)")
    return name


def check_path(path: str) -> str:
    """The shared path rule (``hub_rules.check_path``) plus the pickle refusal, as a 422."""
    try:
        return check_not_pickle(rules_check_path(path))
    except PathRefused as exc:
        raise Unprocessable(str(exc)) from None


def check_manifest_paths(paths: list[str]) -> None:
    """No path twice, no file that is also a folder of another file (the manifest-level rule)."""
    try:
        rules_check_manifest_paths(paths)
    except PathRefused as exc:
        raise Unprocessable(str(exc)) from None


def namespace_owner(session, name: str):
    """``("user"|"org", row)`` for the account whose name equals ``name`` ignoring case, else None.
    Users and orgs share one namespace, so a name is taken once whatever its case."""
    from sqlalchemy import func, select

    from ..db.models import Org, User

    lowered = name.lower()
    user = session.scalar(select(User).where(func.lower(User.name) == lowered))
    if user is not None:
        return "user", user
    org = session.scalar(select(Org).where(func.lower(Org.name) == lowered))
    return ("org", org) if org is not None else None
