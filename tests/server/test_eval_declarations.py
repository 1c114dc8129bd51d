"""Declared evaluations on the hub (no worker here): a card's ``model-index`` is checked at publish (a bad
declaration is a one-line 422 and nothing is stored), a good one becomes one queued job per eval, and the
calls a worker makes are guarded: scope ``evaluate`` only, a job claimed once, a result recorded once,
failures retried a bounded number of times and then ``failed`` with their reason."""

from __future__ import annotations

import httpx
import pytest

from tests.support.hub_http import auth, create_repo, publish

PIN = 'adapter_hub: {kind: adapter, method: lora, base: {id: org/base, fingerprint: "sha256:feed"}}'


def card(results: str) -> bytes:
    return f"---\nlibrary_name: peft\n{PIN}\nmodel-index:\n- name: x\n  results:\n{results}---\n# x\n".encode()


GOOD = """  - task: {type: text-generation}
    dataset: {type: alice/evalset, name: Eval, revision: 1.0.0, split: test}
    metrics: [{type: exact_match, value: 0.9}, {type: accuracy, value: null}]
"""


@pytest.fixture(scope="module")
def tokens(server):
    return {
        "alice": server.token("alice"),
        "bot": server.token("evalbot", "evaluate"),
        "reader": server.token("bob", "read"),
    }


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


@pytest.mark.parametrize(
    "results, message",
    [
        (
            """  - task: {type: text-generation}
    dataset: {type: alice/evalset, revision: 1.0.0}
    metrics: [{type: f1, value: 0.9}]
""",
            "model-index[0].results[0].metrics[0].type must be one of exact_match, accuracy, preferred_rate, perplexity",
        ),
        (
            """  - task: {type: text-generation}
    dataset: {type: alice/evalset, revision: main, split: test}
    metrics: [{type: exact_match, value: 0.9}]
""",
            "model-index[0].results[0].dataset.revision must pin a version of alice/evalset (e.g. 1.0.0)",
        ),
        (
            """  - task: {type: text-generation}
    dataset: {type: alice/evalset, revision: 1.0.0}
    metrics: [{type: exact_match, value: .inf}]
""",
            "model-index[0].results[0].metrics[0].value must be a finite number or null",
        ),
        (
            """  - task: {type: text-generation}
    dataset: {type: alice/evalset, revision: 1.0.0, split: "../x"}
    metrics: [{type: exact_match, value: 1}]
""",
            "model-index[0].results[0].dataset.split must be a name of letters, digits, - and _",
        ),
        ("  - 5\n", "model-index[0].results[0] must be a mapping"),
    ],
)
def test_a_bad_declaration_is_refused_and_nothing_is_stored(server, client, tokens, results, message):
    repo = "alice/" + create_repo(client, tokens["alice"], "alice")
    answer = publish(client, tokens["alice"], repo, "1.0.0", {"README.md": card(results)})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["message"] == f"README.md: {message}"
    assert client.get(f"/api/v1/repos/{repo}/versions").json()["items"] == []
    assert client.get(f"/api/v1/repos/{repo}/evaluations").json() == []


@pytest.mark.parametrize(
    "dataset",
    ["{type: glue, name: GLUE}", "{type: julien-c/reactiongif, name: ReactionGIF}"],  # no revision: as HF cards
)
def test_hugging_face_dataset_ids_stay_reported_only(server, client, tokens, dataset):
    repo = "alice/" + create_repo(client, tokens["alice"], "alice")
    hf_style = f"""  - task: {{type: text-classification}}
    dataset: {dataset}
    metrics: [{{type: f1, value: 0.9}}]
"""
    assert publish(client, tokens["alice"], repo, "1.0.0", {"README.md": card(hf_style)}).status_code == 201
    assert client.get(f"/api/v1/repos/{repo}/evaluations").json() == []


def _job(client, repo: str, metric: str) -> str:
    return next(r["job_id"] for r in client.get(f"/api/v1/repos/{repo}/evaluations").json() if r["metric"] == metric)


