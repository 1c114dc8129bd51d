"""Every query has bounded work and no input reaches a 500: too many tag filters or too much
search text is a one-line 400 (1,500 filters used to be a 500 on SQLite and minutes of work on
PostgreSQL), cursors are checked (an id above 2**63 or a non-scalar value used to be a 500), NUL
bytes in the path or query are refused once for every route (PostgreSQL used to answer 500), a
deep JSON body sent as text/plain to the HF API is refused like any deep JSON, a card with
``tags: 5`` publishes, and a read statement running past its time bound is stopped (503)."""

from __future__ import annotations

import base64
import json
import time

import httpx
import pytest

from hub_server.db import Database
from hub_server.errors import Unavailable
from hub_server.settings import Settings
from tests.security.accountability_support import auth, create_repo, hub_on, one_line, publish  # noqa: F401

SHARED_HUB = True  # one hub per database kind and settings: the tests use distinct names

SEARCHES = ("/api/v1/search", "/api/models", "/search")


def _cursor(value, repo_id) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, repo_id]).encode()).decode()


def _refused(r: httpx.Response, words: str) -> None:
    assert r.status_code == 400, (r.request.url, r.status_code, r.text[:200])
    if r.headers["content-type"].startswith("application/json"):
        body = r.json()
        message = body["error"]["message"] if "error" in body and isinstance(body["error"], dict) else body["error"]
        assert "\n" not in message and words in message, message
    else:
        assert words in r.text


