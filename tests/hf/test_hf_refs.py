"""Branches and tags through the unmodified ``huggingface_hub`` client: a branch commit lands on the
branch only (``main`` and the versions do not move), ``revision=branch|tag`` works for info, tree,
download and commits listing, a semver tag is a version, and ``main`` cannot be deleted."""

from __future__ import annotations

import httpx

from tests.hf.hf_harness import client, versions
from tests.hf.test_hf_manage import with_refused


def test_branch_commits_stay_on_the_branch_and_resolve_everywhere(hub, run_hf):
    alice = hub.token("alice")
    out = run_hf(
        """
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo("alice/br")
        main1 = api.upload_file(path_or_fileobj=b"v1", path_in_repo="a.txt", repo_id="alice/br").oid
        api.create_branch("alice/br", branch="feature/x")
        dev = api.upload_file(path_or_fileobj=b"dev bytes", path_in_repo="b.txt", repo_id="alice/br",
                              revision="feature/x", commit_message="work in progress").oid
        refs = api.list_repo_refs("alice/br")
        main_files = api.list_repo_files("alice/br")
        branch_files = api.list_repo_files("alice/br", revision="feature/x")
        info = api.model_info("alice/br", revision="feature/x")
        path = hf_hub_download("alice/br", "b.txt", revision="feature/x")
        commits = [c.title for c in api.list_repo_commits("alice/br", revision="feature/x")]
        api.create_tag("alice/br", tag="stable", revision="feature/x")
        api.create_tag("alice/br", tag="2.0.0", revision="feature/x", tag_message="release the branch")
        tagged = hf_hub_download("alice/br", "b.txt", revision="stable")
        main_after = api.model_info("alice/br").sha
        refs_after = api.list_repo_refs("alice/br")
        print(json.dumps({
            "main1": main1, "dev": dev, "main_files": main_files, "branch_files": branch_files,
            "branches": sorted((b.name, b.target_commit) for b in refs.branches),
            "tags": sorted(t.name for t in refs.tags), "info_sha": info.sha,
            "file": open(path, "rb").read().decode(), "commits": commits, "tagged": open(tagged, "rb").read().decode(),
            "main_after": main_after, "tags_after": sorted(t.name for t in refs_after.tags)}))
    """,
        token=alice,
    )
    assert out["dev"] != out["main1"]
    assert out["main_files"] == [".gitattributes", "a.txt"]  # main is still version 1.0.0
    assert sorted(out["branch_files"]) == [".gitattributes", "a.txt", "b.txt"]
    assert out["branches"] == [["feature/x", out["dev"]], ["main", out["main1"]]]
    assert [t for t in out["tags"] if t != "0.0.0"] == [
        "1.0.0"
    ]  # a branch commit is no release (0.0.0: the initial commit)
    assert out["info_sha"] == out["dev"] and out["file"] == "dev bytes" and out["tagged"] == "dev bytes"
    assert out["commits"] == [
        "work in progress",
        "Upload a.txt with huggingface_hub",
        "initial commit",
    ]  # the branch, then main
    # the semver tag published the branch head as version 2.0.0, which main now resolves to
    assert versions(hub, alice, "alice/br") == ["2.0.0", "1.0.0", "0.0.0"]
    assert out["main_after"] == out["dev"]
    assert [t for t in out["tags_after"] if t != "0.0.0"] == ["1.0.0", "2.0.0", "stable"]
    assert client(hub, alice).resolve("alice/br", "^2")["commit"] == out["dev"]


