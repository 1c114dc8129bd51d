"""Verified evaluations and private repos. A worker's ``evaluate`` token sees no private repo by itself; while
it holds a running job it may download exactly what the job names (the adapter at its version, the eval set
at its version) and nothing else, and the eval set only when the adapter's publisher may read it. Results are
shown only to callers who may see both the adapter and the eval set: the native list, the leaderboards,
Hugging Face's ``evalResults`` and dataset leaderboard, ``verified`` search and the site. Every refusal is the
404 of a repo that does not exist. The worker's calls are made here over HTTP as a worker makes them."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from hub_rules.eval_index import model_index_entry
from tests.support.hub_http import auth, digest_of, publish

FP = "sha256:" + "5e" * 32


def _card(dataset: str, claim: float, metric: str = "exact_match") -> bytes:
    front = {
        "library_name": "peft",
        "base_model": "tiny/base",
        "adapter_hub": {"kind": "adapter", "method": "lora", "base": {"id": "tiny/base", "fingerprint": FP}},
        "model-index": [model_index_entry("x", "text-generation", dataset, "1.0.0", "test", {metric: claim})],
    }
    return ("---\n" + json.dumps(front) + "\n---\n# an adapter\n").encode()


def _repo(client: httpx.Client, token: str, namespace: str, *, kind: str = "adapter", private: bool = False) -> str:
    name = f"{kind[0]}-{uuid.uuid4().hex[:8]}"
    r = client.post(
        "/api/v1/repos",
        json={"namespace": namespace, "name": name, "kind": kind, "private": private},
        headers=auth(token),
    )
    assert r.status_code == 201, r.text
    return f"{namespace}/{name}"


def _publish(client, token, repo, version, files) -> None:
    r = publish(client, token, repo, version, files)
    assert r.status_code == 201, r.text


@pytest.fixture(scope="module")
def world(server):
    tokens = {
        "alice": server.token("alice"),
        "bob": server.token("bob"),
        "bot": server.token("evalbot", "evaluate"),
        "bot2": server.token("evalbot2", "evaluate"),
    }
    w: dict = {"tokens": tokens}
    with httpx.Client(base_url=server.url, timeout=30) as c:
        alice, bob = tokens["alice"], tokens["bob"]
        w["secret_set"] = _repo(c, alice, "alice", kind="dataset", private=True)
        w["secret_rows"] = {v: f'{{"prompt": "p{v}", "completion": "c"}}\n'.encode() for v in ("1.0.0", "2.0.0")}
        for version, rows in w["secret_rows"].items():
            _publish(c, alice, w["secret_set"], version, {"test.jsonl": rows})
        w["open_set"] = _repo(c, alice, "alice", kind="dataset")
        _publish(c, alice, w["open_set"], "1.0.0", {"test.jsonl": b'{"prompt": "a", "completion": "b"}\n'})
        w["other_private"] = _repo(c, alice, "alice", private=True)
        _publish(c, alice, w["other_private"], "1.0.0", {"README.md": b"---\nlicense: mit\n---\n# other\n"})

        # a private adapter on the private eval set, with an earlier version the job does not name
        w["private"] = _repo(c, alice, "alice", private=True)
        w["old_card"] = b"---\nlicense: mit\n---\n# the first version\n"
        _publish(c, alice, w["private"], "0.9.0", {"README.md": w["old_card"]})
        w["card"] = _card(w["secret_set"], 0.81)
        _publish(c, alice, w["private"], "1.0.0", {"README.md": w["card"]})
        for key, owner, dataset, private, claim in [
            ("public_on_secret", "alice", "secret_set", False, 0.71),  # alice may read her own eval set
            ("bob_on_secret", "bob", "secret_set", False, 0.61),  # bob may not: never granted
            ("private_on_open", "alice", "open_set", True, 0.91),
            ("public_on_open", "alice", "open_set", False, 0.51),
        ]:
            token = alice if owner == "alice" else bob
            w[key] = _repo(c, token, owner, private=private)
            _publish(c, token, w[key], "1.0.0", {"README.md": _card(w[dataset], claim)})
    return w


def _job(server, w, repo: str) -> str:
    """The repo's one open job, as alice (who may see every repo and eval set here) lists it."""
    rows = httpx.get(f"{server.url}/api/v1/repos/{repo}/evaluations", headers=auth(w["tokens"]["alice"])).json()
    [row] = [r for r in rows if r["status"] in ("queued", "running")]
    return row["job_id"]


def _claim(client, w, job: str, token: str = "bot") -> None:
    r = client.post(f"/api/v1/evaluations/{job}/claim", json={"worker": "w1"}, headers=auth(w["tokens"][token]))
    assert r.status_code == 200, r.text