def test_a_declaration_queues_jobs_that_workers_claim_once_and_report_once(server, client, tokens):
    repo = "alice/" + create_repo(client, tokens["alice"], "alice")
    assert publish(client, tokens["alice"], repo, "1.0.0", {"README.md": card(GOOD)}).status_code == 201
    rows = client.get(f"/api/v1/repos/{repo}/evaluations").json()
    assert [
        (r["version"], r["dataset"], r["split"], r["metric"], r["reported"], r["value"], r["status"])
        for r in sorted(rows, key=lambda r: r["metric"])
    ] == [
        ("1.0.0", "alice/evalset@1.0.0", "test", "accuracy", None, None, "queued"),
        ("1.0.0", "alice/evalset@1.0.0", "test", "exact_match", 0.9, None, "queued"),
    ]
    job = _job(client, repo, "exact_match")
    claim = f"/api/v1/evaluations/{job}/claim"
    for who, status, words in (("reader", 403, "cannot report evaluations"), ("alice", 403, "cannot report")):
        answer = client.post(claim, json={"worker": "x"}, headers=auth(tokens[who]))
        assert answer.status_code == status and words in answer.json()["error"]["message"]
    assert client.post(claim, json={"worker": "x"}).status_code == 401
    got = client.post(
        claim, json={"worker": "w1", "evaluator": {"torch": "2", "device": "cpu"}}, headers=auth(tokens["bot"])
    )
    assert got.status_code == 200, got.text
    assert {k: got.json()[k] for k in ("repo", "version", "dataset", "dataset_revision", "split", "metric")} == {
        "repo": repo,
        "version": "1.0.0",
        "dataset": "alice/evalset",
        "dataset_revision": "1.0.0",
        "split": "test",
        "metric": "exact_match",
    }
    again = client.post(claim, json={"worker": "w2"}, headers=auth(tokens["bot"]))
    assert again.status_code == 409 and again.json()["error"]["message"] == f"evaluation job {job} is running on w1"
    result = f"/api/v1/evaluations/{job}/result"
    bad = client.post(result, json={"worker": "w1", "status": "done"}, headers=auth(tokens["bot"]))
    assert bad.status_code == 400 and bad.json()["error"]["message"] == "a done evaluation needs a finite numeric value"
    ok = client.post(
        result, json={"worker": "w1", "status": "done", "value": 0.25, "n": 8}, headers=auth(tokens["bot"])
    )
    assert ok.status_code == 200 and ok.json()["value"] == 0.25 and ok.json()["status"] == "done"
    same = client.post(
        result, json={"worker": "w1", "status": "done", "value": 0.25, "n": 8}, headers=auth(tokens["bot"])
    )
    assert same.status_code == 200 and same.json() == ok.json()  # the same result again: recorded once
    other = client.post(result, json={"worker": "w2", "status": "done", "value": 0.5}, headers=auth(tokens["bot"]))
    assert other.status_code == 409
    row = next(r for r in client.get(f"/api/v1/repos/{repo}/evaluations").json() if r["job_id"] == job)
    assert (row["value"], row["reported"], row["worker"], row["n"], row["evaluator"], row["hardware"]) == (
        0.25,
        0.9,
        "w1",
        8,
        {"torch": "2"},
        {"device": "cpu"},
    )
    unknown = client.post("/api/v1/evaluations/nope/claim", json={}, headers=auth(tokens["bot"]))
    assert unknown.status_code == 404 and unknown.json()["error"]["message"] == "evaluation job nope not found"


def test_a_failing_evaluation_is_retried_then_failed_with_its_reason(server, client, tokens):
    repo = "alice/" + create_repo(client, tokens["alice"], "alice")
    assert publish(client, tokens["alice"], repo, "1.0.0", {"README.md": card(GOOD)}).status_code == 201
    job = _job(client, repo, "accuracy")
    for attempt in (1, 2, 3):  # HUB_EVAL_MAX_ATTEMPTS defaults to 3
        assert (
            client.post(
                f"/api/v1/evaluations/{job}/claim", json={"worker": "w"}, headers=auth(tokens["bot"])
            ).status_code
            == 200
        )
        answer = client.post(
            f"/api/v1/evaluations/{job}/result",
            json={"worker": "w", "status": "failed", "reason": f"boom\n{attempt}"},
            headers=auth(tokens["bot"]),
        )
        assert answer.status_code == 200
        assert answer.json()["status"] == ("queued" if attempt < 3 else "failed")
        assert answer.json()["reason"] == f"boom {attempt}" and answer.json()["attempts"] == attempt
    refused = client.post(f"/api/v1/evaluations/{job}/claim", json={"worker": "w"}, headers=auth(tokens["bot"]))
    assert refused.status_code == 409 and "already failed" in refused.json()["error"]["message"]


def test_reevaluation_is_for_owners_and_leaderboard_inputs_are_checked(server, client, tokens):
    repo = "alice/" + create_repo(client, tokens["alice"], "alice")
    assert publish(client, tokens["alice"], repo, "1.0.0", {"README.md": card(GOOD)}).status_code == 201
    before = {r["job_id"] for r in client.get(f"/api/v1/repos/{repo}/evaluations").json()}
    denied = client.post(f"/api/v1/repos/{repo}/evaluations", json={"version": "1.0.0"}, headers=auth(tokens["reader"]))
    assert denied.status_code == 403
    asked = client.post(f"/api/v1/repos/{repo}/evaluations", json={"version": "1.0.0"}, headers=auth(tokens["alice"]))
    assert asked.status_code == 202 and len(asked.json()["jobs"]) == 2 and not set(asked.json()["jobs"]) & before
    for params, message in (
        ({"base": "sha256:feed", "dataset": "nope"}, "dataset must be ns/name"),
        ({"base": "feed", "dataset": "a/b"}, "base must be a base fingerprint"),
        ({"base": "sha256:feed", "dataset": "a/b", "metric": "f1"}, "metric must be one of"),
    ):
        answer = client.get("/api/v1/leaderboard", params=params)
        assert answer.status_code == 400 and message in answer.json()["error"]["message"]
    none_done = {"base": "sha256:feed", "dataset": "alice/evalset", "metric": "accuracy"}
    assert client.get("/api/v1/leaderboard", params=none_done).json() == []  # queued and failed jobs rank nowhere


