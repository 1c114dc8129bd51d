"""Two things one address could do to everyone: inflate a repo's download count with anonymous
POSTs (now once per caller and version in a window), and lock every valid token out of a shared
address (NAT, a proxy) by sending bad tokens (now only bad tokens are refused). On two hosts the
pull window is shared through Redis, so a caller counts once whichever host answers."""

from __future__ import annotations

import time

import httpx

from tests.security.accountability_support import auth, create_repo, publish


def _downloads(client: httpx.Client, repo: str, settle: float = 1.0) -> int:
    time.sleep(settle)  # counts are flushed every 0.2 s in the test hubs
    return client.get(f"/api/v1/repos/{repo}").json()["downloads"]


def test_repeated_pull_reports_count_once_per_caller(deployed):
    hub = deployed(env={"HUB_DOWNLOAD_COUNT_WINDOW_SECONDS": "3600"}, shared=True)
    alice = hub.token("alice", "write")
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        create_repo(client, alice, "alice", "lora")
        assert publish(client, alice, "alice/lora", "1.0.0", {"a.txt": b"one"}).status_code == 201
        assert publish(client, alice, "alice/lora", "1.1.0", {"a.txt": b"two"}).status_code == 201
        answers = [client.post("/api/v1/repos/alice/lora/versions/1.0.0/pulls") for _ in range(200)]
        assert {r.status_code for r in answers} == {202}
        assert [r.json()["counted"] for r in answers[:2]] == [True, False]
        # other spellings of the same version are the same version
        for ref in (">=1.0,<1.1", "~1.0"):
            assert client.post(f"/api/v1/repos/alice/lora/versions/{ref}/pulls").json() == {"counted": False}
        assert _downloads(client, "alice/lora") == 1
        # a signed-in user counts once whatever token they use; another version counts on its own
        bob1, bob2 = hub.token("bob", "read"), hub.token("bob", "read")
        for token in (bob1, bob2, bob1):
            client.post("/api/v1/repos/alice/lora/versions/1.0.0/pulls", headers=auth(token))
        client.post("/api/v1/repos/alice/lora/versions/1.1.0/pulls")
        assert _downloads(client, "alice/lora") == 3
        assert {
            v["version"]: v["downloads"] for v in client.get("/api/v1/repos/alice/lora/versions").json()["items"]
        } == {"1.0.0": 2, "1.1.0": 1}


def test_bad_tokens_from_an_address_do_not_lock_out_valid_tokens(hub_server):
    alice = hub_server.token("alice", "read")
    with httpx.Client(base_url=hub_server.url, timeout=30) as client:
        answers = []
        while len(answers) < 200 and (not answers or answers[-1].status_code != 429):  # 30 per host without Redis
            answers.append(client.get("/api/v1/tokens", headers=auth(f"hub_wrong{len(answers)}")))
        assert len(answers) > 30 and {r.status_code for r in answers[:30]} == {401}
        assert answers[-1].status_code == 429  # the address is locked for bad tokens
        assert "too many failed logins" in answers[-1].json()["error"]["message"]
        for _ in range(2):  # consecutive requests: on every host of a round-robin deployment
            ok = client.get("/api/v1/tokens", headers=auth(alice))
            assert ok.status_code == 200 and ok.json()["items"][0]["user"] == "alice"
        assert client.get("/api/v1/search").status_code == 200  # anonymous reads go on too
