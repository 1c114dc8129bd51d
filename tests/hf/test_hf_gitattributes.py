"""Which files the HF view calls LFS, with the unmodified ``huggingface_hub``: paths the repo's
``.gitattributes`` tracks (``filter=lfs``) are listed with ``lfs.sha256`` and resolve with the
sha256 as ``X-Linked-Etag``; plain files carry their git blob sha1 as ``blob_id`` and ETag, as on
the HF Hub (also in ``model_info(files_metadata=True)``); copying an LFS file (an ``lfsFile`` line
without size) works. ``hf_hub_download(local_dir=...)`` then trusts its local metadata. Small tracked files
still travel inline (preupload answers "lfs" only above the hub's threshold, see ``test_hf_xet``)."""

from __future__ import annotations

import hashlib

import httpx


def _git_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def test_tracked_files_are_listed_and_resolved_as_lfs(hub, run_hf, tmp_path):
    token = hub.token("gina")
    out = run_hf(
        f"""
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        api.create_repo("gina/attrs")
        api.upload_file(path_or_fileobj=b"content", path_in_repo="file.txt", repo_id="gina/attrs")
        api.upload_file(path_or_fileobj=b"content", path_in_repo="lfs.bin", repo_id="gina/attrs")
        api.upload_file(path_or_fileobj=b"*.png filter=lfs diff=lfs merge=lfs -text\\n",
                        path_in_repo=".gitattributes", repo_id="gina/attrs")
        api.upload_file(path_or_fileobj=b"png", path_in_repo="img.png", repo_id="gina/attrs")
        api.upload_file(path_or_fileobj=b"bin", path_in_repo="now.bin", repo_id="gina/attrs")
        api.upload_file(path_or_fileobj=b"", path_in_repo="empty.png", repo_id="gina/attrs")
        from huggingface_hub import CommitOperationCopy
        api.create_commit("gina/attrs", [CommitOperationCopy("img.png", "copy.png")], commit_message="copy")
        info = {{i.path: [i.blob_id, i.lfs.sha256 if i.lfs else None] for i in api.get_paths_info(
            "gina/attrs", ["file.txt", "lfs.bin", "img.png", "now.bin", "copy.png", "empty.png"])}}
        siblings = {{s.rfilename: s.lfs["sha256"] if s.lfs else None
                    for s in api.model_info("gina/attrs", files_metadata=True).siblings}}
        old = {{i.path: i.lfs.sha256 if i.lfs else None
               for i in api.get_paths_info("gina/attrs", ["lfs.bin"], revision="1.0.1")}}
        paths = [hf_hub_download("gina/attrs", f, local_dir={str(tmp_path / "local")!r}) for f in ("file.txt", "lfs.bin")]
        again = [hf_hub_download("gina/attrs", f, local_dir={str(tmp_path / "local")!r}) for f in ("file.txt", "lfs.bin")]
        print(json.dumps({{"info": info, "old": old, "same": paths == again, "siblings": siblings,
                          "bytes": [open(p, "rb").read().decode() for p in again]}}))
    """,
        token=token,
    )
    sha = hashlib.sha256
    assert out["info"]["file.txt"] == [_git_sha1(b"content"), None]
    assert out["info"]["lfs.bin"][1] is None  # the new .gitattributes no longer tracks *.bin
    assert out["old"]["lfs.bin"] == sha(b"content").hexdigest()  # the default one did
    assert out["info"]["img.png"][1] == sha(b"png").hexdigest()
    assert out["info"]["now.bin"] == [_git_sha1(b"bin"), None]
    assert out["info"]["empty.png"] == [_git_sha1(b""), None]  # an empty file is never LFS, tracked or not
    assert out["info"]["copy.png"][1] == sha(b"png").hexdigest()  # an LFS copy names only the oid: accepted
    assert out["siblings"]["img.png"] == sha(b"png").hexdigest() and out["siblings"]["file.txt"] is None
    assert out["same"] and out["bytes"] == ["content", "content"]

    auth = {"Authorization": f"Bearer {token}"}
    plain = httpx.head(f"{hub.url}/gina/attrs/resolve/main/file.txt", headers=auth)
    assert plain.headers["ETag"] == f'"{_git_sha1(b"content")}"' and "X-Linked-Etag" not in plain.headers
    tracked = httpx.head(f"{hub.url}/gina/attrs/resolve/main/img.png", headers=auth)
    assert tracked.headers["X-Linked-Etag"] == f'"{sha(b"png").hexdigest()}"'
    modes = httpx.post(
        f"{hub.url}/api/models/gina/attrs/preupload/main",
        headers=auth,
        json={"files": [{"path": "b.png", "size": 3, "sample": ""}, {"path": "img.png", "size": 3, "sample": ""}]},
    ).json()["files"]
    assert [m["uploadMode"] for m in modes] == ["regular", "regular"]  # small: inline, whatever the client
    assert modes[1]["oid"] == _git_sha1(b"png")  # what a regular upload compares: unchanged, not resent