def test_branch_and_tag_refusals(hub, run_hf):
    alice = hub.token("alice")
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/refuse")
        api.upload_file(path_or_fileobj=b"v1", path_in_repo="a.txt", repo_id="alice/refuse")
        api.create_branch("alice/refuse", branch="dev")
        api.create_tag("alice/refuse", tag="pinned")
    """,
        token=alice,
    )
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        print(json.dumps({
            "delete_main": refused(lambda: api.delete_branch("alice/refuse", branch="main")),
            "again": refused(lambda: api.create_branch("alice/refuse", branch="dev")),
            "exist_ok": api.create_branch("alice/refuse", branch="dev", exist_ok=True),
            "semver_branch": refused(lambda: api.create_branch("alice/refuse", branch="1.2.3")),
            "bad_name": refused(lambda: api.create_branch("alice/refuse", branch="a..b")),
            "tag_again": refused(lambda: api.create_tag("alice/refuse", tag="pinned")),
            "release_untag": refused(lambda: api.delete_tag("alice/refuse", tag="1.0.0")),
            "to_tag": refused(lambda: api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt",
                                                      repo_id="alice/refuse", revision="pinned")),
            "no_branch": refused(lambda: api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt",
                                                         repo_id="alice/refuse", revision="nope")),
            "no_start": refused(lambda: api.create_branch("alice/refuse", branch="x", revision="nope")),
            "main_again": refused(lambda: api.create_branch("alice/refuse", branch="main")),
            "main_ok": api.create_branch("alice/refuse", branch="main", exist_ok=True),
            "delete_missing": refused(lambda: api.delete_branch("alice/refuse", branch="pinned")),
            "short": api.create_tag("alice/refuse", tag="short", revision=api.model_info("alice/refuse").sha[:7]),
            "short_sha": api.model_info("alice/refuse", revision="short").sha,
            "main_sha": api.model_info("alice/refuse").sha,
        }))
    """),
        token=alice,
    )
    assert out["delete_main"][:2] == [
        403,
        "Cannot delete refs/heads/main: it is the default branch (the newest version)",
    ]
    assert out["again"][:2] == [409, "Reference refs/heads/dev already exists in alice/refuse"]
    assert out["main_again"][:2] == [
        409,
        "Reference refs/heads/main already exists in alice/refuse (the default branch)",
    ]
    assert out["main_ok"] is None
    assert out["delete_missing"][:2] == [404, "Invalid rev id: pinned is no branch of alice/refuse"]  # a tag
    assert out["short_sha"] == out["main_sha"]  # a 7-digit commit prefix names the commit, as in git
    assert out["exist_ok"] is None
    assert out["semver_branch"][0] == 400 and "reads as a version" in out["semver_branch"][1]
    assert out["bad_name"][0] == 400
    assert out["tag_again"][0] == 409
    assert out["release_untag"][0] == 409 and "immutable" in out["release_untag"][1]
    assert out["to_tag"][:2] == [400, "pinned is a tag and never moves; commit to a branch instead"]
    assert out["no_branch"][0] == 404 and out["no_branch"][2] == "RevisionNotFoundError"
    assert out["no_start"][0] == 404
    assert versions(hub, alice, "alice/refuse") == ["1.0.0", "0.0.0"]  # nothing published by any refusal
    refs = httpx.get(f"{hub.url}/api/models/alice/refuse/refs", headers={"Authorization": f"Bearer {alice}"}).json()
    assert [b["name"] for b in refs["branches"]] == ["main", "dev"]


