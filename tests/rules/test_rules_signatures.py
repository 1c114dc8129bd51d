"""The signed file list is read only from a bundle that verifies with the key (model-signing's public API)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from hub_client.signing import generate_key, sign_dir
from hub_rules.signatures import SignatureError, signed_files


def _signed(tmp_path: Path) -> tuple[bytes, str, dict[str, str]]:
    folder = tmp_path / "model"
    folder.mkdir()
    files = {"a.json": b"{}", "b.txt": b"x" * 100}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    pair = generate_key(tmp_path / "k.pem")
    sign_dir(folder, pair.private)
    digests = {name: "sha256:" + hashlib.sha256(data).hexdigest() for name, data in files.items()}
    return (folder / "model.sig").read_bytes(), pair.public.read_text(), digests


def test_a_good_bundle_gives_the_signed_files(tmp_path):
    bundle, public, digests = _signed(tmp_path)
    assert signed_files(bundle, public) == digests


def test_an_edited_payload_does_not_verify(tmp_path):
    bundle, public, _ = _signed(tmp_path)
    data = json.loads(bundle)
    statement = json.loads(base64.b64decode(data["dsseEnvelope"]["payload"]))
    statement["predicate"]["resources"][0]["digest"] = "0" * 64
    data["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    with pytest.raises(SignatureError, match="does not verify with key sha256:"):
        signed_files(json.dumps(data).encode(), public)


def test_another_key_does_not_verify(tmp_path):
    bundle, _, _ = _signed(tmp_path)
    other = generate_key(tmp_path / "other.pem").public.read_text()
    with pytest.raises(SignatureError, match="does not verify with key sha256:"):
        signed_files(bundle, other)
