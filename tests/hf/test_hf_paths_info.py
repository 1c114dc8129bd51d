"""``paths-info``, git oids and the expanded tree through the unmodified ``huggingface_hub``:
``get_paths_info``, downloads to ``local_dir``, ``HfFileSystem`` and ``list_repo_tree(expand=True)``."""

from __future__ import annotations

import hashlib


def git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_paths_info_oids_last_commit_and_local_dir(hub, run_hf, tmp_path):
    token = hub.token("paula")
    out = run_hf(f"""
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
    """, token=token)
    assert out["infos"] == [["a/one.txt", "RepoFile", git_sha1(b"one"), out["first"]],
                            ["b.txt", "RepoFile", git_sha1(b"two"), out["second"]],
                            ["a", "RepoFolder", None, None]]  # a missing path is left out, as on the HF Hub
    assert out["tree"]["b.txt"] == [git_sha1(b"two"), "add b"]
    assert out["tree"][".gitattributes"][1] == "initial commit"
    assert out["local"] == "one" and out["mtime"].startswith("20")


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
