"""Listing every repo (Link-header pages), delete, visibility and commit history through the
unmodified ``huggingface_hub.HfApi`` against the real server; strangers change nothing."""

from __future__ import annotations

import textwrap

import httpx

from tests.hf.hf_harness import client, versions

REFUSED = """
def refused(call):
    from huggingface_hub.errors import HfHubHTTPError
    try:
        call()
        return "accepted"
    except HfHubHTTPError as e:
        return [e.response.status_code, e.response.json().get("error"), type(e).__name__]
"""


def with_refused(code: str) -> str:
    """A snippet that may call ``refused(call)``: [status, one-line error, exception name] or "accepted"."""
    return REFUSED + textwrap.dedent(code)


def test_list_models_follows_link_pages_to_the_last_repo(hub, run_hf):
    out = run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        for i in range(130):
            api.create_repo(f"many/r{i:03d}")
        api.create_repo("many/hidden", private=True)
        print(json.dumps({"ids": [m.id for m in HfApi(token=False).list_models(author="many")],
                          "owner": [m.id for m in api.list_models(author="many")],
                          "five": [m.id for m in api.list_models(author="many", limit=5)]}))
    """,
        token=hub.token("many"),
    )
    assert len(out["ids"]) == 130 and len(set(out["ids"])) == 130
    assert set(out["ids"]) == {f"many/r{i:03d}" for i in range(130)}
    assert sorted(out["owner"]) == sorted(out["ids"] + ["many/hidden"])  # the owner sees the private one
    assert len(out["five"]) == 5
    first = httpx.get(f"{hub.url}/api/models", params={"author": "many"})
    assert len(first.json()) == 100 and first.links["next"]["url"].startswith(f"{hub.url}/api/models?")
    last = httpx.get(first.links["next"]["url"])
    assert len(last.json()) == 30 and "next" not in last.links
    bad = httpx.get(f"{hub.url}/api/models", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and bad.json() == {"error": "invalid cursor"}


def test_delete_repo_keeps_its_version_names(hub, run_hf):
    alice = hub.token("alice")
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RepositoryNotFoundError
        api = HfApi()
        api.create_repo("alice/gone")
        first = api.upload_file(path_or_fileobj=b"old bytes", path_in_repo="a.txt", repo_id="alice/gone").oid
        api.delete_repo("alice/gone")
        try:
            api.model_info("alice/gone")
            gone = False
        except RepositoryNotFoundError:
            gone = True
        api.delete_repo("alice/gone", missing_ok=True)
        api.create_repo("alice/gone")
        reuse = refused(lambda: api.upload_file(path_or_fileobj=b"other bytes", path_in_repo="a.txt",
                                                repo_id="alice/gone", revision="1.0.0"))
        fresh = api.upload_file(path_or_fileobj=b"other bytes", path_in_repo="a.txt", repo_id="alice/gone").oid
        print(json.dumps({"first": first, "gone": gone, "reuse": reuse, "fresh": fresh}))
    """),
        token=alice,
    )
    assert out["gone"] is True
    assert out["reuse"][0] == 409 and "1.0.0" in out["reuse"][1] and "cannot be reused" in out["reuse"][1]
    assert "\n" not in out["reuse"][1]
    assert versions(hub, alice, "alice/gone") == ["1.0.1", "0.0.0"]  # the next number, never 1.0.0 again
    assert client(hub, alice).resolve("alice/gone", "1.0.1")["commit"] == out["fresh"] != out["first"]


def test_strangers_cannot_delete_or_change_visibility(hub, run_hf):
    alice = hub.token("alice")
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/keep")
        api.upload_file(path_or_fileobj=b"keep", path_in_repo="a.txt", repo_id="alice/keep")
        api.create_repo("alice/shut", private=True)
    """,
        token=alice,
    )
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        print(json.dumps({
            "delete": refused(lambda: api.delete_repo("alice/keep")),
            "private": refused(lambda: api.update_repo_settings("alice/keep", private=True)),
            "delete_private": refused(lambda: api.delete_repo("alice/shut")),
            "publish_private": refused(lambda: api.update_repo_settings("alice/shut", private=False)),
        }))
    """),
        token=hub.token("bob"),
    )
    message = "bob may not write to namespace 'alice'"
    assert out["delete"][:2] == [403, message] and out["private"][:2] == [403, message]
    assert out["delete_private"][0] == 404 and out["delete_private"][2] == "RepositoryNotFoundError"
    assert out["publish_private"][0] == 404
    read_only = httpx.put(
        f"{hub.url}/api/models/alice/keep/settings",
        json={"visibility": "private"},
        headers={"Authorization": f"Bearer {hub.token('alice', 'read')}"},
    )
    assert read_only.status_code == 403 and "\n" not in read_only.json()["error"]
    anonymous = httpx.request("DELETE", f"{hub.url}/api/repos/delete", json={"name": "keep", "organization": "alice"})
    assert anonymous.status_code == 401
    native = httpx.patch(
        f"{hub.url}/api/v1/repos/alice/keep",
        json={"private": True},
        headers={"Authorization": f"Bearer {hub.token('bob')}"},
    )
    assert native.status_code == 403 and native.json()["error"] == {"code": "forbidden", "message": message}
    owner = client(hub, alice)
    assert owner.repo("alice/keep")["private"] is False and versions(hub, alice, "alice/keep") == ["1.0.0", "0.0.0"]
    assert owner.repo("alice/shut")["private"] is True


