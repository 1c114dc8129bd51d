"""Signature claims a stranger could make false: registering someone else's public key (now a
proof of possession, a signature binding the key to the registering account, is required), and
a repo still listed as signed after its signed latest version was yanked."""

from __future__ import annotations

import base64
import warnings

import httpx
from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hub_client import HubClient
from hub_client.cli.main import main
from hub_client.signing import generate_key, registration_proof
from hub_rules.signatures import registration_statement
from tests.security.accountability_support import auth


def test_nobody_registers_a_public_key_they_do_not_hold(hub_server_module, tmp_path):
    mallory = hub_server_module.token("mallory", "write")
    bob_pair = generate_key(tmp_path / "bob.pem")
    bob_public = bob_pair.public.read_text()
    own = ec.generate_private_key(ec.SECP256R1())
    forged = base64.b64encode(
        own.sign(registration_statement("mallory", bob_pair.fingerprint), ec.ECDSA(hashes.SHA256()))
    ).decode()
    attempts = [
        ({"public_key": bob_public}, "a key registration needs 'proof'"),
        ({"public_key": bob_public, "proof": "not base64!"}, "'proof' is not a signature by this key"),
        ({"public_key": bob_public, "proof": forged}, "'proof' is not a signature by this key"),
        # bob's own proof (say, seen in a log) names bob, not mallory
        (
            {"public_key": bob_public, "proof": registration_proof(bob_pair.private, "bob")},
            "'proof' is not a signature by this key over the registration of mallory",
        ),
    ]
    with httpx.Client(base_url=hub_server_module.url, timeout=30) as client:
        for body, words in attempts:
            r = client.post("/api/v1/keys", json=body, headers=auth(mallory))
            assert r.status_code == 422, r.text
            message = r.json()["error"]["message"]
            assert "\n" not in message and words in message
        assert client.get("/api/v1/users/mallory/keys").json()["items"] == []
        assert client.get(f"/api/v1/keys/{bob_pair.fingerprint}").status_code == 404
        with HubClient(hub_server_module.url, token=hub_server_module.token("bob", "write"), progress=False) as bob:
            assert bob.add_key(bob_pair.private, "laptop")["user"] == "bob"
        own_pem = (
            own.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        ok = client.post(
            "/api/v1/keys",
            json={
                "public_key": own_pem,
                "proof": base64.b64encode(
                    own.sign(registration_statement("mallory", _fingerprint(own_pem)), ec.ECDSA(hashes.SHA256()))
                ).decode(),
            },
            headers=auth(mallory),
        )
        assert ok.status_code == 201  # her own key, proven, is fine


def _fingerprint(pem: str) -> str:
    from hub_rules.signatures import key_fingerprint

    return key_fingerprint(pem)


def test_search_stops_saying_signed_once_the_signed_latest_is_yanked(hub_server_module, tmp_path):
    token = hub_server_module.token("alice", "write")
    pair = generate_key(tmp_path / "alice.pem")
    folder = tmp_path / "art"
    folder.mkdir()
    env = {
        "HUB_ENDPOINT": hub_server_module.url,
        "HUB_TOKEN": token,
        "HUB_NO_PROGRESS": "1",
        "HUB_CACHE": str(tmp_path / "c"),
    }
    with (
        warnings.catch_warnings(),
        HubClient(hub_server_module.url, token=token, progress=False, cache_dir=tmp_path / "c") as alice,
    ):
        warnings.simplefilter("ignore")
        alice.add_key(pair.private)
        (folder / "notes.txt").write_text("first")
        alice.push(folder, "alice/signed", "1.0.0")
        (folder / "notes.txt").write_text("second")
        alice.push(folder, "alice/signed", "1.1.0", sign=True, key=pair.private)

        def listed() -> tuple[dict | None, str]:
            item = alice.search(namespace="alice")[0]
            table = CliRunner().invoke(main, ["search", "--namespace", "alice"], env=env).output
            return item["signature"], table.splitlines()[1]

        signature, row = listed()
        assert signature == {"signed_by": "alice", "key": pair.fingerprint} and "by alice" in row
        alice.yank("alice/signed", "1.1.0", "bad build")
        signature, row = listed()
        assert signature is None and "unsigned" in row and "by alice" not in row
        assert alice.info("alice/signed")["latest_version"] == "1.0.0"
        alice.yank("alice/signed", "1.0.0", "all gone")
        assert listed()[0] is None