def _done(client, w, job: str, value: float) -> None:
    r = client.post(
        f"/api/v1/evaluations/{job}/result",
        json={"worker": "w1", "status": "done", "value": value, "n": 40},
        headers=auth(w["tokens"]["bot"]),
    )
    assert r.status_code == 200, r.text


def _not_found(answer: httpx.Response, message: str) -> None:
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["message"] == message


def test_a_worker_token_downloads_exactly_what_its_running_job_names(server, world):
    w, bot = world, auth(world["tokens"]["bot"])
    repo, dataset = w["private"], w["secret_set"]
    with httpx.Client(base_url=server.url, timeout=30) as c:

        def resolve(name: str, ref: str, headers=bot) -> httpx.Response:
            return c.get(f"/api/v1/repos/{name}/resolve", params={"ref": ref}, headers=headers)

        def blob(name: str, data: bytes, headers=bot) -> httpx.Response:
            return c.get(f"/api/v1/repos/{name}/blobs/{digest_of(data)}", headers=headers)

        _not_found(resolve(repo, "1.0.0"), f"repository {repo} not found")  # no job claimed yet
        _not_found(resolve(dataset, "1.0.0"), f"repository {dataset} not found")
        job = _job(server, w, repo)
        _claim(c, w, job)

        # what the job names: the adapter at 1.0.0 and the eval set at 1.0.0, files and bytes
        got = resolve(repo, "1.0.0")
        assert got.status_code == 200 and got.json()["version"] == "1.0.0", got.text
        assert blob(repo, w["card"]).content == w["card"]
        assert c.get(f"/api/v1/repos/{repo}/files/1.0.0/README.md", headers=bot).content == w["card"]
        assert resolve(dataset, "1.0.0").json()["version"] == "1.0.0"
        assert blob(dataset, w["secret_rows"]["1.0.0"]).content == w["secret_rows"]["1.0.0"]

        # and nothing else: other versions, their bytes, other repos, the repos' pages and lists
        _not_found(resolve(repo, "0.9.0"), "no version matches '0.9.0'")
        _not_found(blob(repo, w["old_card"]), f"blob {digest_of(w['old_card'])} is not part of {repo}")
        _not_found(resolve(dataset, "2.0.0"), "no version matches '2.0.0'")
        rows_2 = w["secret_rows"]["2.0.0"]
        _not_found(blob(dataset, rows_2), f"blob {digest_of(rows_2)} is not part of {dataset}")
        other = w["other_private"]
        _not_found(resolve(other, "1.0.0"), f"repository {other} not found")
        for path in ("", "/versions", "/evaluations"):
            _not_found(c.get(f"/api/v1/repos/{repo}{path}", headers=bot), f"repository {repo} not found")
        # another worker's token holds no job: nothing
        _not_found(resolve(repo, "1.0.0", auth(w["tokens"]["bot2"])), f"repository {repo} not found")
        _not_found(resolve(repo, "1.0.0", {}), f"repository {repo} not found")

        _done(c, w, job, 0.8)  # the job is over: so is the grant
        _not_found(resolve(repo, "1.0.0"), f"repository {repo} not found")
        _not_found(resolve(dataset, "1.0.0"), f"repository {dataset} not found")
        _not_found(blob(repo, w["card"]), f"repository {repo} not found")


def test_the_eval_set_is_granted_only_when_the_publisher_may_read_it(server, world):
    w = world
    dataset = w["secret_set"]
    with httpx.Client(base_url=server.url, timeout=30) as c:
        bobs = _job(server, w, w["bob_on_secret"])
        _claim(c, w, bobs)
        # bob named alice's private eval set in his card: the worker gets the 404 of a missing repo
        refused = c.get(f"/api/v1/repos/{dataset}/resolve", params={"ref": "1.0.0"}, headers=auth(w["tokens"]["bot"]))
        _not_found(refused, f"repository {dataset} not found")
        r = c.post(
            f"/api/v1/evaluations/{bobs}/result",
            json={"worker": "w1", "status": "failed", "reason": f"NotFound: repository {dataset} not found"},
            headers=auth(w["tokens"]["bot"]),
        )
        assert r.status_code == 200, r.text

        alices = _job(server, w, w["public_on_secret"])  # alice's own public adapter on her private eval set
        _claim(c, w, alices)
        got = c.get(f"/api/v1/repos/{dataset}/resolve", params={"ref": "1.0.0"}, headers=auth(w["tokens"]["bot"]))
        assert got.status_code == 200, got.text
        _done(c, w, alices, 0.7)


def _ranked(answer: httpx.Response) -> list[tuple[str, float]]:
    assert answer.status_code == 200, answer.text
    return [(r["repo"], r["value"]) for r in answer.json()]


