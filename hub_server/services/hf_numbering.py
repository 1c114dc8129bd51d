"""How an HF-style commit becomes a named, immutable hub version.

Git commits have no names, hub versions do (semver, never reused). The rule, in order:
1. a line ``version: X.Y.Z`` in the commit message or description names it;
2. otherwise a revision in the URL that looks like a version and does not exist yet
   (``upload_folder(..., revision="1.2.0")``) names it;
3. otherwise it is the next patch after the highest version ever published
   (yanked, deleted and tombstoned ones count: names are never reused); after a pre-release comes its release;
   the first one is ``1.0.0``.

Version names follow the one grammar of ``hub_rules.semver`` (a leading ``v`` is dropped).
The message is scanned line by line: linear in its length whatever it holds (a commit
message may be 64 MiB of newlines).
"""

from __future__ import annotations

import re

from hub_rules import is_version, parse_version, sort_key

FIRST_VERSION = "1.0.0"
# Anchored at a line start and never crossing a line: only "[ \t]" repeats, so a failed
# attempt costs at most its own line and the whole scan is linear in the text.
_IN_MESSAGE = re.compile(r"(?im)^[ \t]*version[ \t]*[:=][ \t]*([^\s]{1,110})[ \t\r]*$")


def _normalise(name: str) -> str:
    return name[1:] if name[:1] in ("v", "V") else name


def is_version_name(text: str) -> bool:
    return is_version(_normalise(text))


def version_from_message(summary: str, description: str) -> str | None:
    for text in (summary or "", description or ""):
        for m in _IN_MESSAGE.finditer(text):
            candidate = _normalise(m.group(1))
            if is_version(candidate):
                return candidate
    return None


def next_patch(existing: list[str]) -> str:
    named = [n for n in (_normalise(e) for e in existing) if is_version(n)]
    if not named:
        return FIRST_VERSION
    top = parse_version(max(named, key=sort_key))
    if top.is_prerelease:  # after 2.0.0-rc.1 comes the release itself
        return f"{top.major}.{top.minor}.{top.patch}"
    return f"{top.major}.{top.minor}.{top.patch + 1}"


def choose_version(
    *, summary: str, description: str, url_revision: str, existing: list[str], reserved: list[str] = ()
) -> str:
    """Pick the name of the version a commit creates (see the module docstring). ``existing``: the
    live versions (a revision naming one is the parent); ``reserved``: names no longer live but
    never given to other content (deleted, or of a deleted repo of the same name)."""
    named = version_from_message(summary, description)
    if named is not None:
        return named
    if url_revision not in existing and is_version_name(url_revision):
        return _normalise(url_revision)
    return next_patch([*existing, *reserved])


def plain_revision(revision: str) -> str:
    """``refs/heads/main`` → ``main``, ``refs/tags/1.0.0`` → ``1.0.0`` (git-style names)."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if revision.startswith(prefix):
            return revision[len(prefix):]
    return revision
