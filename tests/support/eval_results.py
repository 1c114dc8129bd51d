"""Verified results without training: a card that declares an eval set in ``model-index``, and the two calls
a worker makes on a job (claim, then result) through the real API with an ``evaluate`` token."""

from __future__ import annotations

import json

import httpx

from hub_rules.eval_index import model_index_entry
from tests.web.web_fixtures import card


def claiming_card(dataset: str, claim: float, *, metric: str = "exact_match", body: str = "# An adapter\n") -> str:
    front = json.loads(card(body).split("\n")[1])
    front["model-index"] = [model_index_entry("x", "text-generation", dataset, "1.0.0", "test", {metric: claim})]
    return "---\n" + json.dumps(front) + "\n---\n" + body


def post_result(hub, repo: str, value: float, n: int, worker: str = "w1") -> dict:
    """Claim the repo's one queued job and post ``value`` as a worker does; the recorded row."""
    bot = {"Authorization": f"Bearer {hub.token('evalbot', 'evaluate')}"}
    jobs = [j for j in httpx.get(f"{hub.url}/api/v1/repos/{repo}/evaluations").json() if j["status"] == "queued"]
    assert len(jobs) == 1, jobs
    job = jobs[0]["job_id"]
    r = httpx.post(f"{hub.url}/api/v1/evaluations/{job}/claim", json={"worker": worker}, headers=bot)
    assert r.status_code == 200, r.text
    r = httpx.post(
        f"{hub.url}/api/v1/evaluations/{job}/result",
        json={"worker": worker, "status": "done", "value": value, "n": n},
        headers=bot,
    )
    assert r.status_code == 200, r.text
    return r.json()
