"""Repo ids, ``NS/NAME@REF`` strings and version ranges, parsed in one place.

The server resolves ranges online; the same rules are needed offline, against the versions
recorded in the local cache, so ``hub pull --offline pkg@^1.2`` answers like the server would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.version import InvalidVersion, Version

from .errors import BadReference

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


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
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(_NAME.match(p) for p in parts):
        raise BadReference(f"invalid repo id {repo_id!r}: expected NAMESPACE/NAME")
    return parts[0], parts[1]


def parse_repo_ref(text: str) -> RepoRef:
    """``"ns/name@ref"`` (ref optional)."""
    repo, _, ref = text.partition("@")
    ns, name = parse_repo_id(repo)
    if "@" in text and not ref:
        raise BadReference(f"empty version after '@' in {text!r}")
    return RepoRef(ns, name, ref or None)


def is_commit(ref: str) -> bool:
    return bool(_COMMIT.match(ref))


def parse_version(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        raise BadReference(f"invalid version {text!r}: expected a semantic version such as 1.0.0") from None


def _bump(parts: list[int], index: int) -> Version:
    head = parts[:index] + [parts[index] + 1]
    return Version(".".join(str(p) for p in head + [0] * (3 - len(head))))


def _clauses(spec: str) -> list[tuple[str, Version]]:
    """Turn a range into ``(op, version)`` clauses that must all hold."""
    spec = spec.strip()
    if spec.startswith("^") or spec.startswith("~"):
        nums = [int(p) for p in _numbers(spec[1:], spec)]
        low = Version(".".join(str(p) for p in nums + [0] * (3 - len(nums))))
        if spec[0] == "~":
            upper = _bump(nums, 1 if len(nums) > 1 else 0)
        else:
            first = next((i for i, p in enumerate(nums) if p != 0), len(nums) - 1)
            upper = _bump(nums, first)
        return [(">=", low), ("<", upper)]
    if re.match(r"^\d+(\.\d+)?\.[xX*]$", spec) or re.match(r"^\d+\.[xX*]$", spec):
        nums = [int(p) for p in spec.split(".") if p.isdigit()]
        low = Version(".".join(str(p) for p in nums + [0] * (3 - len(nums))))
        return [(">=", low), ("<", _bump(nums, len(nums) - 1))]
    clauses = []
    for part in spec.split(","):
        m = re.match(r"^\s*(>=|<=|==|!=|>|<|=)?\s*([0-9][0-9A-Za-z.+-]*)\s*$", part)
        if not m:
            raise BadReference(f"invalid version range {spec!r}")
        clauses.append((m.group(1) or "==", parse_version(m.group(2))))
    return clauses


def _numbers(text: str, spec: str) -> list[str]:
    nums = text.split(".")
    if not nums or not all(n.isdigit() for n in nums) or len(nums) > 3:
        raise BadReference(f"invalid version range {spec!r}")
    return nums


_OPS = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
    "==": lambda a, b: a == b,
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
}


def is_range(ref: str) -> bool:
    """True for ``^1.2``, ``~1.2``, ``>=1.0,<2``, ``1.x``; False for exact versions, main, commits."""
    if is_commit(ref) or ref == "main":
        return False
    return bool(re.search(r"[\^~<>=,!*]", ref) or re.search(r"(^|\.)[xX](\.|$)", ref))


def matches(version: str, spec: str) -> bool:
    try:
        v = Version(version)
    except InvalidVersion:
        return False
    return all(_OPS[op](v, bound) for op, bound in _clauses(spec))


def pick(versions: list[str], spec: str | None, skip: set[str] = frozenset()) -> str | None:
    """The newest of ``versions`` satisfying ``spec`` (``None``/``main`` = newest), ignoring ``skip``."""
    candidates = [v for v in versions if v not in skip and (spec in (None, "main") or matches(v, spec))]
    stable = [v for v in candidates if not Version(v).is_prerelease] or candidates
    return max(stable, key=Version, default=None)
