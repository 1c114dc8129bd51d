"""Visibility is never silently left public: ``hub push --private`` into an existing public repo
is refused in one line before anything is uploaded (``--make-private`` switches it first), and
the HF settings call ``{"private": true}`` really makes the repo private, for its owners only."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from hub_client.cli.main import main
from tests.security.accountability_support import auth, create_repo, publish


def _push(hub, token, directory, repo, version, *extra):
    env = {
        "HUB_ENDPOINT": hub.url,
        "HUB_TOKEN": token,
        "HUB_NO_PROGRESS": "1",
        "HUB_CACHE": str(directory.parent / "cache"),
    }
    return CliRunner().invoke(main, ["push", str(directory), repo, "--version", version, *extra], env=env)


def test_push_private_into_a_public_repo_is_refused_and_make_private_switches_it(hub_server_module, tmp_path):
    alice = hub_server_module.token("alice", "write")
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "notes.txt").write_text("secret notes")
    with httpx.Client(base_url=hub_server_module.url, timeout=30) as client:
        create_repo(client, alice, "alice", "pub")
        assert publish(client, alice, "alice/pub", "1.0.0", {"a.txt": b"public"}).status_code == 201
        result = _push(hub_server_module, alice, folder, "alice/pub", "1.1.0", "--private")
        assert result.exit_code == 1 and "Traceback" not in result.output
        line = result.stderr.strip().splitlines()[-1]  # after the unpinned-adapter warning
        assert line.startswith("error: ") and "already exists and is public" in line and "--make-private" in line
        assert [v["version"] for v in client.get("/api/v1/repos/alice/pub/versions").json()["items"]] == ["1.0.0"]
        digest = "sha256:" + __import__("hashlib").sha256(b"secret notes").hexdigest()
        assert client.head(f"/api/v1/blobs/{digest}", headers=auth(alice)).status_code == 404  # nothing uploaded

        result = _push(hub_server_module, alice, folder, "alice/pub", "1.1.0", "--make-private")
        assert result.exit_code == 0, result.output
        assert client.get("/api/v1/repos/alice/pub").status_code == 404  # anonymous: gone from view
        assert client.get("/api/v1/repos/alice/pub", headers=auth(alice)).json()["private"] is True
        # into a repo that is already private, --private is fine
        assert _push(hub_server_module, alice, folder, "alice/pub", "1.2.0", "--private").exit_code == 0


def test_hf_settings_private_flag_changes_visibility_for_owners_only(hub_server_module):
    alice = hub_server_module.token("alice", "write")
    bob = hub_server_module.token("bob", "write")
    with httpx.Client(base_url=hub_server_module.url, timeout=30) as client:
        create_repo(client, alice, "alice", "hf")
        url = "/api/models/alice/hf/settings"
        r = client.put(url, json={"private": True}, headers=auth(bob))
        assert r.status_code in (403, 404)
        assert client.get("/api/v1/repos/alice/hf").status_code == 200  # still public
        r = client.put(url, json={"private": "yes"}, headers=auth(alice))
        assert r.status_code == 400 and "'private' must be true or false" in r.json()["error"]
        assert client.get("/api/v1/repos/alice/hf").status_code == 200
        assert client.put(url, json={"private": True}, headers=auth(alice)).status_code == 200
        assert client.get("/api/v1/repos/alice/hf").status_code == 404
        assert client.get("/api/v1/repos/alice/hf", headers=auth(alice)).json()["private"] is True
        assert client.put(url, json={"private": False}, headers=auth(alice)).status_code == 200
        assert client.get("/api/v1/repos/alice/hf").status_code == 200
