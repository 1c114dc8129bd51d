"""Pull requests through the unmodified ``huggingface_hub`` client: ``create_commit(create_pr=True)``
opens ``refs/pr/N`` and never touches ``main``; its author adds commits; the owner merges, which
publishes the next version through every publish check; strangers' attempts change nothing."""

from __future__ import annotations

import httpx

from tests.hf.hf_harness import client, safetensors_bytes, versions
from tests.hf.test_hf_manage import with_refused

SETUP = """
    from huggingface_hub import HfApi, CommitOperationAdd
    api = HfApi()
    api.create_repo("alice/{name}")
    api.upload_file(path_or_fileobj=b"original", path_in_repo="a.txt", repo_id="alice/{name}")
"""


def _main(hub, token: str, repo: str) -> tuple[str, list[str]]:
    info = httpx.get(f"{hub.url}/api/models/{repo}", headers={"Authorization": f"Bearer {token}"}).json()
    return info["sha"], sorted(s["rfilename"] for s in info["siblings"])


def test_create_pr_never_touches_main_and_merge_publishes(hub, run_hf):
    alice, bob = hub.token("alice"), hub.token("bob")
    run_hf(SETUP.format(name="pr"), token=alice)
    main_before = _main(hub, alice, "alice/pr")
    out = run_hf(
        """
        from huggingface_hub import HfApi, CommitOperationAdd, hf_hub_download
        api = HfApi()
        info = api.create_commit("alice/pr", operations=[CommitOperationAdd("a.txt", b"improved")],
                                 commit_message="Better a.txt", commit_description="it reads better", create_pr=True)
        second = api.upload_file(path_or_fileobj=b"new file", path_in_repo="b.txt", repo_id="alice/pr",
                                 revision=info.pr_revision, commit_message="and b.txt")
        details = api.get_discussion_details("alice/pr", info.pr_num)
        print(json.dumps({
            "pr_url": info.pr_url, "pr_revision": info.pr_revision, "pr_num": info.pr_num, "oid": info.oid,
            "second": second.oid, "pr_file": open(hf_hub_download("alice/pr", "a.txt", revision="refs/pr/1"),
                                                  "rb").read().decode(),
            "pr_files": sorted(api.list_repo_files("alice/pr", revision="refs/pr/1")),
            "status": details.status, "is_pr": details.is_pull_request, "title": details.title,
            "target": details.target_branch, "events": [e.type for e in details.events],
            "first": details.events[0].content, "diff": details.diff,
            "prs": [r.ref for r in api.list_repo_refs("alice/pr", include_pull_requests=True).pull_requests]}))
    """,
        token=bob,
    )
    assert out["pr_revision"] == "refs/pr/1" and out["pr_num"] == 1
    assert out["pr_url"] == f"{hub.url}/alice/pr/discussions/1"
    assert out["pr_file"] == "improved"
    assert set(out["pr_files"]) - {".gitattributes"} == {"a.txt", "b.txt"}  # main's files plus the PR's
    assert out["status"] == "open" and out["is_pr"] is True and out["title"] == "Better a.txt"
    assert out["target"] == "refs/heads/main" and out["events"] == ["comment", "commit", "commit"]
    assert out["first"] == "it reads better" and out["diff"] == "M\ta.txt\nA\tb.txt"
    assert out["prs"] == ["refs/pr/1"]
    # main: same commit, same files, same versions
    assert _main(hub, alice, "alice/pr") == main_before
    assert versions(hub, alice, "alice/pr") == ["1.0.0", "0.0.0"]
    assert httpx.get(f"{hub.url}/alice/pr/resolve/main/a.txt").content == b"original"

    merged = run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.merge_pull_request("alice/pr", 1, comment="thanks!")
        d = api.get_discussion_details("alice/pr", 1)
        print(json.dumps({"status": d.status, "merge": d.merge_commit_oid, "main": api.model_info("alice/pr").sha,
                          "events": [e.type for e in d.events], "last": d.events[-1].new_status}))
    """,
        token=alice,
    )
    assert merged["status"] == "merged" and merged["merge"] == merged["main"] != main_before[0]
    assert merged["events"][-2:] == ["comment", "status-change"] and merged["last"] == "merged"
    assert versions(hub, alice, "alice/pr") == ["1.0.1", "1.0.0", "0.0.0"]  # the merge is the next release
    assert httpx.get(f"{hub.url}/alice/pr/resolve/main/b.txt").content == b"new file"
    assert client(hub, alice).resolve("alice/pr", "1.0.1")["commit"] == merged["main"]


def test_strangers_cannot_merge_or_push_to_others_prs(hub, run_hf):
    alice, bob, carol = hub.token("alice"), hub.token("bob"), hub.token("carol")
    run_hf(SETUP.format(name="guard"), token=alice)
    run_hf(
        """
        from huggingface_hub import HfApi
        HfApi().upload_file(path_or_fileobj=b"bob's", path_in_repo="a.txt", repo_id="alice/guard", create_pr=True)
    """,
        token=bob,
    )
    main_before = _main(hub, alice, "alice/guard")
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        print(json.dumps({
            "merge": refused(lambda: api.merge_pull_request("alice/guard", 1)),
            "push": refused(lambda: api.upload_file(path_or_fileobj=b"carol's", path_in_repo="c.txt",
                                                    repo_id="alice/guard", revision="refs/pr/1")),
            "close": refused(lambda: api.change_discussion_status("alice/guard", 1, "closed")),
            "rename": refused(lambda: api.rename_discussion("alice/guard", 1, "mine now")),
            "main": refused(lambda: api.upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id="alice/guard")),
        }))
    """),
        token=carol,
    )
    assert out["merge"][:2] == [403, "carol may not write to namespace 'alice'"]
    assert out["push"][:2] == [403, "carol may not write to namespace 'alice'"]
    assert out["close"][0] == 403 and out["rename"][0] == 403 and "\n" not in out["close"][1]
    assert out["main"][:2] == [403, "carol may not write to namespace 'alice'"]
    d = httpx.get(f"{hub.url}/api/models/alice/guard/discussions/1").json()
    assert d["status"] == "open" and d["title"] == "Upload a.txt with huggingface_hub"
    assert [e["type"] for e in d["events"]] == ["comment", "commit"]
    assert _main(hub, alice, "alice/guard") == main_before and versions(hub, alice, "alice/guard") == ["1.0.0", "0.0.0"]


