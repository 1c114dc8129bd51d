"""A signed version through unmodified huggingface_hub: model.sig is an ordinary file of the version, so
snapshot_download brings it and the download verifies offline; an HF commit is checked like any publish
(a stale model.sig over changed files is refused, nothing published)."""

from __future__ import annotations

import json

import pytest

from hub_client.signing import generate_key, verify_dir
from tests.hf.hf_harness import client, safetensors_bytes, versions

pytestmark = pytest.mark.filterwarnings("ignore:.*has no base pin:hub_client.errors.HubWarning")


def test_signed_version_downloads_and_verifies_through_huggingface_hub(hub, run_hf, tmp_path):
    token = hub.token("sig-hf")
    pair = generate_key(tmp_path / "key.pem")
    src = tmp_path / "src"
    src.mkdir()
    (src / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4}))
    (src / "adapter_model.safetensors").write_bytes(safetensors_bytes(64))
    with client(hub, token) as c:
        c.add_key(pair.private)
        c.push(src, "sig-hf/signed", "1.0.0", sign=True, key=pair.private)

    out = run_hf("""
        from huggingface_hub import HfApi, snapshot_download
        path = snapshot_download("sig-hf/signed")
        print(json.dumps({"path": path, "files": sorted(HfApi().list_repo_files("sig-hf/signed"))}))
    """)
    assert out["files"] == ["adapter_config.json", "adapter_model.safetensors", "model.sig"]
    assert verify_dir(out["path"], pair.public.read_text()) == pair.fingerprint

    refused = run_hf(
        """
        from huggingface_hub import HfApi
        try:
            HfApi().upload_file(path_or_fileobj=b'{"peft_type": "LORA", "r": 8}', path_in_repo="adapter_config.json",
                                repo_id="sig-hf/signed")
            print(json.dumps({"ok": True}))
        except Exception as exc:
            print(json.dumps({"ok": False, "error": str(exc)}))
    """,
        token=token,
    )
    assert refused["ok"] is False and "adapter_config.json" in refused["error"]
    assert versions(hub, token, "sig-hf/signed") == ["1.0.0"]
