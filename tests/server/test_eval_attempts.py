"""A job whose lease ran out once too often is failed for good: the claim that finds it out of attempts
records ``failed`` (with its reason) and answers 409, and every later look sees it failed."""

from __future__ import annotations

import time

import httpx

from tests.security.accountability_support import hub_on  # noqa: F401
from tests.server.test_eval_private import _card, _publish, _repo
from tests.support.hub_http import auth


def test_a_job_out_of_attempts_is_recorded_failed(hub_on):  # noqa: F811
    hub = hub_on(env={"HUB_EVAL_MAX_ATTEMPTS": "1", "HUB_EVAL_LEASE_SECONDS": "1"})
    alice, bot = hub.token("alice"), hub.token("evalbot", "evaluate")
    with httpx.Client(base_url=hub.url, timeout=30) as c:
        dataset = _repo(c, alice, "alice", kind="dataset")
        _publish(c, alice, dataset, "1.0.0", {"test.jsonl": b'{"prompt": "a", "completion": "b"}\n'})
        adapter = _repo(c, alice, "alice")
        _publish(c, alice, adapter, "1.0.0", {"README.md": _card(dataset, 0.5)})
        [job] = c.get(f"/api/v1/repos/{adapter}/evaluations", headers=auth(alice)).json()
        claim = f"/api/v1/evaluations/{job['job_id']}/claim"
        assert c.post(claim, json={"worker": "w1"}, headers=auth(bot)).status_code == 200
        time.sleep(1.5)  # the worker went silent: its lease ran out, and its one attempt is spent
        again = c.post(claim, json={"worker": "w2"}, headers=auth(bot))
        assert again.status_code == 409
        assert again.json()["error"]["message"] == f"evaluation job {job['job_id']} is already failed"
        [row] = c.get(f"/api/v1/repos/{adapter}/evaluations", headers=auth(alice)).json()
        assert row["status"] == "failed" and row["reason"]
        third = c.post(claim, json={"worker": "w3"}, headers=auth(bot))
        assert third.status_code == 409 and third.json()["error"]["message"].endswith("is already failed")
