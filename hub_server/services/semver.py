"""Semantic version names and the ranges a client may resolve (``^1.2``, ``~1.2``,
``>=1.0,<2``, ``1.x``, exact), with pre-releases ordered before their release."""

from __future__ import annotations

import re
from collections.abc import Callable

from ..errors import Invalid

VERSION_RE = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z.-]+)?$"
)
_PARTIAL = re.compile(r"^v?(\d+)(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?$")

Key = tuple


def is_version(text: str) -> bool:
    return isinstance(text, str) and len(text) <= 100 and VERSION_RE.match(text) is not None


def check_version(text: str) -> str:
    if not is_version(text):
        raise Invalid(f"invalid version {text!r}: expected semantic versioning like 1.0.0 or 1.1.0-rc.1")
    return text


def key(text: str) -> Key:
    m = VERSION_RE.match(text)
    if not m:
        return (-1, -1, -1, 0, ())
    pre = m.group(4)
    pre_key = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")) if pre else ()
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)), 0 if pre else 1, pre_key)


def _bound(text: str) -> Key:
    m = _PARTIAL.match(text)
    if is_version(text.lstrip("v")):
        return key(text.lstrip("v"))
    if not m:
        raise Invalid(f"invalid version range part {text!r}")
    parts = [int(p) if p and p.isdigit() else 0 for p in m.groups()]
    return (parts[0], parts[1], parts[2], 0, ((0, -1, ""),))  # lowest possible (below any pre-release)


def range_predicate(spec: str) -> Callable[[str], bool] | None:
    """A matcher for a range, or ``None`` when ``spec`` is not a range."""
    spec = spec.strip()
    if spec.startswith("^") or spec.startswith("~"):
        m = _PARTIAL.match(spec[1:]) if not is_version(spec[1:]) else VERSION_RE.match(spec[1:])
        if not m:
            raise Invalid(f"invalid version range {spec!r}")
        major, minor = int(m.group(1)), int(m.group(2) or 0) if (m.group(2) or "0").isdigit() else 0
        low = _bound(spec[1:])
        if spec[0] == "^":
            high = (major + 1, 0, 0, 0, ((0, -1, ""),)) if major > 0 else (0, minor + 1, 0, 0, ((0, -1, ""),))
        else:
            high = (major, minor + 1, 0, 0, ((0, -1, ""),))
        return lambda v: low <= key(v) < high and _release_or_same(v, spec[1:])
    m = _PARTIAL.match(spec)
    if m and any(g and g.lower() in ("x", "*") for g in m.groups()) or (m and m.group(3) is None):
        fixed = [g for g in m.groups() if g is not None and g.isdigit()]
        return lambda v: is_version(v) and key(v)[3] == 1 and [str(p) for p in key(v)[: len(fixed)]] == fixed
    if any(op in spec for op in ("<", ">", "=")):
        checks = [_comparison(part.strip()) for part in spec.split(",") if part.strip()]
        return lambda v: is_version(v) and key(v)[3] == 1 and all(c(v) for c in checks)
    return None


def _release_or_same(version: str, spec: str) -> bool:
    """Ranges skip pre-releases unless the range itself names one."""
    return key(version)[3] == 1 or "-" in spec


def _comparison(part: str) -> Callable[[str], bool]:
    for op in (">=", "<=", "==", ">", "<", "="):
        if part.startswith(op):
            bound = _bound(part[len(op):].strip())
            if op in (">=",):
                return lambda v: key(v) >= bound
            if op == "<=":
                return lambda v: key(v)[:3] <= bound[:3]
            if op in ("==", "="):
                return lambda v: key(v)[:3] == bound[:3]
            if op == ">":
                return lambda v: key(v)[:3] > bound[:3]
            return lambda v: key(v) < bound
    raise Invalid(f"invalid version range part {part!r}")