def test_an_evaluate_token_cannot_mint_a_write_token(server, client, tokens):
    answer = client.post("/api/v1/tokens", json={"scope": "write"}, headers=auth(tokens["bot"]))
    assert answer.status_code == 403
    assert client.post("/api/v1/tokens", json={"scope": "read"}, headers=auth(tokens["bot"])).status_code in (200, 201)


def _eval_results_yaml(*entries: dict) -> bytes:
    """``.eval_results`` content as the unmodified ``huggingface_hub`` writes it."""
    import yaml
    from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml

    return yaml.safe_dump(eval_result_entries_to_yaml([EvalResultEntry(**e) for e in entries])).encode()


def test_eval_results_files_declare_evaluations_too(server, client, tokens):
    repo = "alice/" + create_repo(client, tokens["alice"], "alice")
    files = {
        "README.md": card(GOOD),  # model-index: exact_match and accuracy on the test split
        ".eval_results/copy.yaml": _eval_results_yaml(
            {
                "dataset_id": "alice/evalset",
                "task_id": "exact_match",
                "value": 0.8,
                "dataset_revision": "1.0.0",
                "notes": "split validation",
            },
            {"dataset_id": "alice/evalset", "task_id": "perplexity", "value": 3.5, "dataset_revision": "1.0.0"},
        ),
        ".eval_results/hf.yaml": _eval_results_yaml(  # a Hugging Face benchmark: reported only
            {
                "dataset_id": "cais/hle",
                "task_id": "default",
                "value": 20.9,
                "dataset_revision": "5503434ddd753f426f4b38109466949a1217c2bb",
            },
        ),
    }
    assert publish(client, tokens["alice"], repo, "1.0.0", files).status_code == 201
    rows = client.get(f"/api/v1/repos/{repo}/evaluations").json()
    assert sorted((r["dataset"], r["split"], r["metric"], r["reported"], r["status"]) for r in rows) == [
        ("alice/evalset@1.0.0", "test", "accuracy", None, "queued"),
        ("alice/evalset@1.0.0", "test", "exact_match", 0.9, "queued"),
        ("alice/evalset@1.0.0", "test", "perplexity", 3.5, "queued"),
        ("alice/evalset@1.0.0", "validation", "exact_match", 0.8, "queued"),
    ]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"dataset: {id: a/b}\n", ".eval_results/x.yaml must be a list of results ({dataset: {id, task_id}, value})"),
        (b"- {dataset: {id: a/b}, value: 1}\n", ".eval_results/x.yaml[0].dataset needs an id and a task_id"),
        (b"- {dataset: {id: a/b, task_id: exact_match}}\n", ".eval_results/x.yaml[0].value is required"),
        (
            b"- {dataset: {id: a/b, task_id: exact_match, revision: 1.0.0}, value: .nan}\n",
            ".eval_results/x.yaml[0].value must be a finite number or null",
        ),
        (
            b"- &a {dataset: {id: a/b}}\n",
            ".eval_results/x.yaml uses a YAML anchor ('&name'); anchors and aliases are not allowed",
        ),
        (b"- [unclosed\n", ".eval_results/x.yaml is invalid YAML:"),
        (b"\xff\xfe", ".eval_results/x.yaml is not UTF-8 text"),
    ],
)
def test_a_bad_eval_results_file_is_refused_and_nothing_is_stored(server, client, tokens, content, message):
    repo = "alice/" + create_repo(client, tokens["alice"], "alice")
    files = {"README.md": b"# plain\n", ".eval_results/x.yaml": content}
    answer = publish(client, tokens["alice"], repo, "1.0.0", files)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["message"].startswith(message) and "\n" not in answer.json()["error"]["message"]
    assert client.get(f"/api/v1/repos/{repo}/versions").json()["items"] == []
    assert client.get(f"/api/v1/repos/{repo}/evaluations").json() == []


def test_the_same_evaluation_declared_in_both_places_is_refused(server, client, tokens):
    repo = "alice/" + create_repo(client, tokens["alice"], "alice")
    twice = _eval_results_yaml(
        {"dataset_id": "alice/evalset", "task_id": "exact_match", "value": 0.9, "dataset_revision": "1.0.0"}
    )
    answer = publish(client, tokens["alice"], repo, "1.0.0", {"README.md": card(GOOD), ".eval_results/e.yaml": twice})
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == (
        "the same dataset, split and metric is declared twice (in model-index and .eval_results)"
    )
    assert client.get(f"/api/v1/repos/{repo}/versions").json()["items"] == []
