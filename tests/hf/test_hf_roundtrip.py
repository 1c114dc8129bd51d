"""Round trips between the native client and the unmodified HF library, on the full hub server.

``hub push`` → ``snapshot_download`` and ``upload_folder`` → ``hub pull`` must see the same
bytes: both protocols are views of one store. Uses the shared real-uvicorn fixture of
``tests/conftest.py``.
"""

from __future__ import annotations

import json

import pytest

from tests.hf.hf_harness import make_runner
from tests.hf.hf_harness import tree_bytes as _tree

pytestmark = pytest.mark.filterwarnings("ignore:.*has no base pin:hub_client.errors.HubWarning")


@pytest.fixture
def full_hub(hub):
    return hub


def _adapter_dir(root):
    root.mkdir(parents=True)
    (root / "README.md").write_text("---\nlibrary_name: peft\ntags: [lora]\n---\n# rt\n")
    (root / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4}))
    header = b'{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    header += b" " * (-len(header) % 8)
    (root / "adapter_model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + bytes(8))
    return root


def test_native_push_then_snapshot_download(full_hub, tmp_path):
    from hub_client import HubClient

    token = full_hub.token("alice", "write", [])
    src = _adapter_dir(tmp_path / "src")
    expected = _tree(src)
    HubClient(endpoint=full_hub.url, token=token).push(src, "alice/rt", "1.0.0")
    run = make_runner(full_hub.url, tmp_path)
    out = run("""
        from huggingface_hub import snapshot_download
        print(json.dumps({"root": snapshot_download("alice/rt", revision="1.0.0"),
                          "main": snapshot_download("alice/rt")}))
    """)
    from pathlib import Path

    for key in ("root", "main"):
        got = _tree(Path(out[key]))
        assert {k: v for k, v in got.items() if k in expected} == expected


def test_upload_folder_then_native_pull(full_hub, tmp_path):
    from hub_client import HubClient

    token = full_hub.token("bob", "write", [])
    src = _adapter_dir(tmp_path / "src")
    run = make_runner(full_hub.url, tmp_path)
    out = run(
        f"""
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("bob/up")
        info = api.upload_folder(folder_path="{src}", repo_id="bob/up", commit_message="version: 1.2.0")
        print(json.dumps({{"oid": info.oid}}))
    """,
        token=token,
    )
    client = HubClient(endpoint=full_hub.url, token=token)
    pulled = client.pull("bob/up", "1.2.0")
    pulled_tree = _tree(pulled)
    assert pulled_tree.pop(".gitattributes").startswith(b"*.7z filter=lfs")  # the repo's initial commit
    assert pulled_tree == _tree(src)
    assert [v["version"] for v in client.versions("bob/up")] == ["1.2.0", "0.0.0"]
    assert client.pull("bob/up", out["oid"]) == pulled  # the HF commit oid is the version's commit id
