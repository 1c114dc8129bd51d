"""Repo ids, ``NS/NAME@REF`` strings and version ranges, parsed in one place.

The server resolves ranges online; the same rules (``hub_rules.semver``, shared with the
server) are applied offline, against the versions recorded in the local cache, so
``hub pull --offline pkg@^1.2`` answers like the server would.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import hub_rules as rules

from .errors import BadReference, InvalidRequest


@dataclass(frozen=True)
class RepoRef:
    namespace: str
    name: str
    ref: str | None = None

    @property
    def repo_id(self) -> str:
        return f"{self.namespace}/{self.name}"


def parse_repo_id(repo_id: str) -> tuple[str, str]:
    """``"ns/name"`` -> ``("ns", "name")``, refusing anything else with a clear message."""
    try:
        return rules.split_repo_id(repo_id)
    except rules.NameInvalid as exc:
        raise BadReference(str(exc)) from None


def parse_repo_ref(text: str) -> RepoRef:
    """``"ns/name@ref"`` (ref optional)."""
    repo, _, ref = text.partition("@")
    ns, name = parse_repo_id(repo)
    if "@" in text and not ref:
        raise BadReference(f"empty version after '@' in {text!r}")
    return RepoRef(ns, name, ref or None)


def is_commit(ref: str) -> bool:
    return rules.is_commit(ref)


def parse_version(text: str) -> rules.Version:
    """A semantic version, refused with the server's own message (``hub_rules.semver``)."""
    try:
        return rules.parse_version(text)
    except rules.VersionInvalid as exc:
        raise BadReference(str(exc)) from None


def check_message(message: str) -> str:
    """A version's message, refused before any upload with the server's own line (``hub_rules.messages``)."""
    try:
        return rules.check_message(message)
    except rules.MessageTooLong as exc:
        raise InvalidRequest(str(exc)) from None


def is_range(ref: str) -> bool:
    """True for ``^1.2``, ``~1.2``, ``>=1.0,<2``, ``1.x``, ``1.2``; False for exact versions, main, commits."""
    return rules.is_range(ref)


def matches(version: str, spec: str) -> bool:
    try:
        return rules.matches(version, spec)
    except rules.VersionInvalid as exc:
        raise BadReference(str(exc)) from None


def pick(versions: list[str], spec: str | None, skip: AbstractSet[str] = frozenset()) -> str | None:
    """The newest of ``versions`` that ``spec`` selects (``None``/``main`` = newest), ignoring ``skip``:
    the server's rule, so an offline pull answers like an online one."""
    try:
        return rules.newest([v for v in versions if v not in skip], spec)
    except rules.VersionInvalid as exc:
        raise BadReference(str(exc)) from None
