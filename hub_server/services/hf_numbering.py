"""How an HF-style commit becomes a named, immutable hub version.

Git commits have no names, hub versions do (semver, never reused). The rule, in order:
1. a line ``version: X.Y.Z`` in the commit message or description names it;
2. otherwise a revision in the URL that looks like a version and does not exist yet
   (``upload_folder(..., revision="1.2.0")``) names it;
3. otherwise it is the next patch after the highest version ever published
   (yanked ones count: names are never reused); after a pre-release comes its release;
   the first one is ``1.0.0``.
"""

from __future__ import annotations

import re

SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$")
_IN_MESSAGE = re.compile(r"(?im)^\s*version\s*[:=]\s*(v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)\s*$")
FIRST_VERSION = "1.0.0"


def is_version_name(text: str) -> bool:
    return SEMVER.match(text) is not None


def _key(name: str) -> tuple:
    m = SEMVER.match(name)
    if m is None:
        return (-1, -1, -1, 0, name)
    major, minor, patch, pre = m.groups()
    # A pre-release sorts before its release.
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def _normalise(name: str) -> str:
    return name[1:] if name.startswith("v") else name


def version_from_message(summary: str, description: str) -> str | None:
    for text in (summary or "", description or ""):
        m = _IN_MESSAGE.search(text)
        if m:
            return _normalise(m.group(1))
    return None


def next_patch(existing: list[str]) -> str:
    named = [n for n in existing if SEMVER.match(n)]
    if not named:
        return FIRST_VERSION
    major, minor, patch, pre = SEMVER.match(max(named, key=_key)).groups()
    if pre:  # after 2.0.0-rc.1 comes the release itself
        return f"{major}.{minor}.{patch}"
    return f"{major}.{minor}.{int(patch) + 1}"


def choose_version(
    *, summary: str, description: str, url_revision: str, existing: list[str]
) -> str:
    """Pick the name of the version a commit creates (see the module docstring)."""
    named = version_from_message(summary, description)
    if named is not None:
        return named
    if url_revision not in existing and is_version_name(url_revision):
        return _normalise(url_revision)
    return next_patch(existing)


def plain_revision(revision: str) -> str:
    """``refs/heads/main`` → ``main``, ``refs/tags/1.0.0`` → ``1.0.0`` (git-style names)."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if revision.startswith(prefix):
            return revision[len(prefix):]
    return revision
