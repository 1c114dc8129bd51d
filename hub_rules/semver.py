"""The one semantic-version grammar, its ordering and the ranges a reference may name;
used by the server (publish, resolve, HF numbering) and by the client (push, offline pull).

Versions follow semver 2.0.0 exactly (``1.0.0``, ``1.1.0-rc.1``, ``2.0.0+build.5``; no ``v``,
no leading zeros, at most 100 characters). A pre-release sorts before its release.

Ranges (comma-separated clauses that must all hold; a leading ``v`` is tolerated in bounds):

- ``^1.2.3`` → ``>=1.2.3,<2.0.0``; ``^0.2.3`` → ``<0.3.0``; ``^0.0.3`` → ``<0.0.4``
- ``~1.2.3`` / ``~1.2`` → ``>=1.2.x,<1.3.0``; ``~1`` → ``<2.0.0``
- ``1.x``, ``1.*``, ``1`` → ``>=1.0.0,<2.0.0``; ``1.2.x``, ``1.2`` → ``<1.3.0``; ``*`` → any
- ``>=``, ``>``, ``<=``, ``<``, ``=``/``==``, ``!=`` with a full or partial version; a partial
  bound covers its whole span (``>1.2`` is ``>=1.3.0``, ``<=1.2`` is ``<1.3.0``)

A pre-release satisfies a range only when the range itself names a pre-release.
``main`` (and no reference) is the newest version; the caller drops yanked ones first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import VersionInvalid

MAX_VERSION_CHARS = 100
_NUM = r"(?:0|[1-9][0-9]{0,17})"
_IDENT = r"(?:0|[1-9][0-9]*|[0-9]*[A-Za-z-][0-9A-Za-z-]*)"
VERSION_RE = re.compile(
    rf"^({_NUM})\.({_NUM})\.({_NUM})(?:-({_IDENT}(?:\.{_IDENT})*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$"
)
_PARTIAL = re.compile(rf"^v?({_NUM}|[xX*])(?:\.({_NUM}|[xX*]))?(?:\.({_NUM}|[xX*]))?$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_OPS = (">=", "<=", "==", "!=", ">", "<", "=")
MAIN_NAMES = ("main", "latest", "HEAD")
VERSION_HINT = "expected semantic versioning like 1.0.0 or 1.1.0-rc.1"
T = TypeVar("T")

Key = tuple[Any, ...]  # (major, minor, patch, 0 for a pre-release else 1, pre-release parts)


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: tuple[str, ...] = ()

    @property
    def is_prerelease(self) -> bool:
        return bool(self.pre)

    @property
    def key(self) -> Key:
        pre = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre)
        # no pre-release sorts after any pre-release of the same release
        return (self.major, self.minor, self.patch, 0 if self.pre else 1, pre)


def is_version(text: object) -> bool:
    return isinstance(text, str) and len(text) <= MAX_VERSION_CHARS and VERSION_RE.fullmatch(text) is not None


def parse_version(text: object) -> Version:
    """The parsed version, or ``VersionInvalid`` naming the grammar."""
    if not is_version(text):
        raise VersionInvalid(f"invalid version {text!r}: {VERSION_HINT}")
    m = VERSION_RE.fullmatch(str(text))
    assert m is not None  # is_version matched it
    pre = tuple(m.group(4).split(".")) if m.group(4) else ()
    return Version(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre)


def check_version(text: object) -> str:
    parse_version(text)
    return str(text)


def sort_key(text: str) -> Key:
    """Semver precedence; anything that is not a version sorts below every version."""
    return parse_version(text).key if is_version(text) else (-1, -1, -1, 0, ())


def is_commit(ref: object) -> bool:
    return isinstance(ref, str) and _COMMIT.fullmatch(ref) is not None


def is_range(ref: object) -> bool:
    """True for a range (``^1.2``, ``1.x``, ``1.2``, ``>=1,<2``); False for exact versions, main, commits."""
    if not isinstance(ref, str) or ref in MAIN_NAMES or is_commit(ref) or is_version(ref):
        return False
    try:
        parse_range(ref)
    except VersionInvalid:
        return bool(re.search(r"[\^~<>=,!*]", ref) or re.search(r"(^|\.)[xX](\.|$)", ref))
    return True


# --- ranges ----------------------------------------------------------------------------------
_LOW = ((0, -1, ""),)  # a pre-release key below every real one: "x.y.z-0" in npm terms


def _low(nums: list[int]) -> Key:
    full = nums + [0] * (3 - len(nums))
    return (full[0], full[1], full[2], 0, _LOW)


def _bump(nums: list[int], index: int) -> Key:
    head = nums[:index] + [nums[index] + 1]
    return _low(head)


@dataclass(frozen=True)
class Clause:
    op: str
    bound: Key

    def holds(self, key: Key) -> bool:
        return {
            ">=": key >= self.bound,
            ">": key > self.bound,
            "<=": key <= self.bound,
            "<": key < self.bound,
            "==": key == self.bound,
            "!=": key != self.bound,
        }[self.op]


@dataclass(frozen=True)
class Range:
    clauses: tuple[Clause, ...]
    allows_prerelease: bool

    def matches(self, version: str) -> bool:
        if not is_version(version):
            return False
        v = parse_version(version)
        if v.is_prerelease and not self.allows_prerelease:
            return False
        return all(c.holds(v.key) for c in self.clauses)


def _partial(text: str, spec: str) -> list[int]:
    """Numbers of a partial version (``1``, ``1.2``, ``1.x``); wildcards end it."""
    m = _PARTIAL.fullmatch(text)
    if not m:
        raise VersionInvalid(f"invalid version range {spec!r}: {VERSION_HINT}, or ^1.2, ~1.2, 1.x, >=1.0,<2")
    nums: list[int] = []
    for group in m.groups():
        if group is None or group in ("x", "X", "*"):
            break
        nums.append(int(group))
    return nums


def _span(nums: list[int]) -> tuple[Key, Key | None]:
    """[low, high) covered by a partial version; high None = unbounded."""
    if not nums:
        return _low([]), None
    return _low(nums), (_bump(nums, len(nums) - 1) if len(nums) < 3 else None)


def _clause(part: str, spec: str) -> list[Clause]:
    part = part.strip()
    if part.startswith(("^", "~")):
        body = part[1:].strip().lstrip("v")
        if is_version(body):
            v = parse_version(body)
            nums, low = [v.major, v.minor, v.patch], v.key
        else:
            nums = _partial(body, spec)
            low = _low(nums)
        if not nums:
            return []
        if part[0] == "~":
            high = _bump(nums, 1 if len(nums) > 1 else 0)
        else:
            first = next((i for i, n in enumerate(nums) if n != 0), len(nums) - 1)
            high = _bump(nums, first)
        return [Clause(">=", low), Clause("<", high)]
    op = next((o for o in _OPS if part.startswith(o)), "")
    body = part[len(op) :].strip().lstrip("v") if op else part.lstrip("v")
    if is_version(body):
        key = parse_version(body).key
        return [Clause({"=": "==", "": "=="}.get(op, op), key)]
    nums = _partial(body, spec)
    span: tuple[Key, Key | None] = _span(nums) if len(nums) < 3 else (_low(nums), None)
    low, upper = span
    if len(nums) == 3:  # 1.2.3 written without pre-release: exact
        return [Clause({"=": "==", "": "=="}.get(op, op), (nums[0], nums[1], nums[2], 1, ()))]
    if op in ("", "=", "=="):
        return [Clause(">=", low)] + ([Clause("<", upper)] if upper else [])
    if op == ">=":
        return [Clause(">=", low)]
    if op == "<":
        return [Clause("<", low)]
    if op == ">":
        return [Clause(">=", upper)] if upper else [Clause("<", low)]  # ">*" matches nothing
    if op == "<=":
        return [Clause("<", upper)] if upper else []
    raise VersionInvalid(f"invalid version range {spec!r}: '!=' needs a full version")


def parse_range(spec: str) -> Range:
    """A ``Range`` for ``spec`` or ``VersionInvalid`` with one line saying what is accepted."""
    if not isinstance(spec, str) or not spec.strip() or len(spec) > 4 * MAX_VERSION_CHARS:
        raise VersionInvalid(f"invalid version range {spec!r}: {VERSION_HINT}, or ^1.2, ~1.2, 1.x, >=1.0,<2")
    clauses: list[Clause] = []
    for part in spec.split(","):
        if not part.strip():
            raise VersionInvalid(f"invalid version range {spec!r}: empty clause")
        clauses.extend(_clause(part, spec))
    return Range(tuple(clauses), allows_prerelease="-" in spec)


def matches(version: str, spec: str) -> bool:
    return parse_range(spec).matches(version)


def newest(versions: Iterable[T], ref: str | None = None, *, key: Callable[[T], str] | None = None) -> T | None:
    """The newest of ``versions`` that ``ref`` selects: ``None``/``main`` → the newest of all;
    an exact version → itself; a range → the newest match. ``key`` reads the name of an item
    (for lists of rows). Returns ``None`` when nothing matches."""
    name: Callable[[T], str] = key or (lambda item: str(item))
    items = [v for v in versions if is_version(name(v))]
    if ref is None or ref in MAIN_NAMES or ref == "":
        chosen = items
    elif is_version(ref):
        chosen = [v for v in items if name(v) == ref]
    else:
        wanted = parse_range(ref)
        chosen = [v for v in items if wanted.matches(name(v))]
    return max(chosen, key=lambda v: sort_key(name(v)), default=None)