def test_strangers_cannot_touch_refs_and_private_refs_stay_hidden(hub, run_hf):
    alice = hub.token("alice")
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/guarded")
        api.upload_file(path_or_fileobj=b"v1", path_in_repo="a.txt", repo_id="alice/guarded")
        api.create_branch("alice/guarded", branch="dev")
        api.create_repo("alice/secret", private=True)
        api.upload_file(path_or_fileobj=b"s", path_in_repo="a.txt", repo_id="alice/secret")
        api.create_branch("alice/secret", branch="dev")
    """,
        token=alice,
    )
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        print(json.dumps({
            "branch": refused(lambda: api.create_branch("alice/guarded", branch="mine")),
            "delete": refused(lambda: api.delete_branch("alice/guarded", branch="dev")),
            "tag": refused(lambda: api.create_tag("alice/guarded", tag="3.0.0")),
            "commit": refused(lambda: api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt",
                                                      repo_id="alice/guarded", revision="dev")),
            "private_refs": refused(lambda: api.list_repo_refs("alice/secret")),
            "private_branch": refused(lambda: api.delete_branch("alice/secret", branch="dev")),
            "private_file": refused(lambda: api.model_info("alice/secret", revision="dev")),
        }))
    """),
        token=hub.token("bob"),
    )
    message = "bob may not write to namespace 'alice'"
    for key in ("branch", "delete", "tag", "commit"):
        assert out[key][:2] == [403, message], key
    for key in ("private_refs", "private_branch", "private_file"):
        assert out[key][0] == 404 and out[key][2] == "RepositoryNotFoundError", key
    bob = {"Authorization": f"Bearer {hub.token('bob')}"}
    assert httpx.get(f"{hub.url}/alice/secret/resolve/dev/a.txt", headers=bob).status_code == 404
    assert (
        httpx.get(f"{hub.url}/alice/secret/resolve/dev/a.txt", headers={"Authorization": f"Bearer {alice}"}).content
        == b"s"
    )
    refs = httpx.get(f"{hub.url}/api/models/alice/guarded/refs").json()
    assert [b["name"] for b in refs["branches"]] == ["main", "dev"] and [t["name"] for t in refs["tags"]] == [
        "1.0.0",
        "0.0.0",
    ]
    assert versions(hub, alice, "alice/guarded") == ["1.0.0", "0.0.0"]


def test_super_squash_history_is_refused_with_its_own_error_code(hub, run_hf):
    alice = hub.token("alice")
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/squash")
        api.upload_file(path_or_fileobj=b"1", path_in_repo="a.txt", repo_id="alice/squash")
        api.upload_file(path_or_fileobj=b"2", path_in_repo="a.txt", repo_id="alice/squash")
        print(json.dumps({"owner": refused(lambda: api.super_squash_history("alice/squash"))}))
    """),
        token=alice,
    )
    assert out["owner"][:2] == [
        409,
        (
            "the history of alice/squash cannot be squashed: its versions are immutable "
            "releases (yank or delete a version instead)"
        ),
    ]
    r = httpx.post(
        f"{hub.url}/api/models/alice/squash/super-squash/main",
        json={"message": "squash"},
        headers={"Authorization": f"Bearer {alice}"},
    )
    assert r.status_code == 409 and r.headers["X-Error-Code"] == "HistoryImmutable"
    stranger = httpx.post(
        f"{hub.url}/api/models/alice/squash/super-squash/main",
        json={},
        headers={"Authorization": f"Bearer {hub.token('bob')}"},
    )
    assert stranger.status_code == 403
    assert versions(hub, alice, "alice/squash") == ["1.0.1", "1.0.0", "0.0.0"]


def test_a_stale_parent_on_a_branch_is_412_and_stores_nothing(hub, run_hf):
    alice = hub.token("alice")
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi, CommitOperationAdd
        api = HfApi()
        api.create_repo("alice/parent")
        api.upload_file(path_or_fileobj=b"v1", path_in_repo="a.txt", repo_id="alice/parent")
        api.create_branch("alice/parent", branch="dev")
        start = api.model_info("alice/parent", revision="dev").sha
        moved = api.upload_file(path_or_fileobj=b"one", path_in_repo="one.txt", repo_id="alice/parent",
                                revision="dev", parent_commit=start).oid
        stale = refused(lambda: api.create_commit("alice/parent", [CommitOperationAdd("two.txt", b"two")],
                                                  commit_message="late", revision="dev", parent_commit=start))
        print(json.dumps({"moved": moved, "stale": stale, "head": api.model_info("alice/parent", revision="dev").sha,
                          "files": sorted(api.list_repo_files("alice/parent", revision="dev"))}))
    """),
        token=alice,
    )
    assert out["stale"][0] == 412 and out["stale"][1].startswith("parent commit ") and "\n" not in out["stale"][1]
    assert out["head"] == out["moved"] and out["files"] == [".gitattributes", "a.txt", "one.txt"]
