"""Discussions through the unmodified ``huggingface_hub`` client: open, comment, rename, close and
reopen, list with the filters the client sends, details with every event, edit and hide a comment;
an empty draft pull request that gets commits, is opened and merged; hostile input refused with one
line and nothing stored; private repos are 404 to outsiders."""

from __future__ import annotations

import httpx

from tests.hf.hf_harness import versions
from tests.hf.test_hf_manage import with_refused


def test_discussion_lifecycle_and_filters(hub, run_hf):
    alice, bob = hub.token("alice"), hub.token("bob")
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/talk")
        api.upload_file(path_or_fileobj=b"v1", path_in_repo="a.txt", repo_id="alice/talk")
        api.create_discussion("alice/talk", title="Owner's note")
    """,
        token=alice,
    )
    out = run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        d = api.create_discussion("alice/talk", title="  Does it work on   base v2? ", description="**Asking**")
        c = api.comment_discussion("alice/talk", d.num, "more *details*")
        edited = api.edit_discussion_comment("alice/talk", d.num, c.id, "even more details")
        renamed = api.rename_discussion("alice/talk", d.num, "Works on base v2?")
        closed = api.change_discussion_status("alice/talk", d.num, "closed", comment="answered")
        pr = api.create_pull_request("alice/talk", title="Empty draft")
        api.upload_file(path_or_fileobj=b"b", path_in_repo="b.txt", repo_id="alice/talk", revision=pr.git_reference)
        nums = lambda **kw: [x.num for x in api.get_repo_discussions("alice/talk", **kw)]
        details = api.get_discussion_details("alice/talk", d.num)
        print(json.dumps({
            "num": d.num, "title": d.title, "author": d.author, "edited": [edited.edited, edited.content],
            "rendered": details.events[0].rendered, "renamed": [renamed.old_title, renamed.new_title],
            "closed": closed.new_status, "pr": [pr.num, pr.status, pr.is_pull_request],
            "all": nums(), "open": nums(discussion_status="open"), "closed_only": nums(discussion_status="closed"),
            "prs": nums(discussion_type="pull_request"), "discussions": nums(discussion_type="discussion"),
            "by_bob": nums(author="bob"), "by_alice": nums(author="alice"),
            "events": [e.type for e in details.events], "status": details.status,
            "title_now": details.title}))
    """,
        token=bob,
    )
    assert out["num"] == 2 and out["title"] == "Does it work on   base v2?" and out["author"] == "bob"
    assert out["edited"] == [True, "even more details"]
    assert out["rendered"] == "<p><strong>Asking</strong></p>\n"  # markdown through the site's sanitiser
    assert out["renamed"] == ["Does it work on   base v2?", "Works on base v2?"] and out["closed"] == "closed"
    assert out["pr"] == [3, "draft", True]
    assert out["all"] == [3, 2, 1] and out["open"] == [3, 1] and out["closed_only"] == [2]
    assert out["prs"] == [3] and out["discussions"] == [2, 1] and out["by_bob"] == [3, 2] and out["by_alice"] == [1]
    assert out["events"] == ["comment", "comment", "title-change", "comment", "status-change"]
    assert out["status"] == "closed" and out["title_now"] == "Works on base v2?"

    merged = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        draft = refused(lambda: api.merge_pull_request("alice/talk", 3))
        api.change_discussion_status("alice/talk", 3, "open")
        api.merge_pull_request("alice/talk", 3)
        again = refused(lambda: api.merge_pull_request("alice/talk", 3))
        reopen = refused(lambda: api.change_discussion_status("alice/talk", 3, "closed"))
        hidden = api.hide_discussion_comment("alice/talk", 2, api.get_discussion_details("alice/talk", 2).events[1].id)
        print(json.dumps({"draft": draft, "again": again, "reopen": reopen, "hidden": [hidden.hidden, hidden.content],
                          "status": api.get_discussion_details("alice/talk", 3).status}))
    """),
        token=alice,
    )
    assert merged["draft"][:2] == [409, "pull request #3 is draft; open it first"]
    assert merged["again"][:2] == [409, "pull request #3 is merged"]
    assert merged["reopen"][:2] == [409, "pull request #3 is merged; its status cannot change"]
    assert merged["hidden"] == [True, ""] and merged["status"] == "merged"
    assert versions(hub, alice, "alice/talk") == ["1.0.1", "1.0.0", "0.0.0"]
    assert httpx.get(f"{hub.url}/alice/talk/resolve/main/b.txt").content == b"b"


def test_hostile_discussion_input_is_refused_and_stores_nothing(hub, run_hf):
    alice, bob = hub.token("alice"), hub.token("bob")
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/open")
        api.create_discussion("alice/open", title="First")
        api.create_repo("alice/hidden", private=True)
        api.create_discussion("alice/hidden", title="Internal")
    """,
        token=alice,
    )
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        api = HfApi()
        first = api.get_discussion_details("alice/open", 1).events[0].id
        print(json.dumps({
            "huge": refused(lambda: api.comment_discussion("alice/open", 1, "x" * 70000)),
            "long_title": refused(lambda: api.create_discussion("alice/open", title="t" * 300)),
            "empty": refused(lambda: api.comment_discussion("alice/open", 1, "   ")),
            "edit_other": refused(lambda: api.edit_discussion_comment("alice/open", 1, first, "mine")),
            "missing": refused(lambda: api.comment_discussion("alice/open", 99, "hello")),
            "private_list": refused(lambda: list(api.get_repo_discussions("alice/hidden"))),
            "private_comment": refused(lambda: api.comment_discussion("alice/hidden", 1, "let me in")),
            "private_create": refused(lambda: api.create_discussion("alice/hidden", title="hi")),
        }))
    """),
        token=bob,
    )
    assert out["huge"][:2] == [413, "the comment is longer than the limit of 65536 characters"]
    assert out["long_title"][:2] == [413, "the title is longer than the limit of 200 characters"]
    assert out["empty"][:2] == [400, "a comment needs some text"]
    assert out["edit_other"][:2] == [403, "bob may not edit a comment of alice"]
    assert out["missing"][:2] == [404, "discussion #99 of alice/open not found"]
    for key in ("private_list", "private_comment", "private_create"):
        assert out[key][0] == 404 and out[key][2] == "RepositoryNotFoundError", key
    owner = {"Authorization": f"Bearer {alice}"}
    listed = httpx.get(f"{hub.url}/api/models/alice/open/discussions", headers=owner).json()
    assert listed["count"] == 1 and listed["discussions"][0]["numComments"] == 1
    hidden = httpx.get(f"{hub.url}/api/models/alice/hidden/discussions/1", headers=owner).json()
    assert [e["type"] for e in hidden["events"]] == ["comment"]
    anonymous = httpx.post(f"{hub.url}/api/models/alice/open/discussions", json={"title": "anon"})
    assert anonymous.status_code == 401
    for bad in (
        "/api/models/alice/open/discussions/0",
        "/api/models/alice/open/discussions/99999999999999999999",
        "/api/models/alice/open/discussions?status=weird",
        "/api/models/alice/open/discussions?p=-1",
    ):
        r = httpx.get(hub.url + bad)
        assert r.status_code in (400, 404, 422), (bad, r.status_code)
    r = httpx.post(f"{hub.url}/api/models/alice/open/discussions/1/status", json={"status": "merged"}, headers=owner)
    assert r.status_code == 400 and r.json()["error"] == "the status must be 'open' or 'closed'"
