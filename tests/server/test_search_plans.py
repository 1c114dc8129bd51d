"""Free-text search gives the same pages whichever way it runs (a rare word's repos sorted, common
words checked along the sort order, that walk running out and the rest sorted): every page of every
query is compared with a plain Python filter and sort of the same repos, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub_server.app import build_hub
from hub_server.db.models import Repo
from hub_server.services import search as search_module
from hub_server.services.auth import Principal
from hub_server.services.search import search
from hub_server.services.search_terms import query_words, set_search_text, terms_of
from hub_server.settings import Settings
from tests.support.hub_process import postgres_or_skip

COUNT = 240
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _text(i: int) -> str:
    words = ["common", "every-repo"]
    words += ["half"] if i % 2 == 0 else []
    words += ["third"] if i % 3 == 0 else []
    words += ["rare"] if i % 50 == 7 else []
    return " ".join(words + [f"usage{i}"])


def _namespace(i: int) -> str:
    return "zz-late" if i >= COUNT - 30 else f"ns{i % 6}"  # the last 30 cluster at the end of name order


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hub(request, tmp_path_factory):
    db = postgres_or_skip() if request.param == "postgresql" else None
    hub = build_hub(Settings(data=tmp_path_factory.mktemp("hub-data"), database_url=db.url if db else None))
    with hub.db.write() as s:
        for i in range(COUNT):
            ns, name = _namespace(i), f"item-{i:03d}"
            repo = Repo(
                id=i + 1,
                namespace=ns,
                name=name,
                full_name=f"{ns}/{name}",
                kind="adapter",
                private=i % 11 == 0,
                downloads=i % 9,
                created_at=NOW,
                updated_at=NOW - timedelta(seconds=i % 13),
                method="lora" if i % 4 else "ia3",
                metadata_json="{}",
            )
            set_search_text(repo, f"{ns}/{name} {_text(i)}")
            s.add(repo)
    yield hub
    hub.db.dispose()
    if db:
        db.drop()


def _expected(q: str, sort: str, admin: bool, method: str | None) -> list[str]:
    words = query_words(q)
    rows = []
    for i in range(COUNT):
        ns, name = _namespace(i), f"item-{i:03d}"
        terms = terms_of(f"{ns}/{name} {_text(i)}".lower())
        if not words or not all(any(t.startswith(w) for t in terms) for w in words):
            continue
        if (i % 11 == 0 and not admin) or (method and method != ("lora" if i % 4 else "ia3")):
            continue
        rows.append((i % 9, NOW - timedelta(seconds=i % 13), f"{ns}/{name}", i + 1))
    key = {
        "downloads": lambda r: (-r[0], -r[3]),
        "updated": lambda r: (-r[1].timestamp(), -r[3]),
        "name": lambda r: (r[2], r[3]),
    }[sort]
    return [r[2] for r in sorted(rows, key=key)]


def _pages(hub, q: str, sort: str, admin: bool, method: str | None) -> list[str]:
    who = Principal(user_id=1, name="root", orgs=(), scope="admin") if admin else None
    seen, cursor = [], None
    for _ in range(COUNT):
        page = search(hub, who, q=q, sort=sort, limit=7, cursor=cursor, method=method)
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return seen
    raise AssertionError("pagination did not end")


QUERIES = [
    "common",
    "half third",
    "rare",
    "zz",
    "zz-late half",
    "usage1",
    "usage12",
    "item-2",
    "ns3 third",
    "every-repo common half",
    "nosuch",
    "common nosuch",
    "HALF",
    "  ",
    "common rare",
]


@pytest.mark.parametrize(
    "sparse_rows, walk_rows, max_batch", [(5000, 2000, 3200), (0, 2000, 3200), (0, 5, 3200), (20, 3, 60)]
)
def test_every_strategy_pages_like_a_plain_filter_and_sort(hub, monkeypatch, sparse_rows, walk_rows, max_batch):
    monkeypatch.setattr(search_module, "SPARSE_ROWS", sparse_rows)
    monkeypatch.setattr(search_module, "WALK_ROWS", walk_rows)
    monkeypatch.setattr(search_module, "MAX_BATCH", max_batch)
    who = ((False, None), (True, None), (False, "lora"))  # anonymous, admin (sees private repos), a filter
    for n, q in enumerate(QUERIES):
        for k, sort in enumerate(("downloads", "updated", "name")):
            admin, method = who[(n + k) % 3]
            expected = _expected(q, sort, admin, method)
            assert _pages(hub, q, sort, admin, method) == expected, (q, sort, admin, method)


def test_the_checks_see_what_they_should(hub):
    """The reference itself: words are ANDed prefixes, private repos only for the admin."""
    assert len(_expected("common", "name", True, None)) == COUNT
    assert len(_expected("common", "name", False, None)) == COUNT - len(range(0, COUNT, 11))
    assert _expected("zz", "name", True, None)[0] == "zz-late/item-210"
    assert _expected("rare half", "downloads", True, None) == []  # i % 50 == 7 is odd
    assert _expected("nosuch", "name", True, None) == []
