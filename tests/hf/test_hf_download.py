"""hf_hub_download / snapshot_download / file_exists against our hub, unmodified library."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest

from tests.hf.hf_harness import client, downloads, push_dir, safetensors_bytes


@pytest.fixture(scope="module")
def adapter_repo(hub, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("adapter_repo")
    token = hub.token("alice")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4}))
    (src / "weights.safetensors").write_bytes(safetensors_bytes(600))
    (src / "sub" / "notes.txt").write_text("v1 notes")
    c1 = push_dir(hub, token, "alice/tiny", src, "1.0.0")
    (src / "sub" / "notes.txt").write_text("v2 notes, longer")
    c2 = push_dir(hub, token, "alice/tiny", src, "1.1.0")
    return {"src": src, "c1": c1, "c2": c2, "token": token}


def test_download_by_main_version_and_commit_then_cache(hub, run_hf, adapter_repo):
    out = run_hf(f"""
        from huggingface_hub import hf_hub_download
        paths = {{rev: open(hf_hub_download("alice/tiny", "sub/notes.txt", revision=rev)).read()
                  for rev in ("main", "1.0.0", "{adapter_repo["c1"]}")}}
        paths["config"] = open(hf_hub_download("alice/tiny", "adapter_config.json")).read()
        print(json.dumps(paths))
    """)
    assert out["main"] == "v2 notes, longer"
    assert out["1.0.0"] == "v1 notes"
    assert out[adapter_repo["c1"]] == "v1 notes"
    assert json.loads(out["config"])["r"] == 4
    counted = downloads(hub, adapter_repo["token"], "alice/tiny")
    assert counted >= 1  # a GET of adapter_config.json counts one download
    again = run_hf("""
        from huggingface_hub import hf_hub_download
        print(json.dumps({"text": open(hf_hub_download("alice/tiny", "adapter_config.json")).read()}))
    """)
    assert json.loads(again["text"])["r"] == 4
    assert downloads(hub, adapter_repo["token"], "alice/tiny") == counted  # served from the HF cache


def test_snapshot_download_is_byte_identical(hub, run_hf, adapter_repo):
    code = """
        from pathlib import Path
        from huggingface_hub import snapshot_download
        root = Path(snapshot_download("alice/tiny", revision="1.1.0"))
        print(json.dumps({"root": str(root), "files": sorted(p.relative_to(root).as_posix()
                          for p in root.rglob("*") if p.is_file())}))
    """
    out = run_hf(code)
    root = Path(out["root"])
    assert "adapter_config.json" in out["files"] and "sub/notes.txt" in out["files"]
    for name in ("adapter_config.json", "weights.safetensors", "sub/notes.txt"):
        assert (root / name).read_bytes() == (adapter_repo["src"] / name).read_bytes()
    assert root.name == adapter_repo["c2"]  # the snapshot folder is the version's commit id
    counted = downloads(hub, adapter_repo["token"], "alice/tiny")
    assert run_hf(code)["root"] == out["root"]
    assert downloads(hub, adapter_repo["token"], "alice/tiny") == counted


def test_missing_things_raise_the_library_errors(run_hf, adapter_repo):
    out = run_hf("""
        from huggingface_hub import hf_hub_download, file_exists
        from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError, EntryNotFoundError
        result = {"exists": file_exists("alice/tiny", "adapter_config.json"),
                  "missing": file_exists("alice/tiny", "nope.json")}
        for key, call, err in [
            ("repo", lambda: hf_hub_download("alice/none", "x"), RepositoryNotFoundError),
            ("rev", lambda: hf_hub_download("alice/tiny", "adapter_config.json", revision="9.9.9"), RevisionNotFoundError),
            ("entry", lambda: hf_hub_download("alice/tiny", "nope.json"), EntryNotFoundError),
        ]:
            try:
                call()
                result[key] = "no error"
            except err as e:
                result[key] = type(e).__name__
        print(json.dumps(result))
    """)
    assert out["exists"] is True and out["missing"] is False
    assert out["repo"] == "RepositoryNotFoundError"
    assert out["rev"] == "RevisionNotFoundError"
    assert out["entry"] in ("EntryNotFoundError", "RemoteEntryNotFoundError")


def test_head_and_range_headers(hub, adapter_repo):
    url = f"{hub.url}/alice/tiny/resolve/1.0.0/weights.safetensors"
    data = (adapter_repo["src"] / "weights.safetensors").read_bytes()
    head = httpx.head(url, headers={"Accept-Encoding": "gzip"})
    assert head.status_code == 200
    assert head.headers["X-Repo-Commit"] == adapter_repo["c1"]
    assert head.headers["X-Linked-Size"] == head.headers["Content-Length"] == str(len(data))
    assert head.headers["ETag"].strip('"') == hashlib.sha256(data).hexdigest()
    assert "content-encoding" not in head.headers
    assert not any(h.lower().startswith("x-xet") for h in head.headers)
    full = httpx.get(url, headers={"Accept-Encoding": "gzip"})
    assert full.content == data and "content-encoding" not in full.headers
    part = httpx.get(url, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = httpx.get(url, headers={"Range": "bytes=-5"})
    assert tail.content == data[-5:]
    assert httpx.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    missing = httpx.head(f"{hub.url}/alice/tiny/resolve/main/nope")
    assert missing.status_code == 404 and missing.headers["X-Error-Code"] == "EntryNotFound"
    assert missing.headers["X-Repo-Commit"] == adapter_repo["c2"]


def test_git_style_revision_names(run_hf, adapter_repo):
    out = run_hf("""
        from huggingface_hub import HfApi, hf_hub_download
        api = HfApi()
        print(json.dumps({
            "head": api.model_info("alice/tiny", revision="refs/heads/main").sha,
            "tag": api.model_info("alice/tiny", revision="refs/tags/1.0.0").sha,
            "file": open(hf_hub_download("alice/tiny", "sub/notes.txt", revision="refs/tags/1.0.0")).read(),
            "tree": [e.path for e in api.list_repo_tree("alice/tiny", "sub", revision="refs/tags/1.0.0")],
        }))
    """)
    assert out["head"] == adapter_repo["c2"] and out["tag"] == adapter_repo["c1"]
    assert out["file"] == "v1 notes" and out["tree"] == ["sub/notes.txt"]


def test_yanked_version_leaves_main_but_still_resolves_exactly(hub, run_hf, tmp_path):
    token = hub.token("alice")
    src = tmp_path / "y"
    src.mkdir()
    (src / "adapter_config.json").write_text('{"r": 1}')
    good = push_dir(hub, token, "alice/yanky", src, "1.0.0")
    (src / "adapter_config.json").write_text('{"r": 2}')
    push_dir(hub, token, "alice/yanky", src, "1.0.1")
    client(hub, token).yank("alice/yanky", "1.0.1", reason="broken")
    out = run_hf("""
        from huggingface_hub import HfApi, hf_hub_download
        print(json.dumps({"main": HfApi().model_info("alice/yanky").sha,
                          "pinned": open(hf_hub_download("alice/yanky", "adapter_config.json", revision="1.0.1")).read()}))
    """)
    assert out["main"] == good
    assert json.loads(out["pinned"])["r"] == 2
