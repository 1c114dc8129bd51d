"""``HfApi.move_repo`` with the unmodified ``huggingface_hub``: the repo keeps its versions under the
new name, its former name still reaches it (downloads, info, also private), a taken name is HF's
409, strangers cannot move, and the old name's version names stay tombstoned: a new repo that takes
the old name ends the redirect but starts its numbering after them."""

from __future__ import annotations

import httpx

from tests.hf.hf_harness import client, versions
from tests.hf.test_hf_manage import with_refused


def test_move_redirects_and_keeps_version_names(hub, run_hf):
    owner, stranger = hub.token("mona"), hub.token("ned")
    out = run_hf(
        with_refused("""
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo("mona/before", private=True)
        api.upload_file(path_or_fileobj=b"content", path_in_repo="file.txt", repo_id="mona/before")
        api.create_repo("mona/taken")
        taken = refused(lambda: api.move_repo("mona/before", "mona/taken"))
        api.move_repo("mona/before", "mona/after")
        old = open(hf_hub_download("mona/before", "file.txt"), "rb").read().decode()
        print(json.dumps({"taken": taken, "old": old, "id": api.model_info("mona/before").id,
                          "new": api.model_info("mona/after").sha}))
    """),
        token=owner,
    )
    assert out["taken"][:2] == [409, "A model repository called mona/taken already exists"]
    assert out["old"] == "content" and out["id"] == "mona/after"
    assert versions(hub, owner, "mona/after") == ["1.0.0", "0.0.0"]
    assert client(hub, owner).resolve("mona/after", "1.0.0")["commit"] == out["new"]
    blocked = run_hf(
        with_refused("""
        from huggingface_hub import HfApi
        print(json.dumps({"move": refused(lambda: HfApi().move_repo("mona/taken", "ned/mine"))}))
    """),
        token=stranger,
    )
    assert blocked["move"][0] == 403
    assert versions(hub, owner, "mona/taken") == ["0.0.0"]  # not moved
    again = run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("mona/before")  # takes the old name: the redirect ends
        info = api.upload_file(path_or_fileobj=b"other", path_in_repo="file.txt", repo_id="mona/before")
        print(json.dumps({"files": api.list_repo_files("mona/before")}))
    """,
        token=owner,
    )
    assert again["files"] == [".gitattributes", "file.txt"]
    assert versions(hub, owner, "mona/before") == ["1.0.1", "0.0.0"]  # 1.0.0 stays bound to the moved content
    assert versions(hub, owner, "mona/after") == ["1.0.0", "0.0.0"]


def test_moves_and_refs_are_in_the_audit_trail(hub, run_hf):
    owner = hub.token("olga")
    run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("olga/r")
        api.create_branch("olga/r", branch="dev")
        api.create_tag("olga/r", tag="pinned")
        api.delete_tag("olga/r", tag="pinned")
        api.delete_branch("olga/r", branch="dev")
        api.move_repo("olga/r", "olga/r2")
    """,
        token=owner,
    )
    admin = {"Authorization": f"Bearer {hub.token('root', scope='admin')}"}
    events = httpx.get(f"{hub.url}/api/v1/admin/audit", params={"actor": "olga"}, headers=admin).json()["items"]
    trail = [(e["action"], e["target"], e["detail"]) for e in reversed(events) if e["action"] != "version.publish"]
    assert [(a, t) for a, t, _ in trail] == [
        ("repo.create", "olga/r"),
        ("branch.create", "olga/r"),
        ("tag.create", "olga/r"),
        ("tag.delete", "olga/r"),
        ("branch.delete", "olga/r"),
        ("repo.move", "olga/r"),
    ]
    assert trail[1][2]["branch"] == "dev" and len(trail[1][2]["commit"]) == 40
    assert trail[-1][2] == {"to": "olga/r2"}
    owner_auth = {"Authorization": f"Bearer {owner}"}
    assert httpx.get(f"{hub.url}/api/models/olga/r", headers=owner_auth).json()["id"] == "olga/r2"
    client(hub, owner).delete_repo("olga/r2")
    gone = httpx.get(f"{hub.url}/api/models/olga/r", headers=owner_auth)  # the redirect went with the repo
    assert gone.status_code == 404 and gone.headers["X-Error-Code"] == "RepoNotFound"
