"""How an HF-style commit becomes a named, immutable hub version.

Git commits have no names, hub versions do (semver, never reused). The rule, in order:
1. a line ``version: X.Y.Z`` in the commit message or description names it;
2. otherwise a revision in the URL that looks like a version and does not exist yet
   (``upload_folder(..., revision="1.2.0")``) names it;
3. otherwise it is the next patch after the highest version ever published
   (yanked, deleted and tombstoned ones count: names are never reused); after a pre-release comes its release;
   the first one is ``1.0.0`` (the ``0.0.0`` initial commit of a repo created over HF does not count).

Version names follow the one grammar of ``hub_rules.semver`` (a leading ``v`` is dropped).
The message is scanned line by line: linear in its length whatever it holds (a commit
message may be 64 MiB of newlines).
"""

from __future__ import annotations

import re

from hub_rules import is_version, parse_version, sort_key

FIRST_VERSION = "1.0.0"
INITIAL_VERSION = "0.0.0"  # the .gitattributes-only version a repo created over HF starts with (hf_initial)
# One line at a time, and only the lines that hold the word: the word search is one C-level
# scan, each line holding it is matched once (never re-read for a second hit on the same line),
# so the whole scan is linear in the text and a message of nothing but newlines costs one pass.
_WORD = re.compile(r"(?i)version")
_LINE = re.compile(r"(?i)[ \t]*version[ \t]*[:=][ \t]*([^\s]{1,110})[ \t\r]*")


def _normalise(name: str) -> str:
    return name[1:] if name[:1] in ("v", "V") else name


def is_version_name(text: str) -> bool:
    return is_version(_normalise(text))


def version_from_message(summary: str, description: str) -> str | None:
    for text in (summary or "", description or ""):
        at = 0
        while hit := _WORD.search(text, at):
            start = text.rfind("\n", 0, hit.start()) + 1
            end = text.find("\n", hit.end())
            end = len(text) if end < 0 else end
            m = _LINE.fullmatch(text, start, end)
            if m and is_version(candidate := _normalise(m.group(1))):
                return candidate
            at = end + 1
    return None


def next_patch(existing: list[str]) -> str:
    named = [n for n in (_normalise(e) for e in existing) if is_version(n) and n != INITIAL_VERSION]
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
            return revision[len(prefix) :]
    return revision
