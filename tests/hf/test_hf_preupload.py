"""``preupload`` with the unmodified ``huggingface_hub``: unchanged files are not sent again, files
the repo's ``.gitignore`` matches are left out, an invalid path is HF's 422, and ``auth_check``."""

from __future__ import annotations

import httpx

from tests.hf.hf_harness import client, versions


def test_unchanged_and_gitignored_files_are_not_committed(hub, run_hf, tmp_path):
    token = hub.token("ivan")
    folder = tmp_path / "folder"
    (folder / "logs").mkdir(parents=True)
    (folder / "a.txt").write_text("same")
    (folder / "logs" / "run.log").write_text("noise")
    out = run_hf(
        f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("ivan/ignore")
        api.upload_file(path_or_fileobj=b"logs/\\n", path_in_repo=".gitignore", repo_id="ivan/ignore")
        api.upload_file(path_or_fileobj=b"same", path_in_repo="a.txt", repo_id="ivan/ignore")
        again = api.upload_folder(folder_path={str(folder)!r}, repo_id="ivan/ignore")
        print(json.dumps({{"files": sorted(api.list_repo_files("ivan/ignore")), "oid": again.oid}}))
    """,
        token=token,
    )
    assert out["files"] == [".gitattributes", ".gitignore", "a.txt"]  # logs/ ignored, nothing new
    assert versions(hub, token, "ivan/ignore") == ["1.0.1", "1.0.0", "0.0.0"]  # no empty version
    assert out["oid"] == client(hub, token).resolve("ivan/ignore", "main")["commit"]


def test_invalid_path_is_422_and_stores_nothing(hub, run_hf):
    token = hub.token("ivan")
    out = run_hf(
        """
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError
        api = HfApi()
        api.create_repo("ivan/paths")
        try:
            api.upload_file(path_or_fileobj=b"x", path_in_repo="..\\\\ddd", repo_id="ivan/paths")
            result = "accepted"
        except HfHubHTTPError as e:
            result = [e.response.status_code, e.response.json()["error"]]
        print(json.dumps({"result": result}))
    """,
        token=token,
    )
    assert out["result"] == [422, "invalid file path '..\\\\ddd': must be relative with forward slashes"]
    assert versions(hub, token, "ivan/paths") == ["0.0.0"]


def test_auth_check(hub, run_hf):
    owner, stranger = hub.token("ivan"), hub.token("judy")
    client(hub, owner).create_repo("ivan/checked", private=True)
    client(hub, owner).create_repo("ivan/open")
    url = f"{hub.url}/api/models"
    assert httpx.get(f"{url}/ivan/checked/auth-check", headers={"Authorization": f"Bearer {owner}"}).status_code == 200
    hidden = httpx.get(f"{url}/ivan/checked/auth-check", headers={"Authorization": f"Bearer {stranger}"})
    assert hidden.status_code == 404 and hidden.headers["X-Error-Code"] == "RepoNotFound"
    write = httpx.get(f"{url}/ivan/open/auth-check/write", headers={"Authorization": f"Bearer {stranger}"})
    assert write.status_code == 403
    out = run_hf(
        """
        from huggingface_hub import HfApi
        from huggingface_hub.errors import RepositoryNotFoundError
        HfApi().auth_check("ivan/open")
        try:
            HfApi().auth_check("ivan/missing")
            missing = "found"
        except RepositoryNotFoundError:
            missing = "RepositoryNotFoundError"
        print(json.dumps({"missing": missing}))
    """,
        token=stranger,
    )
    assert out["missing"] == "RepositoryNotFoundError"
