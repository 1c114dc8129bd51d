"""One result-signing key per deployment: the key lives in the database, so every host publishes the same
public key and every ``verifyToken`` any host signs checks against it (on the two-host deployment the proxy
sends consecutive requests to alternate hosts, and no host keeps a key on its disk). Hosts starting at once
agree on one key (insert if absent); a key file kept in the data directory before keys moved to the
database is adopted; ``HUB_EVAL_SIGNING_KEY`` (a PEM file) still overrides the database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import func, select

from hub_client import check_evaluations, check_token
from tests.support.eval_results import claiming_card, post_result
from tests.support.hub_http import create_repo, publish

ROOT = Path(__file__).resolve().parents[2]


def _verified_adapter(server, client: httpx.Client, value: float) -> str:
    alice = server.token("alice")
    name = "alice/" + create_repo(client, alice, "alice")
    card = claiming_card("alice/eval-set", 0.5, metric="perplexity").encode()
    assert publish(client, alice, name, "1.0.0", {"README.md": card}).status_code == 201
    post_result(server, name, value, 50)
    return name


def test_every_host_signs_with_the_one_key_it_publishes(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        repos = [_verified_adapter(server, client, value) for value in (3.25, 7.5)]
        keys = [client.get("/api/v1/evaluations/key").json() for _ in range(12)]
        assert len({k["fingerprint"] for k in keys}) == 1, [k["fingerprint"] for k in keys]
        pem = keys[0]["public_key"]
        checked = []
        for _ in range(4):  # each list comes from whichever host the proxy picks; every token checks
            for repo in repos:
                rows = client.get(f"/api/v1/repos/{repo}/evaluations").json()
                checked += [(r["repo"], r["value"]) for r in check_evaluations(rows, pem)]
                info = client.get(f"/api/models/{repo}", params={"expand": "evalResults"}).json()
                [result] = info["evalResults"]
                assert check_token(result["data"]["verifyToken"], pem)["value"] == rows[0]["value"]
        assert sorted(set(checked)) == sorted(zip(repos, (3.25, 7.5), strict=True))
        assert len(checked) == 8
    for folder in {server.data_dir, *(h.data_dir for h in getattr(server, "hosts", []))}:
        assert not (folder / "eval-signing-key.pem").exists()  # in the database, not on a host's disk


def _settings(tmp_path: Path, database_url: str | None, **extra):
    from hub_server.settings import Settings

    return Settings(data=tmp_path / "data", database_url=database_url, **extra)


def _stored_keys(hub) -> int:
    from hub_server.db.models import EvalSigningKey

    with hub.db.read() as s:
        return s.scalar(select(func.count()).select_from(EvalSigningKey))


RACER = """
import json, sys, time
from hub_server.app import build_hub
from hub_server.services.eval_signing import public_key
from hub_server.settings import Settings
hub = build_hub(Settings(data=sys.argv[1], database_url=sys.argv[2] or None))
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))  # every racer asks at the same moment
print(json.dumps(public_key(hub)["fingerprint"]))
"""


def test_hosts_starting_together_agree_on_one_key(database_url, tmp_path):
    """Four processes with their own data directories, one database, asking for the key at the same moment."""
    from hub_server.app import build_hub
    from hub_server.services.eval_signing import public_key

    shared = database_url or f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    hub = build_hub(_settings(tmp_path, shared))  # migrated once here, no key yet
    try:
        assert _stored_keys(hub) == 0
        start = time.time() + 5.0
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", RACER, str(tmp_path / f"host{i}"), shared, str(start)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for i in range(4)
        ]
        found = []
        for racer in racers:
            out, err = racer.communicate(timeout=120)
            assert racer.returncode == 0, err[-2000:]
            found.append(json.loads(out.strip().splitlines()[-1]))
        assert len(set(found)) == 1, found
        assert public_key(hub)["fingerprint"] == found[0]
        assert _stored_keys(hub) == 1
        assert not any((tmp_path / f"host{i}" / "eval-signing-key.pem").exists() for i in range(4))
    finally:
        hub.db.dispose()


def _pem_pair() -> tuple[bytes, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public.decode()


def test_a_key_file_in_the_data_dir_is_adopted_and_the_setting_overrides(tmp_path):
    """SQLite in the data dir (one host): the old ``eval-signing-key.pem`` becomes the database's key, so
    tokens users already checked keep checking; ``HUB_EVAL_SIGNING_KEY`` names another file and wins."""
    from hub_server.app import build_hub
    from hub_server.services.eval_signing import public_key, sign

    old_private, old_public = _pem_pair()
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "eval-signing-key.pem").write_bytes(old_private)
    hub = build_hub(_settings(tmp_path, None))
    try:
        assert public_key(hub)["public_key"] == old_public
        assert _stored_keys(hub) == 1
        assert check_token(sign(hub, {"value": 1.5}), old_public) == {"value": 1.5}
    finally:
        hub.db.dispose()

    own_private, own_public = _pem_pair()
    (tmp_path / "own.pem").write_bytes(own_private)
    hub = build_hub(_settings(tmp_path, None, eval_signing_key=tmp_path / "own.pem"))
    try:
        assert public_key(hub)["public_key"] == own_public
        assert check_token(sign(hub, {"value": 2.0}), own_public) == {"value": 2.0}
    finally:
        hub.db.dispose()
