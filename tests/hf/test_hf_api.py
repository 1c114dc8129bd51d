"""HfApi metadata calls and uploads against our hub, unmodified library in a subprocess."""

from __future__ import annotations

import httpx
import pytest

from tests.hf.hf_harness import client, make_runner, push_dir, safetensors_bytes, versions

CARD = """---
library_name: peft
base_model: acme/tiny-base
base_model_relation: adapter
license: apache-2.0
tags: [adapter-hub, lora]
---
# tiny
"""


@pytest.fixture(scope="module")
def seeded(hub, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("seeded")
    alice, bob = hub.token("alice"), hub.token("bob")
    src = tmp_path / "src"
    src.mkdir()
    (src / "README.md").write_text(CARD)
    (src / "adapter_config.json").write_text("{}")
    (src / "deep" / "er").mkdir(parents=True)
    (src / "deep" / "er" / "x.txt").write_text("x")
    commits = [push_dir(hub, alice, "alice/lora-a", src, "1.0.0")]
    (src / "adapter_config.json").write_text('{"r": 8}')
    commits.append(push_dir(hub, alice, "alice/lora-a", src, "1.1.0"))
    (src / "README.md").write_text(CARD.replace("lora]", "ia3]"))
    push_dir(hub, bob, "bob/other", src, "0.1.0")
    push_dir(hub, bob, "bob/secret", src, "1.0.0", private=True)
    return commits


def test_info_tree_refs_and_search(run_hf, seeded):
    out = run_hf("""
        from huggingface_hub import HfApi
        from huggingface_hub.hf_api import RepoFile
        api = HfApi()
        info = api.model_info("alice/lora-a")
        old = api.model_info("alice/lora-a", revision="1.0.0")
        refs = api.list_repo_refs("alice/lora-a")
        tree = api.list_repo_tree("alice/lora-a", recursive=True)
        top = api.list_repo_tree("alice/lora-a")
        print(json.dumps({
            "sha": info.sha, "old_sha": old.sha, "library": info.library_name, "tags": info.tags,
            "card_base": info.card_data.base_model, "siblings": sorted(s.rfilename for s in info.siblings),
            "files": api.list_repo_files("alice/lora-a"),
            "tree": sorted((e.path, isinstance(e, RepoFile)) for e in tree),
            "top": sorted(e.path for e in top),
            "branches": [(b.name, b.target_commit) for b in refs.branches],
            "tags_refs": sorted((t.name, t.target_commit) for t in refs.tags),
            "search": sorted(m.id for m in api.list_models(search="lora")),
            "author": sorted(m.id for m in api.list_models(author="bob")),
            "filter": sorted(m.id for m in api.list_models(filter="ia3")),
        }))
    """)
    first, second = seeded
    assert out["sha"] == second and out["old_sha"] == first
    assert out["library"] == "peft" and "lora" in out["tags"]
    assert out["card_base"] == "acme/tiny-base"
    assert out["siblings"] == sorted(out["files"]) == ["README.md", "adapter_config.json", "deep/er/x.txt"]
    assert (
        ["deep", False] in out["tree"] and ["deep/er", False] in out["tree"] and ["deep/er/x.txt", True] in out["tree"]
    )
    assert out["top"] == ["README.md", "adapter_config.json", "deep"]
    assert out["branches"] == [["main", second]]
    assert out["tags_refs"] == [["1.0.0", first], ["1.1.0", second]]
    assert out["search"] == ["alice/lora-a"]
    assert out["author"] == ["bob/other"]  # the private one stays hidden from anonymous callers
    assert out["filter"] == ["bob/other"]


def test_private_repo_is_not_found_without_the_right_token(hub, run_hf, seeded):
    code = """
        from huggingface_hub import HfApi, hf_hub_download
        from huggingface_hub.errors import RepositoryNotFoundError
        try:
            text = open(hf_hub_download("bob/secret", "adapter_config.json")).read()
        except RepositoryNotFoundError:
            text = "RepositoryNotFoundError"
        print(json.dumps({"text": text}))
    """
    assert run_hf(code)["text"] == "RepositoryNotFoundError"
    assert run_hf(code, token=hub.token("mallory"))["text"] == "RepositoryNotFoundError"
    assert run_hf(code, token=hub.token("bob", "read"))["text"] == '{"r": 8}'


def test_whoami(hub, run_hf):
    out = run_hf(
        """
        from huggingface_hub import whoami
        me = whoami()
        print(json.dumps({"name": me["name"], "orgs": [o["name"] for o in me["orgs"]]}))
    """,
        token=hub.token("carol", orgs=("acme",)),
    )
    assert out == {"name": "carol", "orgs": ["acme"], "_returncode": 0, "_stderr": out["_stderr"]}
    anonymous = run_hf("from huggingface_hub import whoami\nwhoami()", expect_ok=False)
    assert anonymous["_returncode"] != 0


def test_create_upload_folder_publishes_numbered_versions(hub, run_hf, tmp_path):
    folder = tmp_path / "up"
    folder.mkdir()
    (folder / "README.md").write_text(CARD)
    (folder / "adapter_config.json").write_text('{"r": 4}')
    (folder / "adapter_model.safetensors").write_bytes(safetensors_bytes())
    out = run_hf(
        f"""
        from huggingface_hub import HfApi
        api = HfApi()
        url = api.create_repo("dave/up", private=True)
        again = api.create_repo("dave/up", exist_ok=True)
        first = api.upload_folder(folder_path="{folder}", repo_id="dave/up")
        second = api.upload_file(path_or_fileobj=b"extra", path_in_repo="notes/extra.txt", repo_id="dave/up")
        named = api.upload_file(path_or_fileobj=b"more", path_in_repo="notes/extra.txt", repo_id="dave/up",
                                commit_message="tune\\n\\nversion: 2.0.0")
        by_rev = api.upload_file(path_or_fileobj=b"rev", path_in_repo="notes/extra.txt", repo_id="dave/up",
                                 revision="3.1.0")
        deleted = api.delete_file("notes/extra.txt", repo_id="dave/up")
        refs = api.list_repo_refs("dave/up")
        print(json.dumps({{"repo_id": url.repo_id, "first": first.oid, "second": second.oid,
                          "after_delete": sorted(api.list_repo_files("dave/up")),
                          "tags": sorted((t.name, t.target_commit) for t in refs.tags),
                          "private": api.model_info("dave/up").private,
                          "files": sorted(api.list_repo_files("dave/up", revision="3.1.0"))}}))
    """,
        token=(dave := hub.token("dave")),
    )
    assert out["repo_id"] == "dave/up" and out["private"] is True
    tags = dict(out["tags"])
    assert sorted(tags) == ["0.0.0", "1.0.0", "1.0.1", "2.0.0", "3.1.0", "3.1.1"]  # 0.0.0: creation; delete_file: 3.1.1
    assert tags["1.0.0"] == out["first"] and tags["1.0.1"] == out["second"]
    assert out["files"] == [
        ".gitattributes",
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
        "notes/extra.txt",
    ]
    assert out["after_delete"] == [".gitattributes", "README.md", "adapter_config.json", "adapter_model.safetensors"]
    stored = client(hub, dave).resolve("dave/up", "1.0.0")
    assert {f["path"]: f["size"] for f in stored["files"]}["adapter_config.json"] == 8
    assert stored["card"]["library_name"] == "peft"  # the card pushed over HF is the hub's metadata


def test_uploads_refused_for_pickles_strangers_and_anonymous(hub, run_hf, seeded):
    out = run_hf(
        """
        import io, pickle, zipfile
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError
        api = HfApi()
        torch_zip = io.BytesIO()
        with zipfile.ZipFile(torch_zip, "w") as archive:
            archive.writestr("archive/data.pkl", pickle.dumps({"w": 1}, protocol=2))
        result = {}
        for key, repo, path, data in [("pickle", "alice/lora-a", "data.txt", pickle.dumps([1, 2], protocol=0)),
                                      ("pickle5", "alice/lora-a", "pytorch_model.bin", pickle.dumps([1], protocol=5)),
                                      ("torch", "alice/lora-a", "model.pt", torch_zip.getvalue()),
                                      ("stranger", "bob/other", "a.txt", b"data")]:
            try:
                api.upload_file(path_or_fileobj=data, path_in_repo=path, repo_id=repo)
                result[key] = "accepted"
            except HfHubHTTPError as e:
                result[key] = [e.response.status_code, e.response.json().get("error", "")]
        print(json.dumps(result))
    """,
        token=hub.token("alice"),
    )
    for key, path in [("pickle", "data.txt"), ("pickle5", "pytorch_model.bin"), ("torch", "model.pt")]:
        assert out[key] == [400, f"{path}: pickle formats are refused; save weights as .safetensors"]
    assert out["stranger"][0] == 403
    anonymous = run_hf(
        """
        from huggingface_hub import HfApi
        HfApi().upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id="alice/lora-a")
    """,
        expect_ok=False,
    )
    assert anonymous["_returncode"] != 0
    assert versions(hub, hub.token("alice"), "alice/lora-a") == ["1.1.0", "1.0.0"]


def test_a_bin_that_is_no_pickle_uploads_like_any_file(hub, run_hf, seeded):
    out = run_hf(
        """
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        data = bytes(range(256)) * 16
        api.create_repo("alice/bin-ok")
        api.upload_file(path_or_fileobj=data, path_in_repo="extra/lfs.bin", repo_id="alice/bin-ok")
        path = hf_hub_download("alice/bin-ok", "extra/lfs.bin")
        print(json.dumps({"same": open(path, "rb").read() == data}))
    """,
        token=hub.token("alice"),
    )
    assert out["same"] is True


def test_validate_yaml(hub):
    headers = {"Authorization": f"Bearer {hub.token('yara', 'read')}"}
    good = httpx.post(f"{hub.url}/api/validate-yaml", json={"content": CARD, "repoType": "model"}, headers=headers)
    assert good.status_code == 200 and good.json()["errors"] == []
    bad = httpx.post(f"{hub.url}/api/validate-yaml", json={"content": "---\ntags: [a\n---\n"}, headers=headers)
    assert bad.status_code == 400 and "invalid YAML" in bad.json()["errors"][0]["message"]
    empty = httpx.post(f"{hub.url}/api/validate-yaml", json={"content": "# no metadata"}, headers=headers)
    assert empty.status_code == 200 and empty.json()["warnings"]
    anonymous = httpx.post(f"{hub.url}/api/validate-yaml", json={"content": CARD})  # as on the HF Hub
    assert anonymous.status_code == 200 and anonymous.json() == {"errors": [], "warnings": []}


def test_concurrent_commits_each_get_their_own_number(hub, run_hf):
    out = run_hf(
        """
        from concurrent.futures import ThreadPoolExecutor
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("erin/busy")
        def push(i):
            return api.upload_file(path_or_fileobj=f"content {i}".encode(), path_in_repo=f"f{i}.txt",
                                   repo_id="erin/busy").oid
        with ThreadPoolExecutor(6) as pool:
            oids = list(pool.map(push, range(6)))
        print(json.dumps({"oids": oids}))
    """,
        token=(erin := hub.token("erin")),
    )
    published = client(hub, erin).versions("erin/busy")
    assert sorted(v["version"] for v in published) == ["0.0.0"] + [f"1.0.{i}" for i in range(6)]  # 0.0.0: creation
    assert sorted(out["oids"]) == sorted(v["commit"] for v in published if v["version"] != "0.0.0")


def test_commit_over_the_size_limit_is_refused(tmp_path):
    from tests.support.hub_process import HubProcess

    small = HubProcess(tmp_path / "data", env={"HUB_HF_MAX_COMMIT_BYTES": "4096"}).start()
    try:
        out = make_runner(small.url, tmp_path)(
            """
            from huggingface_hub import HfApi
            from huggingface_hub.errors import HfHubHTTPError
            api = HfApi()
            api.create_repo("fay/big")
            api.upload_file(path_or_fileobj=b"small", path_in_repo="a.txt", repo_id="fay/big")
            try:
                api.upload_file(path_or_fileobj=bytes(8192), path_in_repo="b.txt", repo_id="fay/big")
                status = "accepted"
            except HfHubHTTPError as e:
                status = [e.response.status_code, e.response.json()["error"]]
            print(json.dumps({"status": status}))
        """,
            token=(fay := small.token("fay")),
        )
        assert out["status"][0] == 413 and "hub push" in out["status"][1]
        assert versions(small, fay, "fay/big") == ["1.0.0", "0.0.0"]
    finally:
        small.close()


def test_commit_that_changes_nothing_makes_no_version(hub, run_hf):
    out = run_hf(
        """
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("gus/same")
        oids = [api.upload_file(path_or_fileobj=b"same", path_in_repo="a.txt", repo_id="gus/same").oid
                for _ in range(2)]
        print(json.dumps({"oids": oids}))
    """,
        token=(gus := hub.token("gus")),
    )
    assert out["oids"][0] == out["oids"][1]
    assert versions(hub, gus, "gus/same") == ["1.0.0", "0.0.0"]
