"""The site over HTTP against a real hub (SQLite and PostgreSQL): accounts, sessions and CSRF,
tokens from the settings page working with the API, private repos 404 to others (pages and
file links), likes and the ``likes`` sort, and every refusal storing nothing."""

from __future__ import annotations

import uuid

import httpx
import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from tests.web.web_fixtures import Browser, adapter_dir, card


def _name(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:6]}"


def push(hub, token: str, directory, repo: str, version: str = "1.0.0", *extra: str, tmp_path=None):
    env = {
        "HUB_ENDPOINT": hub.url,
        "HUB_TOKEN": token,
        "HUB_NO_PROGRESS": "1",
        "HUB_CACHE": str((tmp_path or directory.parent) / "cache"),
    }
    result = CliRunner().invoke(main, ["push", str(directory), repo, "--version", version, *extra], env=env)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def browser(web_hub):
    b = Browser(web_hub.url)
    yield b
    b.close()


def test_session_cookie_is_httponly_lax_and_sign_out_revokes_it(web_hub, browser):
    browser.get("/signup")
    r = browser.post("/signup", {"name": _name("ann"), "password": "correct horse battery"})
    assert r.status_code == 303 and r.headers["location"] == "/settings"
    cookie = r.headers["set-cookie"].lower()
    assert "hub_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    stolen = browser.http.cookies["hub_session"]
    assert browser.get("/settings").status_code == 200
    assert browser.post("/signout").status_code == 303
    # a copy of the old cookie no longer signs anyone in: the session row is gone
    r = httpx.get(web_hub.url + "/settings", cookies={"hub_session": stolen}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")


def test_sign_out_everywhere_ends_every_session(web_hub):
    name = _name("eve")
    first = Browser(web_hub.url).sign_up(name)
    second = Browser(web_hub.url)
    second.get("/signin")
    assert second.post("/signin", {"name": name, "password": "correct horse battery"}).status_code == 303
    second.get("/settings")
    assert second.post("/settings/sessions/revoke").status_code == 303
    assert first.get("/settings").status_code == 303  # signed out there too


def test_forms_without_csrf_are_refused_and_change_nothing(web_hub, browser):
    name = _name("mallory")
    browser.get("/signup")
    r = browser.post("/signup", {"name": name, "password": "correct horse battery"}, csrf=False)
    assert r.status_code == 403
    assert "this form has no valid CSRF token; reload the page and try again" in r.text
    browser.get("/signin")
    r = browser.post("/signin", {"name": name, "password": "correct horse battery"})
    assert r.status_code == 401 and "wrong user name or password" in r.text  # no user was created

    owner = Browser(web_hub.url).sign_up(_name("olga"))
    token = owner.new_token()
    tokens_before = owner.get("/settings").text.count("Revoke</button>")
    assert owner.post("/settings/tokens", {"scope": "write"}, csrf=False).status_code == 403
    assert owner.post("/settings/tokens", {"scope": "write", "csrf_token": "forged"}, csrf=False).status_code == 403
    assert owner.get("/settings").text.count("Revoke</button>") == tokens_before
    assert owner.post("/signout", csrf=False).status_code == 403
    assert owner.get("/settings").status_code == 200  # still signed in
    assert httpx.get(web_hub.url + "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_settings_tokens_work_with_the_api_and_revoke(web_hub, browser):
    name = _name("tess")
    browser.sign_up(name)
    token = browser.new_token("write")
    r = httpx.get(web_hub.url + "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["user"] == name and r.json()["scope"] == "write"
    page = browser.get("/settings").text
    token_id = int(page.split('action="/settings/tokens/')[1].split("/")[0])
    assert browser.post(f"/settings/tokens/{token_id}/revoke").status_code == 303
    r = httpx.get(web_hub.url + "/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401
    other = Browser(web_hub.url).sign_up(_name("ursula"))
    other_token = other.new_token()
    other_id = int(other.get("/settings").text.split('action="/settings/tokens/')[1].split("/")[0])
    r = browser.post(f"/settings/tokens/{other_id}/revoke")  # someone else's token: unknown
    assert r.status_code == 404 and f"token {other_id} not found" in r.text
    assert (
        httpx.get(web_hub.url + "/api/v1/whoami", headers={"Authorization": f"Bearer {other_token}"}).status_code == 200
    )


def test_bad_sign_ups_and_sign_ins_say_why(web_hub, browser):
    name = _name("vic")
    browser.sign_up(name)
    fresh = Browser(web_hub.url)
    fresh.get("/signup")
    for form, status, message in [
        ({"name": name, "password": "another password"}, 409, f"the name &#39;{name}&#39; is taken"),
        ({"name": "settings", "password": "another password"}, 400, "the name &#39;settings&#39; is reserved"),
        ({"name": "../x", "password": "another password"}, 400, "invalid user name"),
        ({"name": _name("w"), "password": "short"}, 400, "the password needs at least 8 characters"),
    ]:
        r = fresh.post("/signup", form)
        assert r.status_code == status and message in r.text, r.text[-800:]
    fresh.get("/signin")
    r = fresh.post("/signin", {"name": name, "password": "wrong password!"})
    assert r.status_code == 401 and "wrong user name or password" in r.text
    r = fresh.post("/signin", {"name": name, "password": "correct horse battery", "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"] == "/"  # never an open redirect


def test_private_repo_pages_and_files_are_404_to_others(web_hub, browser, tmp_path):
    owner = _name("pia")
    browser.sign_up(owner)
    token = browser.new_token()
    repo = f"{owner}/secret"
    push(web_hub, token, adapter_dir(tmp_path / "a", card("# Secret\n")), repo, "1.0.0", "--private")
    links = [
        f"/{repo}",
        f"/{repo}/v/1.0.0",
        f"/{repo}/v/1.0.0/files/README.md",
        f"/{repo}/v/1.0.0/files/adapter_model.safetensors",
    ]
    for link in links:
        assert browser.get(link).status_code == 200, link  # the owner sees everything
    stranger = Browser(web_hub.url).sign_up(_name("sam"))
    anonymous = Browser(web_hub.url)
    for who in (stranger, anonymous):
        for link in links:
            r = who.get(link)
            assert r.status_code == 404 and f"repository {repo} not found" in r.text, link
        assert f"/{repo}" not in who.get(f"/{owner}").text
        assert f"/{repo}" not in who.get("/search?q=secret").text
    assert f"/{repo}" in browser.get(f"/{owner}").text
    assert f"/{repo}" in browser.get("/search?q=secret").text
    r = browser.get(f"/{repo}/v/1.0.0/files/README.md")
    assert r.content.startswith(b"---") and r.headers["x-hub-version"] == "1.0.0"


def test_likes_toggle_and_sort(web_hub, browser, tmp_path):
    owner = _name("lia")
    browser.sign_up(owner)
    token = browser.new_token()
    for i, name in enumerate(("plain", "loved")):
        push(web_hub, token, adapter_dir(tmp_path / name, card(f"# {name}\n"), seed=i), f"{owner}/{name}")
    anonymous = Browser(web_hub.url)
    anonymous.get(f"/{owner}/loved")
    r = anonymous.post(f"/{owner}/loved/like")
    assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    fan = Browser(web_hub.url).sign_up(_name("fan"))
    fan.get(f"/{owner}/loved")
    assert fan.post(f"/{owner}/loved/like", csrf=False).status_code == 403
    assert fan.post(f"/{owner}/loved/like").status_code == 303
    assert fan.post(f"/{owner}/loved/like").status_code == 303  # toggled off again
    assert fan.post(f"/{owner}/loved/like").status_code == 303
    browser.get(f"/{owner}/loved")
    assert browser.post(f"/{owner}/loved/like").status_code == 303
    r = httpx.get(web_hub.url + "/api/v1/search", params={"namespace": owner, "sort": "likes"})
    items = r.json()["items"]
    assert [(i["name"], i["likes"]) for i in items] == [("loved", 2), ("plain", 0)]
    first = httpx.get(web_hub.url + "/api/v1/search", params={"namespace": owner, "sort": "likes", "limit": 1}).json()
    second = httpx.get(
        web_hub.url + "/api/v1/search",
        params={"namespace": owner, "sort": "likes", "limit": 1, "cursor": first["next_cursor"]},
    ).json()
    assert [i["name"] for i in first["items"] + second["items"]] == ["loved", "plain"]
    assert 'class="like liked"' in fan.get(f"/{owner}/loved").text


def test_closed_sign_up(tmp_path):
    from tests.support.hub_process import HubProcess

    hub = HubProcess(tmp_path / "closed", env={"HUB_OPEN_SIGNUP": "0"}).start()
    try:
        b = Browser(hub.url)
        assert "Sign-up is closed on this hub" in b.get("/signup").text
        b.get("/signin")  # a page with a form: a valid CSRF token, so only the closed sign-up refuses
        r = b.post("/signup", {"name": "zed", "password": "correct horse battery"})
        assert r.status_code == 403 and "sign-up is closed on this hub" in r.text
        b.get("/signin")
        assert b.post("/signin", {"name": "zed", "password": "correct horse battery"}).status_code == 401
        b.close()
    finally:
        hub.close()