def test_search_bounds_and_cursors_are_one_line_400s(hub_on):
    hub = hub_on()
    token = hub.token("alice", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as c:
        create_repo(c, token, "alice", "lora")
        card = b"---\ntags: 5\nlicense: mit\n---\n# a card whose tags is a number\n"
        assert publish(c, token, "alice/lora", "1.0.0", {"README.md": card}).status_code == 201
        assert c.get("/api/v1/search", params={"tag": "5"}).json()["items"][0]["name"] == "lora"
        assert "5" in c.get("/api/models/alice/lora").json()["tags"]
        assert c.get("/alice/lora").status_code == 200
        many = [f"t{i}" for i in range(1500)]
        began = time.monotonic()
        _refused(c.get("/api/models", params={"filter": many}), "too many tag filters (1500); at most 10")
        assert time.monotonic() - began < 5
        assert c.get("/api/models", params={"filter": many[:10]}).status_code == 200
        for path, key in (("/api/v1/search", "q"), ("/api/models", "search"), ("/search", "q")):
            _refused(c.get(path, params={key: "lora " * 100}), "search text longer than 200 characters")
        for bad in (
            _cursor(1, 2**63),
            _cursor(1, 10**40),
            _cursor([1], 1),
            _cursor({"a": 1}, 1),
            _cursor(1, [1]),
            _cursor(1, True),
            _cursor(10**30, 1),
            "!!!",
            "x" * 5000,
        ):
            for path in SEARCHES:
                _refused(c.get(path, params={"cursor": bad}), "invalid cursor")


NUL_ROUTES = (
    "/api/v1/search?q=a%00b",
    "/api/v1/search?tag=%00",
    "/api/models?search=%00",
    "/api/models?filter=%00",
    "/api/models?author=a%00",
    "/search?q=%00",
    "/search?license=%00",
    "/api/v1/repos/alice/lora/resolve?ref=%00",
    "/api/models/alice/lora/tree/main?cursor=%00",
    "/alice/lora?tab=%00",
    "/api/v1/repos/alice%00/lora/versions",
    "/alice/lora/resolve/main/README.md%00",
)


def test_nul_in_path_or_query_is_a_400_on_every_route(hub_on):
    hub = hub_on()
    token = hub.token("nia", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as c:
        create_repo(c, token, "nia", "lora")
        for route in NUL_ROUTES:
            r = c.get(route)
            assert r.status_code == 400, (route, r.status_code)
            assert "NUL characters are not allowed" in r.text
        assert "error" not in c.get("/api/v1/search?q=lora").json()  # the same routes answer without NUL


def test_deep_json_as_text_plain_to_hf_routes_is_refused(hub_on):
    hub = hub_on()
    token = hub.token("dee", "write")
    deep = b"[" * 100_000 + b"]" * 100_000
    with httpx.Client(base_url=hub.url, timeout=30) as c:
        for path in ("/api/repos/create", "/api/validate-yaml", "/api/models/dee/x/settings"):
            method = "PUT" if path.endswith("settings") else "POST"
            r = c.request(method, path, content=deep, headers={**auth(token), "content-type": "text/plain"})
            assert r.status_code in (400, 422), (path, r.status_code)
            assert "nested deeper than 32 levels" in r.headers.get("x-error-message", r.text)
        assert c.get("/api/models/dee/x").status_code == 404  # nothing was created


def test_tag_filters_past_the_time_bound_are_stopped(hub_on):
    """With the filter cap lifted, the time bound still ends the work: 300 filters used to run
    for more than 40 s on PostgreSQL (and kept running after the client left)."""
    hub = hub_on(env={"HUB_SEARCH_MAX_FILTERS": "2000", "HUB_QUERY_TIMEOUT_SECONDS": "1"})
    with httpx.Client(base_url=hub.url, timeout=60) as c:
        began = time.monotonic()
        r = c.get("/api/models", params={"filter": [f"t{i}" for i in range(300)]})
        elapsed = time.monotonic() - began
    if hub.database_url is None:  # SQLite plans 300 EXISTS quickly: a plain empty answer
        assert r.status_code == 200 and r.json() == []
    else:
        assert r.status_code == 503 and "the query took longer than 1 s and was stopped" in r.text
        assert r.headers["retry-after"]
    assert elapsed < 10


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_read_statements_are_stopped_at_the_time_bound(kind, tmp_path):
    from sqlalchemy import text

    from tests.support.hub_process import postgres_or_skip

    database = postgres_or_skip() if kind == "postgresql" else None
    url = database.url if database else Settings(data=tmp_path).resolved_database_url()
    db = Database(url, query_timeout=0.3)
    slow = (
        "SELECT pg_sleep(3)"
        if database
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000000) SELECT count(*) FROM n"
    )
    try:
        began = time.monotonic()
        with pytest.raises(Unavailable, match="the query took longer than 0.3 s and was stopped"), db.read() as s:
            s.execute(text(slow)).all()
        assert time.monotonic() - began < 2.5
        with db.read() as s:  # the connection is usable again, and quick statements pass
            assert s.execute(text("SELECT 1")).scalar() == 1
        with db.write() as s:  # writes are not bounded by it
            s.execute(
                text(
                    "SELECT pg_sleep(0.5)"
                    if database
                    else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) "
                    "SELECT count(*) FROM n"
                )
            ).all()
    finally:
        db.dispose()
        if database:
            database.drop()


def test_nul_in_bodies_and_forms_is_a_400(hub_on):
    """PostgreSQL refuses NUL in text: a JSON body, a form or an HF commit message carrying one used to
    reach it and answer 500."""

    from tests.web.web_fixtures import Browser

    hub = hub_on()
    token = hub.token("nel", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as c:
        r = c.post("/api/v1/repos", json={"namespace": "nel", "name": "a\x00b"}, headers=auth(token))
        assert r.status_code == 400 and one_line(r) == "NUL characters are not allowed in the body"
        create_repo(c, token, "nel", "lora")
        commit = json.dumps({"key": "header", "value": {"summary": "a\x00b"}}).encode()
        r = c.post("/api/models/nel/lora/commit/main", content=commit, headers=auth(token))
        assert r.status_code == 400 and "NUL characters are not allowed" in r.headers["x-error-message"]
        assert c.get("/api/v1/repos/nel/lora/versions").json()["items"] == []
    browser = Browser(hub.url)
    browser.get("/signin")
    r = browser.post("/signin", {"name": "al\x00ice", "password": "whatever123"})
    assert r.status_code == 400 and "NUL characters are not allowed in a form" in r.text
    browser.close()