def test_results_are_shown_only_to_who_may_see_adapter_and_eval_set(server, world):
    w = world
    alice = auth(w["tokens"]["alice"])
    with httpx.Client(base_url=server.url, timeout=30) as c:
        for key, value in (("private_on_open", 0.9), ("public_on_open", 0.5)):
            job = _job(server, w, w[key])
            _claim(c, w, job)
            _done(c, w, job, value)
        for key in ("private", "public_on_secret"):  # verified by the tests above when run alone, else here
            rows = c.get(f"/api/v1/repos/{w[key]}/evaluations", headers=alice).json()
            if rows[0]["status"] != "done":
                _claim(c, w, rows[0]["job_id"])
                _done(c, w, rows[0]["job_id"], 0.8 if key == "private" else 0.7)
        ours = {w[k] for k in ("private", "public_on_secret", "bob_on_secret", "private_on_open", "public_on_open")}

        # the native list of a private adapter: 404 to anyone else; of a public adapter on a private eval set:
        # the row hidden from those who cannot see the eval set
        private = w["private_on_open"]
        _not_found(c.get(f"/api/v1/repos/{private}/evaluations"), f"repository {private} not found")
        _not_found(
            c.get(f"/api/v1/repos/{private}/evaluations", headers=auth(w["tokens"]["bob"])),
            f"repository {private} not found",
        )
        on_secret = w["public_on_secret"]
        assert c.get(f"/api/v1/repos/{on_secret}/evaluations").json() == []
        [row] = c.get(f"/api/v1/repos/{on_secret}/evaluations", headers=alice).json()
        assert (row["value"], row["status"], row["verify_token"] is not None) == (0.7, "done", True)

        # the leaderboard: the private adapter only for its owner; a private eval set's board empty for others
        board = {"base": FP, "dataset": w["open_set"]}
        assert _ranked(c.get("/api/v1/leaderboard", params=board)) == [(w["public_on_open"], 0.5)]
        assert _ranked(c.get("/api/v1/leaderboard", params=board, headers=alice)) == [
            (private, 0.9),
            (w["public_on_open"], 0.5),
        ]
        secret_board = {"base": FP, "dataset": w["secret_set"]}
        assert _ranked(c.get("/api/v1/leaderboard", params=secret_board)) == []
        assert _ranked(c.get("/api/v1/leaderboard", params=secret_board, headers=auth(w["tokens"]["bob"]))) == []
        assert _ranked(c.get("/api/v1/leaderboard", params=secret_board, headers=alice)) == [
            (w["private"], 0.8),
            (on_secret, 0.7),
        ]

        # Hugging Face's shapes: evalResults and the dataset leaderboard
        hidden = c.get(f"/api/models/{private}", params={"expand": "evalResults"})
        assert hidden.status_code == 404 and hidden.headers["X-Error-Code"] == "RepoNotFound"
        assert c.get(f"/api/models/{on_secret}", params={"expand": "evalResults"}).json()["evalResults"] == []
        [mine] = c.get(f"/api/models/{on_secret}", params={"expand": "evalResults"}, headers=alice).json()[
            "evalResults"
        ]
        assert mine["verified"] is True and mine["data"]["value"] == 0.7
        secret_hf = c.get(f"/api/datasets/{w['secret_set']}/leaderboard", params={"base_model": "false"})
        assert secret_hf.status_code == 404 and secret_hf.headers["X-Error-Code"] == "RepoNotFound"
        open_hf = c.get(f"/api/datasets/{w['open_set']}/leaderboard", params={"base_model": "false"}).json()
        assert [(e["modelId"], e["value"]) for e in open_hf] == [(w["public_on_open"], 0.5)]

        # verified search: a result counts only where the caller may see the adapter and its eval set
        def verified(headers=None, **params) -> list:
            r = c.get("/api/v1/search", params={"verified": "true", "limit": 100, **params}, headers=headers or {})
            assert r.status_code == 200, r.text
            return [(i["id"], (i.get("verified") or {}).get("value")) for i in r.json()["items"] if i["id"] in ours]

        assert verified() == [(w["public_on_open"], None)]
        assert verified(sort="verified:exact_match") == [(w["public_on_open"], 0.5)]
        assert verified(alice, sort="verified:exact_match") == [
            (private, 0.9),
            (w["private"], 0.8),
            (on_secret, 0.7),
            (w["public_on_open"], 0.5),
        ]

        # the site: a base's boards, an eval set's ranking and an adapter's page, for an anonymous visitor
        base_page = c.get(f"/bases/{FP}").text
        assert w["public_on_open"] in base_page
        assert private not in base_page and w["secret_set"] not in base_page and w["private"] not in base_page
        ranking = c.get(f"/{w['open_set']}").text
        assert w["public_on_open"] in ranking and private not in ranking
        adapter_page = c.get(f"/{on_secret}").text
        assert on_secret in adapter_page and "verified-table" not in adapter_page