def test_update_repo_settings_private_and_back(hub, run_hf):
    alice = hub.token("alice")
    check = """
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RepositoryNotFoundError
        try:
            seen = HfApi().model_info("alice/vis").private
        except RepositoryNotFoundError:
            seen = "RepositoryNotFoundError"
        print(json.dumps({"seen": seen, "listed": [m.id for m in HfApi().list_models(author="alice", search="vis")]}))
    """
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/vis")
        api.upload_file(path_or_fileobj=b"v", path_in_repo="a.txt", repo_id="alice/vis")
        api.update_repo_settings("alice/vis", private=True)
    """,
        token=alice,
    )
    assert run_hf(check)["seen"] == "RepositoryNotFoundError" and run_hf(check)["listed"] == []
    owner = run_hf(check, token=alice)
    assert owner["seen"] is True and owner["listed"] == ["alice/vis"]
    run_hf('from huggingface_hub import HfApi\nHfApi().update_repo_settings("alice/vis", private=False)', token=alice)
    assert run_hf(check)["seen"] is False and run_hf(check)["listed"] == ["alice/vis"]
    gated = httpx.put(
        f"{hub.url}/api/models/alice/vis/settings",
        json={"gated": "sometimes"},
        headers={"Authorization": f"Bearer {alice}"},
    )
    assert gated.status_code == 400 and gated.json() == {"error": '\'gated\' must be "auto", "manual" or false'}


def test_list_repo_commits_newest_first_with_messages_and_authors(hub, run_hf):
    carol = hub.token("carol", orgs=("acme",))
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("acme/hist")
        api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id="acme/hist", commit_message="first")
        api.upload_file(path_or_fileobj=b"2", path_in_repo="a.txt", repo_id="acme/hist", commit_message="second",
                        commit_description="why it changed")
    """,
        token=carol,
    )
    run_hf(
        """
        from huggingface_hub import HfApi
        HfApi().upload_file(path_or_fileobj=b"3", path_in_repo="a.txt", repo_id="acme/hist", commit_message="third")
    """,
        token=hub.token("dan", orgs=("acme",)),
    )
    out = run_hf("""
        from huggingface_hub import HfApi
        from huggingface_hub.utils._pagination import paginate
        api = HfApi()
        shape = lambda cs: [[c.commit_id, c.authors, c.title, c.message, c.created_at.isoformat()] for c in cs]
        print(json.dumps({
            "all": shape(api.list_repo_commits("acme/hist")),
            "at": shape(api.list_repo_commits("acme/hist", revision="1.0.1")),
            "paged": [c["id"] for c in paginate(api.endpoint + "/api/models/acme/hist/commits/main",
                                                params={"limit": 1}, headers={})],
            "tree": [e["path"] for e in paginate(api.endpoint + "/api/models/acme/hist/tree/main",
                                                 params={"limit": 1}, headers={})],
        }))
    """)
    published = {v["version"]: v["commit"] for v in client(hub, carol).versions("acme/hist")}
    assert [c[0] for c in out["all"]] == [published[v] for v in ("1.0.2", "1.0.1", "1.0.0", "0.0.0")]
    assert [c[1] for c in out["all"]] == [["dan"], ["carol"], ["carol"], ["carol"]]
    assert [(c[2], c[3]) for c in out["all"]] == [
        ("third", ""),
        ("second", "why it changed"),
        ("first", ""),
        ("initial commit", ""),
    ]  # the repo's creation
    assert out["all"][0][4] >= out["all"][1][4] >= out["all"][2][4]
    assert [c[0] for c in out["at"]] == [published["1.0.1"], published["1.0.0"], published["0.0.0"]]
    assert out["paged"] == [c[0] for c in out["all"]]
    assert out["tree"] == [".gitattributes", "a.txt"]


def test_one_token_rule_for_both_protocols(hub):
    """A ``Basic`` (or any non-Bearer) header is refused the same way natively and over HF."""
    for url in ("/api/v1/whoami", "/api/whoami-v2", "/api/models"):
        r = httpx.get(hub.url + url, headers={"Authorization": "Basic eDp5"})
        assert r.status_code == 401, url
    r = httpx.get(hub.url + "/api/models", headers={"Authorization": "Basic eDp5"})
    assert r.json() == {"error": "expected 'Authorization: Bearer <token>'"}
    assert r.headers["X-Error-Message"] == "Invalid credentials in Authorization header"


def test_absolute_urls_name_the_public_address_when_a_balancer_rewrites_host(tmp_path):
    """Behind a balancer that sends its backend's address as ``Host``, ``HUB_PUBLIC_URL`` is what
    every absolute URL (pagination links, new repo URLs) names, never the host's own address."""
    from tests.support.hub_process import HubProcess

    public = "https://hub.example.org:8443"
    hub = HubProcess(tmp_path / "data", env={"HUB_PUBLIC_URL": public + "/"}).start()
    try:
        token = hub.token("lb", "write")
        made = httpx.post(
            f"{hub.url}/api/repos/create",
            json={"name": "r0", "organization": "lb"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status_code == 200 and made.json()["url"] == f"{public}/lb/r0"
        for i in range(1, 3):
            httpx.post(
                f"{hub.url}/api/repos/create",
                json={"name": f"r{i}", "organization": "lb"},
                headers={"Authorization": f"Bearer {token}"},
            ).raise_for_status()
        page = httpx.get(f"{hub.url}/api/models", params={"author": "lb", "limit": 2})
        assert len(page.json()) == 2
        assert page.links["next"]["url"].startswith(f"{public}/api/models?")
        assert "limit=2" in page.links["next"]["url"] and "cursor=" in page.links["next"]["url"]
    finally:
        hub.close()
