"""Validation of names (users, orgs, repos) and manifest file paths: relative,
normalised (the shared ``hub_rules`` path rule) — checked before anything is stored. Pickles
are refused by their bytes at publish (``hub_rules.pickles``), never by their names."""

from __future__ import annotations

from hub_rules import NameInvalid, PathRefused
from hub_rules import check_manifest_paths as rules_check_manifest_paths
from hub_rules import check_name as rules_check_name
from hub_rules import check_path as rules_check_path

from ..errors import Invalid, Unprocessable


def check_name(name: str, what: str = "name") -> str:
    """The shared name rule (``hub_rules.check_name``) as a 400."""
    try:
        return rules_check_name(name, what)
    except NameInvalid as exc:
        raise Invalid(str(exc)) from None


def check_path(path: str) -> str:
    """The shared path rule (``hub_rules.check_path``) as a 422."""
    try:
        return rules_check_path(path)
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
