"""``paths-info``, git oids and the expanded tree through the unmodified ``huggingface_hub``:
``get_paths_info``, downloads to ``local_dir``, ``HfFileSystem`` and ``list_repo_tree(expand=True)``."""

from __future__ import annotations

import hashlib


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_paths_info_oids_last_commit_and_local_dir(hub, run_hf, tmp_path):
    token = hub.token("paula")
    out = run_hf(
        f"""
        from huggingface_hub import HfApi, HfFileSystem, hf_hub_download
        api = HfApi()
        api.create_repo("paula/paths")
        first = api.upload_file(path_or_fileobj=b"one", path_in_repo="a/one.txt", repo_id="paula/paths").oid
        second = api.upload_file(path_or_fileobj=b"two", path_in_repo="b.txt", repo_id="paula/paths",
                                 commit_message="add b").oid
        infos = api.get_paths_info("paula/paths", ["a/one.txt", "b.txt", "a", "missing.txt"], expand=True)
        tree = list(api.list_repo_tree("paula/paths", recursive=True, expand=True))
        local = hf_hub_download("paula/paths", "a/one.txt", local_dir={str(tmp_path / "local")!r})
        fs = HfFileSystem()
        print(json.dumps({{
            "first": first, "second": second,
            "infos": [[i.path, type(i).__name__, getattr(i, "blob_id", None),
                       i.last_commit.oid if getattr(i, "last_commit", None) else None] for i in infos],
            "tree": {{e.path: [getattr(e, "blob_id", None), e.last_commit.title if getattr(e, "last_commit", None)
                              else None] for e in tree}},
            "local": open(local, "rb").read().decode(),
            "mtime": str(fs.modified("paula/paths/b.txt")),
        }}))
    """,
        token=token,
    )
    assert out["infos"] == [
        ["a/one.txt", "RepoFile", git_sha1(b"one"), out["first"]],
        ["b.txt", "RepoFile", git_sha1(b"two"), out["second"]],
        ["a", "RepoFolder", None, out["first"]],
    ]  # a missing path is left out, as on the HF Hub; a folder's lastCommit is the last change inside it
    assert out["tree"]["b.txt"] == [git_sha1(b"two"), "add b"]
    assert out["tree"][".gitattributes"][1] == "initial commit"
    assert out["local"] == "one" and out["mtime"].startswith("20")


def test_folder_last_commit_is_the_last_change_inside_it(hub, run_hf):
    """As git's last commit touching a tree: an added, changed or deleted file inside the folder moves
    it, a commit elsewhere does not; ``HfFileSystem.modified`` of a folder is that commit's date."""
    out = run_hf(
        """
        from huggingface_hub import HfApi, HfFileSystem, CommitOperationAdd, CommitOperationDelete
        api = HfApi()
        api.create_repo("paula/folders")
        api.create_commit("paula/folders", commit_message="two files", operations=[
            CommitOperationAdd("data/x/keep.txt", b"k"), CommitOperationAdd("data/gone.txt", b"g")])
        api.delete_file("data/gone.txt", "paula/folders", commit_message="drop gone")
        api.upload_file(path_or_fileobj=b"o", path_in_repo="other/o.txt", repo_id="paula/folders",
                        commit_message="elsewhere")
        tree = {e.path: e.last_commit.title for e in api.list_repo_tree("paula/folders", recursive=True, expand=True)
                if e.last_commit}
        folder = api.get_paths_info("paula/folders", ["data"], expand=True)[0]
        plain = api.get_paths_info("paula/folders", ["data"])[0]
        fs = HfFileSystem()
        print(json.dumps({"tree": tree, "folder": folder.last_commit.title, "plain": plain.last_commit,
                          "modified": str(fs.modified("paula/folders/data")),
                          "commit_date": str(api.list_repo_commits("paula/folders")[1].created_at)}))
    """,
        token=hub.token("paula"),
    )
    assert out["tree"]["data"] == "drop gone" and out["tree"]["data/x"] == "two files"
    assert out["tree"]["other"] == "elsewhere" and out["folder"] == "drop gone"
    assert out["plain"] is None  # without expand, no lastCommit (as before)
    assert out["modified"] == out["commit_date"]


def test_paths_info_of_missing_repo_and_revision(hub):
    import httpx

    auth = {"Authorization": f"Bearer {hub.token('paula')}"}
    missing = httpx.post(f"{hub.url}/api/models/paula/nothing/paths-info/main", data={"paths": ["x"]}, headers=auth)
    assert missing.status_code == 404 and missing.headers["X-Error-Code"] == "RepoNotFound"
    from huggingface_hub import HfApi

    HfApi(endpoint=hub.url, token=hub.token("paula")).create_repo("paula/something")
    # the repo is found first (a missing one answers 404 whatever the body), then the body is read
    bad = httpx.post(f"{hub.url}/api/models/paula/something/paths-info/main", json={"paths": 3}, headers=auth)
    assert bad.status_code == 400 and bad.json()["error"] == "'paths' must be a list of file paths"
