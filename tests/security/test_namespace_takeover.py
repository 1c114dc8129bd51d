"""A namespace that holds repositories but no account (an admin's mirror) cannot be claimed by
signing up with its name in any case; the stranger never gets to publish or yank there."""

from __future__ import annotations

import httpx

from tests.security.accountability_support import auth, create_repo, publish
from tests.web.web_fixtures import Browser


def test_a_mirror_namespace_cannot_be_claimed_by_sign_up(hub_server):
    admin = hub_server.token("root", "admin")
    with httpx.Client(base_url=hub_server.url, timeout=30) as client:
        create_repo(client, admin, "HuggingFaceTB", "SmolLM2-mirror")
        assert publish(client, admin, "HuggingFaceTB/SmolLM2-mirror", "1.0.0", {"a.txt": b"mirror"}).status_code == 201
        for claimed in ("HuggingFaceTB", "huggingfacetb", "HUGGINGFACETB"):
            stranger = Browser(hub_server.url)
            stranger.get("/signup")
            r = stranger.post("/signup", {"name": claimed, "password": "correct horse battery"})
            assert r.status_code == 409, r.text[-500:]
            assert f"the name &#39;{claimed}&#39; is taken: repositories already live in that namespace" in r.text
            assert "hub_session" not in stranger.http.cookies  # no account, no session
            stranger.get("/signin")
            r = stranger.post("/signin", {"name": claimed, "password": "correct horse battery"})
            assert r.status_code == 401  # nothing was created
            stranger.close()
        versions = client.get("/api/v1/repos/HuggingFaceTB/SmolLM2-mirror/versions").json()["items"]
        assert [(v["version"], v["yanked"]) for v in versions] == [("1.0.0", False)]
        # a free name still signs up, and that user cannot write to the mirror
        Browser(hub_server.url).sign_up("newcomer")
        other = hub_server.token("newcomer", "write")
        r = client.post(
            "/api/v1/repos/HuggingFaceTB/SmolLM2-mirror/versions/1.0.0/yank",
            json={"reason": "mine"},
            headers=auth(other),
        )
        assert r.status_code in (403, 404)
