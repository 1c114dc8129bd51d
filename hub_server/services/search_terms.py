"""The words free-text search matches: each repo's search text split into terms, stored one row per
term so a query word is an index range scan (``term`` starts with the word), not a scan of every repo.

A repo is found by a query when every query word is the start of one of its terms. Terms are the
whitespace- and slash-separated tokens of the text (``sentiment-lora``) and their alphanumeric parts
(``sentiment``, ``lora``), lower-cased.
"""

from __future__ import annotations

import re

from ..db.models import Repo, RepoTerm

MAX_TERM = 100
MAX_QUERY_WORDS = 8
_TOKENS = re.compile(r"[\s/]+")
_PARTS = re.compile(r"[^0-9a-z]+")
TOP = "\U0010ffff"  # sorts after every character: [word, word + TOP) holds exactly the terms starting with word


def terms_of(text: str) -> set[str]:
    found: set[str] = set()
    for token in _TOKENS.split(text.lower()):
        if token:
            found.add(token[:MAX_TERM])
            found.update(part[:MAX_TERM] for part in _PARTS.split(token) if part)
    return found


def query_words(q: str) -> list[str]:
    """The words of a query, longest first (the most selective is tried first), at most MAX_QUERY_WORDS."""
    words = {w[:MAX_TERM] for w in _TOKENS.split(q.lower()) if w}
    return sorted(words, key=lambda w: (-len(w), w))[:MAX_QUERY_WORDS]


def set_search_text(repo: Repo, text: str) -> None:
    """Store the repo's search text and bring its term rows in line with it."""
    repo.search_text = text.lower()[:5000]
    wanted = terms_of(repo.search_text)
    repo.terms[:] = [t for t in repo.terms if t.term in wanted]
    have = {t.term for t in repo.terms}
    repo.terms.extend(RepoTerm(term=t, full_name=repo.full_name) for t in sorted(wanted - have))