def test_merge_applies_every_publish_check(hub, run_hf):
    """A pull request carrying a ``model.sig`` nobody's key made is refused at merge like any publish."""
    alice, bob = hub.token("alice"), hub.token("bob")
    run_hf(SETUP.format(name="checked"), token=alice)
    run_hf(
        """
        from huggingface_hub import HfApi
        HfApi().upload_file(path_or_fileobj=b"not a signature bundle", path_in_repo="model.sig",
                            repo_id="alice/checked", create_pr=True)
    """,
        token=bob,
    )
    main_before = _main(hub, alice, "alice/checked")
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        print(json.dumps({"merge": refused(lambda: api.merge_pull_request("alice/checked", 1)),
                          "status": api.get_discussion_details("alice/checked", 1).status}))
    """),
        token=alice,
    )
    assert out["merge"][0] == 400 and out["merge"][1].startswith("bad signature:") and "\n" not in out["merge"][1]
    assert out["status"] == "open"
    assert _main(hub, alice, "alice/checked") == main_before and versions(hub, alice, "alice/checked") == [
        "1.0.0",
        "0.0.0",
    ]


def test_pr_files_pass_the_file_checks_when_committed(hub, run_hf):
    """A broken safetensors file never reaches a pull request; a valid one does."""
    alice, bob = hub.token("alice"), hub.token("bob")
    run_hf(SETUP.format(name="files"), token=alice)
    good = safetensors_bytes().hex()
    out = run_hf(
        with_refused(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        bad = refused(lambda: api.upload_file(path_or_fileobj=b"\\x08" + b"\\x00" * 7 + b"garbage!",
                                              path_in_repo="w.safetensors", repo_id="alice/files", create_pr=True))
        ok = api.upload_file(path_or_fileobj=bytes.fromhex("{good}"), path_in_repo="w.safetensors",
                             repo_id="alice/files", create_pr=True)
        print(json.dumps({{"bad": bad, "ok": ok.pr_revision,
                          "nums": [d.num for d in api.get_repo_discussions("alice/files")]}}))
    """),
        token=bob,
    )
    assert out["bad"][0] == 400 and "\n" not in out["bad"][1]
    assert out["ok"] == "refs/pr/1" and out["nums"] == [1]  # the refused one opened nothing
