"""Webhooks through the unmodified ``huggingface_hub`` client: create, list, get, update, disable, enable
and delete; and every refusal (a bad or private URL, what does not exist, a stranger's webhook, too many
webhooks, the wrong token) with its status, its one-line message and nothing stored. This hub keeps the
default: private targets are refused (``HUB_WEBHOOK_ALLOW_PRIVATE`` off)."""

from __future__ import annotations

import re

import httpx
import pytest
from click.testing import CliRunner

from hub_client.cli.main import main
from tests.hf.test_hf_manage import with_refused

PUBLIC = "https://8.8.8.8/hooks"  # a public address written as an IP: no DNS needed, nothing is sent here


@pytest.fixture(scope="module")
def tokens(hub) -> dict[str, str]:
    return {
        "hooker": hub.token("hooker", "write", orgs=("hookers",)),
        "mallory": hub.token("mallory"),
        "reader": hub.token("hooker", "read"),
        "many": hub.token("manyhooks"),
        "cli": hub.token("clio"),
    }


def test_webhook_lifecycle_with_hfapi(hub, run_hf, tokens):
    out = run_hf(
        f"""
        from huggingface_hub import HfApi, WebhookWatchedItem
        api = HfApi()
        api.create_repo("hooker/tone")
        api.create_repo("hooker/rows", repo_type="dataset")
        w = api.create_webhook(
            url="{PUBLIC}/a",
            watched=[WebhookWatchedItem(type="user", name="hooker"), {{"type": "model", "name": "hooker/tone"}},
                     {{"type": "dataset", "name": "hooker/rows"}}],
            domains=["repo"],
            secret="s3cret-value",
        )
        got = api.get_webhook(w.id)
        up = api.update_webhook(w.id, url="{PUBLIC}/b", domains=["repo", "discussion"])
        off = api.disable_webhook(w.id)
        on = api.enable_webhook(w.id)
        plain = api.create_webhook(url="{PUBLIC}/c", watched=[{{"type": "org", "name": "hookers"}}])
        listed = [x.id for x in api.list_webhooks()]
        api.delete_webhook(plain.id)
        after = [x.id for x in api.list_webhooks()]
        print(json.dumps({{
            "id": w.id, "created": [w.url, [[i.type, i.name] for i in w.watched], w.domains, w.secret, w.disabled, w.job],
            "got": [got.url, [[i.type, i.name] for i in got.watched], got.domains, got.secret],
            "up": [up.url, [[i.type, i.name] for i in up.watched], up.domains, up.secret],
            "off": off.disabled, "on": on.disabled,
            "plain": [plain.id, plain.domains, plain.secret], "listed": listed, "after": after,
        }}))
    """,
        token=tokens["hooker"],
    )
    watched = [["user", "hooker"], ["model", "hooker/tone"], ["dataset", "hooker/rows"]]
    assert re.fullmatch(r"[0-9a-f]{24}", out["id"])
    assert out["created"] == [f"{PUBLIC}/a", watched, ["repo"], "s3cret-value", False, None]
    assert out["got"] == [f"{PUBLIC}/a", watched, ["repo"], "s3cret-value"]
    # the client sends watched=[] when not given: what the webhook watches stays
    assert out["up"] == [f"{PUBLIC}/b", watched, ["repo", "discussion"], "s3cret-value"]
    assert out["off"] is True and out["on"] is False
    plain_id, domains, secret = out["plain"]
    assert domains == ["repo", "discussion"] and len(secret) >= 32  # no secret given: the hub made one
    assert out["listed"] == [out["id"], plain_id] and out["after"] == [out["id"]]


