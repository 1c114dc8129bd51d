"""A gated repo on the site against a real hub: a stranger requests access on the access page, the
file link stays refused until the owner accepts on the same page, forged or foreign handling is
refused with nothing changed."""

from __future__ import annotations

import uuid

import httpx

from tests.web.test_pages import push
from tests.web.web_fixtures import Browser, adapter_dir, card


def test_request_and_accept_access_on_the_site(web_hub, tmp_path):
    owner, stranger = Browser(web_hub.url).sign_up(f"gat{uuid.uuid4().hex[:6]}"), Browser(web_hub.url)
    stranger.sign_up(f"req{uuid.uuid4().hex[:6]}")
    token = owner.new_token()
    name = httpx.get(web_hub.url + "/api/whoami-v2", headers={"Authorization": f"Bearer {token}"}).json()["name"]
    who = httpx.get(web_hub.url + "/api/whoami-v2", headers={"Authorization": f"Bearer {stranger.new_token()}"}).json()[
        "name"
    ]
    repo = f"{name}/gated"
    push(web_hub, token, adapter_dir(tmp_path / "a", card("# Gated\n")), repo, tmp_path=tmp_path)
    httpx.put(
        f"{web_hub.url}/api/models/{repo}/settings",
        json={"gated": "manual"},
        headers={"Authorization": f"Bearer {token}"},
    ).raise_for_status()
    file_url = f"/{repo}/v/1.0.0/files/adapter_config.json"
    assert stranger.get(file_url).status_code == 403
    assert stranger.get(f"/{repo}").status_code == 200  # the card stays public
    page = stranger.get(f"/{repo}/access")
    assert "is <strong>gated</strong>" in page.text and "Request access" in page.text
    assert stranger.post(f"/{repo}/access").status_code == 303
    assert "Your request is <strong>pending</strong>" in stranger.get(f"/{repo}/access").text
    assert stranger.get(file_url).status_code == 403
    forged = stranger.post(f"/{repo}/access/handle", {"user": who, "status": "accepted"})
    assert forged.status_code == 403 and "may not write to namespace" in forged.text
    assert stranger.get(file_url).status_code == 403
    owner_page = owner.get(f"/{repo}/access").text
    assert f"Accept {who}" in owner_page
    assert owner.post(f"/{repo}/access/handle", {"user": who, "status": "accepted"}).status_code == 303
    assert "Your request is <strong>accepted</strong>" in stranger.get(f"/{repo}/access").text
    download = stranger.get(file_url)
    assert download.status_code == 200 and b"LORA" in download.content
    owner.close()
    stranger.close()
