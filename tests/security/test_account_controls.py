"""Operators can end a user's web sessions and disable an account (over the API with an admin
token and with ``hub admin users``); a read token cannot revoke the user's other tokens."""

from __future__ import annotations

import httpx
from click.testing import CliRunner

from hub_client.cli.main import main
from tests.security.accountability_support import auth
from tests.web.web_fixtures import Browser


def test_a_read_token_revokes_only_itself(hub_server_module):
    write = hub_server_module.token("alice", "write")
    read = hub_server_module.token("alice", "read")
    with httpx.Client(base_url=hub_server_module.url, timeout=30) as client:
        ids = {t["scope"]: t["id"] for t in client.get("/api/v1/tokens", headers=auth(write)).json()["items"]}
        r = client.delete(f"/api/v1/tokens/{ids['write']}", headers=auth(read))
        assert r.status_code == 403
        assert r.json()["error"]["message"] == (
            "a 'read' token can revoke only itself; revoking other tokens needs a write token"
        )
        assert client.get("/api/v1/tokens", headers=auth(write)).status_code == 200  # still valid
        assert client.delete(f"/api/v1/tokens/{ids['read']}", headers=auth(read)).status_code == 204
        assert client.get("/api/v1/tokens", headers=auth(read)).status_code == 401
        assert client.get("/api/v1/tokens", headers=auth(write)).status_code == 200


def test_an_admin_ends_sessions_and_disables_an_account_over_the_api(hub_server_module):
    admin = hub_server_module.token("root", "admin")
    eve = Browser(hub_server_module.url).sign_up("eve")
    eve_token = eve.new_token("write")
    with httpx.Client(base_url=hub_server_module.url, timeout=30) as client:
        r = client.delete("/api/v1/admin/users/eve/sessions", headers=auth(eve_token))
        assert r.status_code == 403 and r.json()["error"]["message"] == "this call needs an admin token"
        assert eve.get("/settings").status_code == 200  # nothing happened
        assert client.delete("/api/v1/admin/users/eve/sessions", headers=auth(admin)).json() == {
            "user": "eve",
            "ended": 1,
        }
        assert eve.get("/settings").status_code == 303  # signed out
        assert client.get("/api/v1/tokens", headers=auth(eve_token)).status_code == 200  # tokens untouched
        eve.get("/signin")
        assert eve.post("/signin", {"name": "eve", "password": "correct horse battery"}).status_code == 303

        r = client.post("/api/v1/admin/users/EVE/disable", headers=auth(admin))
        assert r.json() == {"user": "eve", "disabled": True, "ended": 1}
        assert eve.get("/settings").status_code == 303
        r = client.get("/api/v1/tokens", headers=auth(eve_token))
        assert (
            r.status_code == 401 and r.json()["error"]["message"] == "the account eve is disabled; ask an administrator"
        )
        eve.get("/signin")
        r = eve.post("/signin", {"name": "eve", "password": "correct horse battery"})
        assert r.status_code == 403 and "the account eve is disabled" in r.text
        assert client.post("/api/v1/admin/users/nobody/disable", headers=auth(admin)).status_code == 404

        assert client.post("/api/v1/admin/users/eve/enable", headers=auth(admin)).json()["disabled"] is False
        assert client.get("/api/v1/tokens", headers=auth(eve_token)).status_code == 200
        actions = [e["action"] for e in client.get("/api/v1/admin/audit", headers=auth(admin)).json()["items"]]
        assert {"user.sessions_end", "user.disable", "user.enable"} <= set(actions)


def test_hub_admin_users_commands(hub_server_module):
    bob = hub_server_module.token("bob", "write")
    env = hub_server_module.admin_env()  # the operator's shell: the hub's database, on every deployment
    run = CliRunner()
    with httpx.Client(base_url=hub_server_module.url, timeout=30) as client:
        result = run.invoke(
            main, ["admin", "users", "disable", "bob", "--data", str(hub_server_module.data_dir)], env=env
        )
        assert result.exit_code == 0 and "disabled bob" in result.stderr
        assert client.get("/api/v1/tokens", headers=auth(bob)).status_code == 401
        result = run.invoke(
            main, ["admin", "users", "enable", "bob", "--data", str(hub_server_module.data_dir)], env=env
        )
        assert result.exit_code == 0 and "enabled bob" in result.stderr
        assert client.get("/api/v1/tokens", headers=auth(bob)).status_code == 200
        result = run.invoke(
            main, ["admin", "users", "end-sessions", "ghost", "--data", str(hub_server_module.data_dir)], env=env
        )
        assert result.exit_code == 1 and result.stderr.strip() == "error: user ghost not found"


def test_ids_beyond_any_row_are_client_errors_not_500s(hub_server_module):
    admin = hub_server_module.token("root", "admin")
    huge = str(2**70)
    with httpx.Client(base_url=hub_server_module.url, timeout=30) as client:
        r = client.get("/api/v1/admin/audit", params={"before": "-" + huge, "limit": -5}, headers=auth(admin))
        assert r.status_code == 422 and "\n" not in r.json()["error"]["message"]
        assert client.get("/api/v1/admin/audit", params={"before": huge}, headers=auth(admin)).status_code == 422
        assert client.delete(f"/api/v1/tokens/{huge}", headers=auth(admin)).status_code == 422
        browser = Browser(hub_server_module.url).sign_up("ivy")
        r = browser.post(f"/settings/tokens/{huge}/revoke")
        assert r.status_code == 404, r.text[-300:]
        assert client.get("/api/v1/tokens", headers=auth(admin)).status_code == 200


def test_hf_errors_about_names_with_control_characters_are_answered(hub_server_module):
    """The HF error's X-Error-Message header carries the message: control characters from the path
    must not make the answer an illegal header (the connection used to be dropped)."""
    with httpx.Client(base_url=hub_server_module.url, timeout=30) as client:
        r = client.get("/api/models/%0C%1E%C3%A9x/na%0Ame")
        assert r.status_code in (400, 404)
        assert all(0x20 <= ord(c) <= 0x7E for c in r.headers["X-Error-Message"])
        assert r.json()["error"].startswith(("repository", "invalid"))