def _mine(hub, token: str) -> list[dict]:
    answer = httpx.get(f"{hub.url}/api/settings/webhooks", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


PRIVATE = "a loopback, private or link-local address; this hub does not send webhooks there"


def test_refusals_answer_one_line_and_store_nothing(hub, run_hf, tokens):
    run_hf(
        """
        from huggingface_hub import HfApi
        HfApi().create_repo("hooker/hidden", private=True, exist_ok=True)
        HfApi().create_repo("hooker/plain", exist_ok=True)
        print("{}")
    """,
        token=tokens["hooker"],
    )
    before = _mine(hub, tokens["mallory"])
    out = run_hf(
        with_refused(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        user = [{{"type": "user", "name": "mallory"}}]
        def make(url, watched=user, **kw):
            return refused(lambda: api.create_webhook(url=url, watched=watched, **kw))
        print(json.dumps({{
            "ftp": make("ftp://8.8.8.8/x"),
            "words": make("not a url"),
            "bare": make("hooks.example"),
            "credentials": make("https://me:pw@8.8.8.8/x"),
            "loopback": make("http://127.0.0.1:9/hook"),
            "localhost": make("http://localhost/hook"),
            "v6": make("http://[::1]/hook"),
            "mapped": make("http://[::ffff:127.0.0.1]/hook"),
            "decimal": make("http://2130706433/hook"),
            "metadata": make("http://169.254.169.254/latest/meta-data"),
            "private": make("https://10.1.2.3/hook"),
            "nowhere": make("https://no-such-host.invalid/hook"),
            "no_user": make("{PUBLIC}", [{{"type": "user", "name": "no-such-user"}}]),
            "space": make("{PUBLIC}", [{{"type": "space", "name": "hooker/app"}}]),
            "hidden": make("{PUBLIC}", [{{"type": "model", "name": "hooker/hidden"}}]),
            "kind": make("{PUBLIC}", [{{"type": "dataset", "name": "hooker/plain"}}]),
            "empty": make("{PUBLIC}", []),
            "domains": make("{PUBLIC}", domains=["repo", "push"]),
            "secret": make("{PUBLIC}", secret="two words"),
            "job": refused(lambda: api.create_webhook(job_id="abc", watched=user)),
        }}))
    """),
        token=tokens["mallory"],
    )
    assert out["ftp"] == [400, "a webhook url must start with http:// or https://, not ftp", "BadRequestError"]
    assert out["words"][:2] == [400, "the webhook url may not contain spaces or control characters"]
    assert out["bare"][:2] == [400, "a webhook url must start with http:// or https://, not nothing"]
    assert out["credentials"][:2] == [
        400,
        "a webhook url may not carry a user name or password; use the webhook's secret",
    ]
    localhost = {f"the webhook host localhost resolves to {a}, {PRIVATE}" for a in ("127.0.0.1", "::1")}
    assert out["localhost"][0] == 400 and out["localhost"][1] in localhost  # whichever the resolver lists first
    for key, host, address in (
        ("loopback", "127.0.0.1", "127.0.0.1"),
        ("v6", "::1", "::1"),
        ("mapped", "::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("decimal", "2130706433", "127.0.0.1"),
        ("metadata", "169.254.169.254", "169.254.169.254"),
        ("private", "10.1.2.3", "10.1.2.3"),
    ):
        assert out[key][:2] == [400, f"the webhook host {host} resolves to {address}, {PRIVATE}"], (key, out[key])
    assert out["nowhere"][:2] == [400, "the webhook host no-such-host.invalid does not resolve"]
    assert out["no_user"][:2] == [404, "watched user 'no-such-user' not found"]
    assert out["space"][:2] == [400, "this hub has no spaces; watch a user, org, model or dataset"]
    assert out["hidden"][:2] == [404, "watched model 'hooker/hidden' not found"]  # private: as if absent
    assert out["kind"][:2] == [404, "watched dataset 'hooker/plain' not found"]  # a model, not a dataset
    assert out["empty"][:2] == [400, "watched must be a non-empty list of {type, name} items"]
    assert out["domains"][:2] == [400, "domains must be a non-empty list of repo and discussion"]
    assert out["secret"][:2] == [
        400,
        "the secret must be 1 to 200 printable ASCII characters without spaces",
    ]
    assert out["job"][:2] == [400, "this hub runs no Jobs: a webhook here posts to a url"]
    assert _mine(hub, tokens["mallory"]) == before == []


def test_a_strangers_webhook_is_not_found_and_stays_as_it_was(hub, run_hf, tokens):
    made = httpx.post(
        f"{hub.url}/api/settings/webhooks",
        json={"url": f"{PUBLIC}/mine", "watched": [{"type": "user", "name": "hooker"}], "secret": "keep-me"},
        headers={"Authorization": f"Bearer {tokens['hooker']}"},
    )
    assert made.status_code == 200, made.text
    hook = made.json()["webhook"]
    out = run_hf(
        with_refused(f"""
        from huggingface_hub import HfApi
        api = HfApi()
        wid = "{hook["id"]}"
        print(json.dumps({{
            "get": refused(lambda: api.get_webhook(wid)),
            "update": refused(lambda: api.update_webhook(wid, url="{PUBLIC}/stolen")),
            "disable": refused(lambda: api.disable_webhook(wid)),
            "enable": refused(lambda: api.enable_webhook(wid)),
            "delete": refused(lambda: api.delete_webhook(wid)),
            "garbage": refused(lambda: api.get_webhook("not-a-webhook-id")),
            "listed": [w.id for w in api.list_webhooks()],
        }}))
    """),
        token=tokens["mallory"],
    )
    for call in ("get", "update", "disable", "enable", "delete"):
        assert out[call] == [404, f"webhook {hook['id']} not found", "HfHubHTTPError"], call
    assert out["garbage"][:2] == [404, "webhook not-a-webhook-id not found"] and out["listed"] == []
    kept = next(w for w in _mine(hub, tokens["hooker"]) if w["id"] == hook["id"])
    assert kept == hook  # unchanged, still enabled

    # a read token sees and changes nothing; no token is a 401
    for token, status in ((tokens["reader"], 403), (None, 401)):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        for method, path in (("GET", ""), ("POST", ""), ("GET", f"/{hook['id']}"), ("DELETE", f"/{hook['id']}")):
            answer = httpx.request(
                method, f"{hub.url}/api/settings/webhooks{path}", json={"url": PUBLIC}, headers=headers
            )
            assert answer.status_code == status, (method, path, answer.text)
            assert "\n" not in answer.json()["error"]
    assert httpx.get(
        f"{hub.url}/api/settings/webhooks", headers={"Authorization": f"Bearer {tokens['reader']}"}
    ).json() == {"error": "token scope 'read' cannot manage webhooks; use a token with scope write"}
    assert next(w for w in _mine(hub, tokens["hooker"]) if w["id"] == hook["id"]) == hook


def test_an_account_has_a_bounded_number_of_webhooks(hub, tokens):
    token = tokens["many"]
    headers = {"Authorization": f"Bearer {token}"}
    body = {"url": PUBLIC, "watched": [{"type": "user", "name": "manyhooks"}]}
    with httpx.Client(base_url=hub.url, headers=headers, timeout=30) as client:
        for _ in range(25):  # HUB_WEBHOOK_MAX_PER_USER's default
            assert client.post("/api/settings/webhooks", json=body).status_code == 200
        refused = client.post("/api/settings/webhooks", json=body)
        assert refused.status_code == 403
        assert refused.json()["error"] == (
            "manyhooks already has 25 webhooks, the most one account may have; delete one first"
        )
        assert refused.headers["X-Error-Message"] == refused.json()["error"]
        assert len(client.get("/api/settings/webhooks").json()) == 25
        one = client.get("/api/settings/webhooks").json()[0]["id"]
        bad = client.post(f"/api/settings/webhooks/{one}", json={"url": "http://127.0.0.1/x", "watched": []})
        assert bad.status_code == 400 and bad.json()["error"].endswith(PRIVATE)
        assert client.get(f"/api/settings/webhooks/{one}").json()["webhook"]["url"] == PUBLIC
        too_many = client.post("/api/settings/webhooks", json={**body, "watched": body["watched"] * 101})
        assert too_many.status_code == 400 and too_many.json()["error"].startswith("watched: List should have at most")


def test_the_hub_cli_manages_webhooks(hub, tokens, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_CONFIG_DIR", str(tmp_path / "cfg"))
    runner, auth = CliRunner(), ["--endpoint", hub.url, "--token", tokens["cli"]]

    def hub_cli(*args: str, code: int = 0):
        result = runner.invoke(main, [*args, *auth])
        assert result.exit_code == code, (args, result.output)
        return result

    made = hub_cli("webhooks", "create", f"{PUBLIC}/cli", "--watch", "user:clio", "--domain", "repo", "--secret", "c-1")
    hook = made.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{24}", hook) and "its secret: c-1" in made.stderr
    listed = hub_cli("webhooks", "list").stdout
    assert hook in listed and f"{PUBLIC}/cli" in listed and "user:clio" in listed and "active" in listed
    assert hub_cli("webhooks", "disable", hook).stdout.strip() == f"webhook {hook} disabled"
    assert "disabled" in hub_cli("webhooks", "list").stdout
    hub_cli("webhooks", "enable", hook)
    assert hub_cli("webhooks", "deliveries", hook).stdout.strip() == "(none)"
    refused = hub_cli("webhooks", "create", "http://127.0.0.1/x", "--watch", "user:clio", code=1)
    assert refused.stderr.strip().startswith("error: the webhook host 127.0.0.1 resolves to 127.0.0.1, ")
    assert len(refused.stderr.strip().splitlines()) == 1
    bad_watch = hub_cli("webhooks", "create", PUBLIC, "--watch", "space:x", code=2)
    assert "use TYPE:NAME with TYPE one of user, org, model, dataset" in bad_watch.output
    hub_cli("webhooks", "delete", hook)
    assert hub_cli("webhooks", "list").stdout.strip() == "(none)"
    gone = hub_cli("webhooks", "delete", hook, code=1)
    assert f"webhook {hook} not found" in gone.stderr
