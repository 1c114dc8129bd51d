"""Signing keys and signed publishes over real HTTP (SQLite, and PostgreSQL when configured): every
refusal has its status and one-line message and leaves nothing stored."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from hub_client.signing import generate_key, registration_proof, sign_dir
from tests.support.hub_http import auth, create_repo, publish, safetensors_bytes

CARD = b"---\nlibrary_name: peft\nadapter_hub: {kind: adapter, method: lora}\n---\n# signed\n"


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def _error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    message = response.json()["error"]["message"]
    assert "\n" not in message
    return message


def _signed_files(tmp_path: Path, key: Path, files: dict[str, bytes]) -> dict[str, bytes]:
    folder = tmp_path / "signed"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    sign_dir(folder, key)
    return {**files, "model.sig": (folder / "model.sig").read_bytes()}


def _files() -> dict[str, bytes]:
    return {"README.md": CARD, "adapter_model.safetensors": safetensors_bytes(), "adapter_config.json": b"{}"}


def test_keys_register_list_get_revoke(server, client, tmp_path):
    token = server.token("kim", "write")
    pair = generate_key(tmp_path / "k.pem")
    pem = pair.public.read_text()
    r = client.post(
        "/api/v1/keys",
        json={"public_key": pem, "name": "laptop", "proof": registration_proof(pair.private, "kim")},
        headers=auth(token),
    )
    assert r.status_code == 201, r.text
    assert r.json()["fingerprint"] == pair.fingerprint and r.json()["user"] == "kim"
    assert "already registered" in _error(
        client.post(
            "/api/v1/keys",
            json={"public_key": pem, "proof": registration_proof(pair.private, "kim")},
            headers=auth(token),
        ),
        409,
    )
    items = client.get("/api/v1/users/kim/keys").json()["items"]
    assert [(k["fingerprint"], k["name"], k["revoked"]) for k in items] == [(pair.fingerprint, "laptop", False)]
    assert client.get(f"/api/v1/keys/{pair.fingerprint}").json()["public_key"].startswith("-----BEGIN PUBLIC KEY")

    other = server.token("lee", "write")
    assert "belongs to kim" in _error(client.delete(f"/api/v1/keys/{pair.fingerprint}", headers=auth(other)), 403)
    assert client.delete(f"/api/v1/keys/{pair.fingerprint}", headers=auth(token)).json()["revoked"] is True
    assert client.get("/api/v1/users/kim/keys").json()["items"][0]["revoked"] is True
    assert "not found" in _error(client.get("/api/v1/users/nobody-here/keys"), 404)


@pytest.mark.parametrize(
    "body, status, words",
    [
        ({"public_key": "not a key"}, 422, "not a PEM public key"),
        ({"public_key": 42}, 422, "body.public_key: Input should be a valid string"),
        ({}, 422, "body.public_key: Field required"),
        ("rsa", 422, "unsupported key"),
    ],
)
def test_bad_keys_are_refused_and_nothing_stored(server, client, body, status, words):
    token = server.token("nora", "write")
    if body == "rsa":
        pem = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            .public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        body = {"public_key": pem}
    assert words in _error(client.post("/api/v1/keys", json=body, headers=auth(token)), status)
    assert client.get("/api/v1/users/nora/keys").json()["items"] == []


def test_registering_needs_a_write_token(server, client, tmp_path):
    pem = generate_key(tmp_path / "k.pem").public.read_text()
    _error(client.post("/api/v1/keys", json={"public_key": pem}), 401)
    _error(client.post("/api/v1/keys", json={"public_key": pem}, headers=auth(server.token("rita", "read"))), 403)
    assert client.get("/api/v1/users/rita/keys").json()["items"] == []


def test_signed_publish_records_signer_for_org_namespace(server, client, tmp_path):
    token = server.token("sam", "write", orgs=("lab",))
    pair = generate_key(tmp_path / "k.pem")
    client.post(
        "/api/v1/keys",
        json={"public_key": pair.public.read_text(), "proof": registration_proof(pair.private, "sam")},
        headers=auth(token),
    )
    name = create_repo(client, token, "lab")
    r = publish(client, token, f"lab/{name}", "1.0.0", _signed_files(tmp_path, pair.private, _files()))
    assert r.status_code == 201, r.text
    assert r.json()["signature"] == {
        "signed_by": "sam",
        "key": pair.fingerprint,
        "key_revoked": False,
        "owner_key": True,
    }
    repo = client.get(f"/api/v1/repos/lab/{name}").json()
    assert repo["signature"] == {"signed_by": "sam", "key": pair.fingerprint}
    summary = client.get(f"/api/v1/repos/lab/{name}/versions").json()["items"][0]
    assert summary["signature"] == {"signed_by": "sam", "key": pair.fingerprint}


@pytest.mark.parametrize(
    "case, words",
    [
        ("garbage", "not a key-signed model-signing bundle"),
        ("extra file", "extra.json: not covered by the signature"),
        ("changed file", "adapter_config.json: content differs from what was signed"),
        ("missing file", "adapter_config.json: signed but missing from the version"),
        ("other key", "is not registered to tom"),
    ],
)
def test_bad_signatures_are_refused_and_nothing_published(server, client, tmp_path, case, words):
    token = server.token("tom", "write")
    pair = generate_key(tmp_path / "k.pem")
    client.post(
        "/api/v1/keys",
        json={"public_key": pair.public.read_text(), "proof": registration_proof(pair.private, "tom")},
        headers=auth(token),
    )
    signer = generate_key(tmp_path / "other.pem").private if case == "other key" else pair.private
    files = _signed_files(tmp_path, signer, _files())
    if case == "garbage":
        files["model.sig"] = b'{"mediaType": 1}'
    elif case == "extra file":
        files["extra.json"] = b"{}"
    elif case == "changed file":
        files["adapter_config.json"] = b'{"r": 8}'
    elif case == "missing file":
        del files["adapter_config.json"]
    name = create_repo(client, token, "tom")
    message = _error(publish(client, token, f"tom/{name}", "1.0.0", files), 422)
    assert message.startswith("bad signature: ") and words in message
    assert client.get(f"/api/v1/repos/tom/{name}/versions").json()["items"] == []
    assert client.get(f"/api/v1/repos/tom/{name}").json()["latest_version"] is None


def test_server_signature_path_never_imports_torch():
    import subprocess
    import sys

    code = (
        "import sys, hub_server.app, hub_server.services.signatures, hub_rules.signatures as r; "
        "import model_signing._signing.sign_ec_key; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers', 'adapters')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_upgrade_from_0002_keeps_versions_unsigned(database_url, tmp_path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    from hub_server.app import build_hub
    from hub_server.db.engine import Database
    from hub_server.db.migrate import MIGRATIONS
    from hub_server.services.versions import resolve
    from hub_server.settings import Settings

    settings = Settings(data=tmp_path, database_url=database_url)
    db = Database(settings.resolved_database_url())
    with db.engine.connect() as conn:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = conn
        command.upgrade(config, "0002")
        conn.execute(
            text(
                "INSERT INTO repos (id, namespace, name, full_name, kind, private, downloads, created_at, updated_at,"
                " search_text, metadata_json) VALUES (3, 'old', 'a', 'old/a', 'adapter', false, 0, CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP, 'old/a', '{}')"
            )
        )
        conn.execute(
            text(
                'INSERT INTO versions (id, repo_id, version, "commit", created_at, message, yanked, deleted, size, card_json)'
                " VALUES (1, 3, '1.0.0', :c, CURRENT_TIMESTAMP, '', false, false, 0, '{}')"
            ),
            {"c": "a" * 40},
        )
        conn.commit()
    db.dispose()
    hub = build_hub(settings)
    try:
        _, version = resolve(hub, None, "old", "a", "1.0.0")
        assert (version.signed_by, version.signing_key) == (None, None)
    finally:
        hub.db.dispose()
