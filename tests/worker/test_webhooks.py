"""Webhooks end to end: a real hub (port 0), a real `hub worker --queue webhooks` process on the embedded
queue (and on Redis), and a real HTTP receiver on loopback that checks every POST's Standard Webhooks
signature with ``standardwebhooks``. Webhooks are made with the unmodified ``huggingface_hub.HfApi``.

Publishing (native, HF commit), yanking, discussions, pull requests and their merge, and a verified
evaluation each reach the receiver signed, in HF's payload shape; a receiver that is down (refusing
connections, then answering 500) gets the event once it is back, retried with backoff; deliveries that
keep failing disable the webhook; private repos are announced to their owners only; and with private
targets no longer allowed, the worker refuses to connect to 127.0.0.1 at delivery time."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi, WebhookPayload
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from tests.support.eval_results import claiming_card
from tests.support.hub_http import auth, create_repo, publish, safetensors_bytes
from tests.support.hub_process import HubProcess, PostgresDatabase
from tests.support.webhook_receiver import Receiver, free_port
from tests.web.web_fixtures import Browser

BACKOFF, ATTEMPTS, DISABLE_AFTER = 0.3, 5, 2
HUB_ENV = {
    "HUB_WEBHOOK_ALLOW_PRIVATE": "1",
    "HUB_WEBHOOK_BACKOFF_SECONDS": str(BACKOFF),
    "HUB_WEBHOOK_MAX_ATTEMPTS": str(ATTEMPTS),
    "HUB_WEBHOOK_DISABLE_AFTER": str(DISABLE_AFTER),
    "HUB_WEBHOOK_TIMEOUT_SECONDS": "5",
}


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


class Stack:
    """A hub, one webhook worker and a receiver; ``api(user)`` is an unmodified ``HfApi`` acting as them."""

    def __init__(
        self, root: Path, env: dict[str, str], queue_url: str | None = None, database_url: str | None = None
    ) -> None:
        self.root = root
        queue = {"HUB_QUEUE_URL": queue_url} if queue_url else {}
        self.hub = HubProcess(root / "hub", database_url=database_url, env={**env, **queue})
        self.hub.start()
        self.queue = ["--queue-url", queue_url] if queue_url else ["--data", str(self.hub.data_dir)]
        self.receiver = Receiver()
        self.worker: subprocess.Popen | None = None
        self.start_worker()

    def start_worker(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        env.update(
            HUB_ENDPOINT=self.hub.url,
            HUB_TOKEN=self.hub.token("hookbot", "evaluate"),
            HUB_CONFIG_DIR=str(self.root / "worker-config"),
            HUB_NO_PROGRESS="1",
        )
        with open(self.root / "worker.log", "ab") as log:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "hub_client.cli", "worker", "--name", "hooks1", "--queue", "webhooks"]
                + self.queue,
                env=env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )

    def api(self, user: str) -> HfApi:
        return HfApi(endpoint=self.hub.url, token=self.hub.token(user))

    def log(self, user: str, webhook_id: str) -> list[dict]:
        answer = httpx.get(
            f"{self.hub.url}/api/settings/webhooks/{webhook_id}/deliveries", headers=auth(self.hub.token(user))
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["deliveries"]

    def wait_log(self, user: str, webhook_id: str, until, timeout: float = 60.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.log(user, webhook_id)
            if until(rows):
                return rows
            time.sleep(0.05)
        raise AssertionError(f"{self.log(user, webhook_id)}\n{self.logs()}")

    def logs(self) -> str:
        worker = (self.root / "worker.log").read_text(errors="replace")[-3000:]
        return f"--- worker\n{worker}\n--- hub\n{self.hub.log_tail()}"

    def close(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            os.killpg(self.worker.pid, signal.SIGTERM)
            try:
                self.worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.worker.pid, signal.SIGKILL)
        self.receiver.stop()
        self.hub.close()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """On PostgreSQL when ``HUB_TEST_DATABASE_URL`` is set (as in CI), else SQLite; the embedded queue."""
    admin_url = os.environ.get("HUB_TEST_DATABASE_URL")
    database = PostgresDatabase(admin_url) if admin_url else None
    made = Stack(tmp_path_factory.mktemp("webhooks"), HUB_ENV, database_url=database.url if database else None)
    yield made
    made.close()
    if database is not None:
        database.drop()


def _push(stack: Stack, user: str, repo: str, version: str, text: str = "# an adapter\n") -> str:
    files = {"README.md": text.encode(), "adapter_model.safetensors": safetensors_bytes()}
    with httpx.Client(base_url=stack.hub.url, timeout=30) as client:
        answer = publish(client, stack.hub.token(user), repo, version, files)
    assert answer.status_code == 201, answer.text
    return answer.json()["commit"]


def _hook(stack: Stack, user: str, path: str, watched: list[dict], secret: str, domains=("repo", "discussion")):
    stack.receiver.secrets[path] = secret.encode()
    return stack.api(user).create_webhook(
        url=stack.receiver.url(path), watched=watched, domains=list(domains), secret=secret
    )


def _scope(scope: str, action: str = "update"):
    return lambda p: p["event"] == {"action": action, "scope": scope}


def test_a_publish_reaches_the_receiver_signed_in_hfs_payload_shape(stack):
    with httpx.Client(base_url=stack.hub.url) as client:
        name = create_repo(client, stack.hub.token("alice"), "alice")
    repo = f"alice/{name}"
    hook = _hook(stack, "alice", "/publish", [{"type": "model", "name": repo}], "publish-secret-1")
    commit = _push(stack, "alice", repo, "1.0.0")

    got = stack.receiver.wait("/publish", what=_scope("repo.content"))[0]
    assert got.verified, got.headers  # standardwebhooks.Webhook(secret).verify accepted it
    assert got.headers["x-webhook-secret"] == "publish-secret-1"  # HF's own check
    with pytest.raises(WebhookVerificationError):
        Webhook(b"another-secret").verify(got.body, got.headers)
    payload = got.payload
    assert payload["webhook"] == {"id": hook.id, "version": 3}
    assert payload["repo"]["name"] == repo and payload["repo"]["type"] == "model"
    assert payload["repo"]["headSha"] == commit and payload["repo"]["private"] is False
    assert payload["repo"]["url"]["web"] == f"{stack.hub.url}/{repo}"
    assert payload["updatedRefs"] == [
        {"ref": "refs/heads/main", "oldSha": None, "newSha": commit},
        {"ref": "refs/tags/1.0.0", "oldSha": None, "newSha": commit},
    ]
    assert payload["version"] == {
        "name": "1.0.0",
        "commit": commit,
        "yanked": False,
        "yankReason": None,
        "deleted": False,
    }
    parsed = WebhookPayload.model_validate(payload)  # huggingface_hub's own model of the payload
    assert parsed.event.scope == "repo.content" and parsed.repo.name == repo

    log = stack.wait_log("alice", hook.id, lambda rows: rows and rows[0]["status"] == "delivered")
    assert got.headers["webhook-id"] == f"msg_{log[0]['id']}"
    assert {k: log[0][k] for k in ("statusCode", "attempts", "error", "repo")} == {
        "statusCode": 200,
        "attempts": 1,
        "error": None,
        "repo": repo,
    }
    assert log[0]["event"] == {"action": "update", "scope": "repo.content"} and log[0]["finishedAt"]

    # an HF commit (main: a new version) and a yank are announced too
    api = stack.api("alice")
    api.upload_file(path_or_fileobj=b"# changed\n", path_in_repo="README.md", repo_id=repo, commit_message="v2")
    second = stack.receiver.wait("/publish", 2, what=_scope("repo.content"))[1].payload
    assert second["updatedRefs"][0]["ref"] == "refs/heads/main" and second["updatedRefs"][0]["oldSha"] == commit
    assert second["repo"]["headSha"] == second["updatedRefs"][0]["newSha"] != commit
    answer = httpx.post(
        f"{stack.hub.url}/api/v1/repos/{repo}/versions/1.0.0/yank",
        json={"reason": "broken"},
        headers=auth(stack.hub.token("alice")),
    )
    assert answer.status_code == 200, answer.text
    yanked = stack.receiver.wait("/publish", what=lambda p: (p.get("version") or {}).get("yanked"))[0]
    assert yanked.verified and yanked.payload["version"]["yankReason"] == "broken"
    assert all(r.verified for r in stack.receiver.at("/publish"))


def test_discussions_and_a_merged_pull_request_are_announced(stack):
    api = stack.api("alice")
    repo = api.create_repo("alice/talky").repo_id
    _push(stack, "alice", repo, "1.0.0")
    hook = _hook(stack, "alice", "/talk", [{"type": "user", "name": "alice"}], "talk-secret", domains=["discussion"])
    bob = stack.api("bob")
    opened = bob.create_discussion(repo, title="Typo in the card", description="see line 2")
    created = stack.receiver.wait("/talk", what=_scope("discussion", "create"))[0].payload
    assert created["discussion"]["num"] == opened.num and created["discussion"]["author"] == {"id": "bob"}
    assert created["discussion"]["isPullRequest"] is False and created["comment"]["content"] == "see line 2"
    bob.comment_discussion(repo, opened.num, "any news?")
    comment = stack.receiver.wait("/talk", what=_scope("discussion.comment", "create"))[0].payload
    assert comment["comment"]["content"] == "any news?" and comment["comment"]["author"] == {"id": "bob"}
    api.change_discussion_status(repo, opened.num, "closed")
    closed = stack.receiver.wait("/talk", what=_scope("discussion"))[0].payload
    assert closed["discussion"]["status"] == "closed"

    pr = bob.upload_file(
        path_or_fileobj=b"# fixed\n", path_in_repo="README.md", repo_id=repo, create_pr=True, commit_message="Fix"
    )
    num = int(pr.pr_num)
    opened_pr = stack.receiver.wait(
        "/talk", what=lambda p: _scope("discussion", "create")(p) and p["discussion"]["isPullRequest"]
    )[0]
    assert opened_pr.payload["discussion"]["changes"]["base"] == "refs/heads/main"
    api.merge_pull_request(repo, num)
    merged = stack.receiver.wait(
        "/talk", what=lambda p: p["event"]["scope"] == "discussion" and p["discussion"]["status"] == "merged"
    )
    assert merged[0].payload["discussion"]["changes"]["mergeCommitId"]
    events = [r.payload["event"]["scope"] for r in stack.receiver.at("/talk")]
    assert "repo.content" not in events  # the webhook's domains: discussion only
    assert all(r.verified for r in stack.receiver.at("/talk"))
    assert all(row["status"] == "delivered" for row in stack.log("alice", hook.id))


def test_a_receiver_that_was_down_gets_the_retried_delivery(stack):
    """Connections refused, then a 500, then up: the delivery arrives, retried with backoff (with the test's
    0.3 s base the window is 0.3 + 0.6 + 1.2 + 2.4 s; the default 5 s base over 8 attempts spans ~10 minutes)."""
    with httpx.Client(base_url=stack.hub.url) as client:
        name = create_repo(client, stack.hub.token("carol"), "carol")
    port = free_port()  # nothing listens there yet
    api = stack.api("carol")
    hook = api.create_webhook(
        url=f"http://127.0.0.1:{port}/later", watched=[{"type": "user", "name": "carol"}], secret="later-secret"
    )
    _push(stack, "carol", f"carol/{name}", "1.0.0")
    first = stack.wait_log("carol", hook.id, lambda rows: rows and rows[0]["attempts"] >= 1 and rows[0]["error"])
    assert first[0]["status"] == "pending" and first[0]["statusCode"] is None and first[0]["nextAttemptAt"]
    assert "Connect" in first[0]["error"], first[0]["error"]
    receiver = Receiver(port)  # back up, answering 500 once and then 200
    try:
        receiver.secrets["/later"] = b"later-secret"
        receiver.answers["/later"] = [500, 200]
        done = stack.wait_log("carol", hook.id, lambda rows: rows[0]["status"] == "delivered")[0]
        got = receiver.at("/later")
    finally:
        receiver.stop()
    assert done["statusCode"] == 200 and 3 <= done["attempts"] <= ATTEMPTS and done["error"] is None
    assert len(got) == 2 and all(r.verified for r in got)
    assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"] == f"msg_{done['id']}"  # one event, retried
    assert got[1].at - got[0].at >= BACKOFF  # waited before retrying


def test_deliveries_that_keep_failing_disable_the_webhook(stack):
    with httpx.Client(base_url=stack.hub.url) as client:
        name = create_repo(client, stack.hub.token("dave"), "dave")
    repo = f"dave/{name}"
    stack.receiver.answers["/down"] = [500]
    hook = _hook(stack, "dave", "/down", [{"type": "model", "name": repo}], "down-secret")
    _push(stack, "dave", repo, "1.0.0")
    _push(stack, "dave", repo, "1.0.1")
    api = stack.api("dave")
    deadline = time.monotonic() + 90
    while not api.get_webhook(hook.id).disabled and time.monotonic() < deadline:
        time.sleep(0.1)
    info = httpx.get(f"{stack.hub.url}/api/settings/webhooks/{hook.id}", headers=auth(stack.hub.token("dave")))
    webhook = info.json()["webhook"]
    assert webhook["disabled"] is True, stack.logs()
    assert webhook["disabledReason"].startswith(f"disabled after {DISABLE_AFTER} failed deliveries in a row")
    assert "HTTP 500" in webhook["disabledReason"]
    log = stack.log("dave", hook.id)
    assert [(row["status"], row["attempts"], row["statusCode"]) for row in log] == [("failed", ATTEMPTS, 500)] * 2
    assert len(stack.receiver.at("/down")) == 2 * ATTEMPTS  # every attempt reached it, none more
    _push(stack, "dave", repo, "1.0.2")  # a disabled webhook records nothing
    time.sleep(1.0)
    assert len(stack.log("dave", hook.id)) == 2
    enabled = api.enable_webhook(hook.id)
    assert enabled.disabled is False
    again = httpx.get(f"{stack.hub.url}/api/settings/webhooks/{hook.id}", headers=auth(stack.hub.token("dave")))
    assert again.json()["webhook"]["consecutiveFailures"] == 0 and again.json()["webhook"]["disabledReason"] is None


def test_a_verified_evaluation_is_announced(stack):
    with httpx.Client(base_url=stack.hub.url, timeout=30) as client:
        name = create_repo(client, stack.hub.token("erin"), "erin")
        repo = f"erin/{name}"
        hook = _hook(stack, "erin", "/evals", [{"type": "model", "name": repo}], "eval-secret", domains=["repo"])
        card = claiming_card("erin/evalset", 0.9).encode()
        assert publish(client, stack.hub.token("erin"), repo, "1.0.0", {"README.md": card}).status_code == 201
        bot = auth(stack.hub.token("evalbot", "evaluate"))
        job = client.get(f"/api/v1/repos/{repo}/evaluations").json()[0]["job_id"]
        assert client.post(f"/api/v1/evaluations/{job}/claim", json={"worker": "w"}, headers=bot).status_code == 200
        answer = client.post(
            f"/api/v1/evaluations/{job}/result",
            json={"worker": "w", "status": "done", "value": 0.75, "n": 8},
            headers=bot,
        )
        assert answer.status_code == 200, answer.text
    got = stack.receiver.wait("/evals", what=_scope("repo.evaluation"))[0]
    assert got.verified
    evaluation = got.payload["evaluation"]
    assert (evaluation["value"], evaluation["reported"], evaluation["verified"]) == (0.75, 0.9, True)
    assert (evaluation["dataset"], evaluation["metric"], evaluation["version"]) == (
        "erin/evalset@1.0.0",
        "exact_match",
        "1.0.0",
    )
    assert stack.log("erin", hook.id)[0]["event"] == {"action": "update", "scope": "repo.evaluation"}


def test_private_repos_are_announced_to_those_who_may_see_them(stack):
    _hook(stack, "frank", "/frank-own", [{"type": "user", "name": "frank"}], "frank-secret", domains=["repo"])
    _hook(stack, "gina", "/gina-watch", [{"type": "user", "name": "frank"}], "gina-secret", domains=["repo"])
    with httpx.Client(base_url=stack.hub.url) as client:
        hidden = create_repo(client, stack.hub.token("frank"), "frank", private=True)
        shown = create_repo(client, stack.hub.token("frank"), "frank")
    _push(stack, "frank", f"frank/{hidden}", "1.0.0")
    _push(stack, "frank", f"frank/{shown}", "1.0.0")
    content = _scope("repo.content")
    own = stack.receiver.wait("/frank-own", 2, what=content)
    assert {r.payload["repo"]["name"] for r in own} == {f"frank/{hidden}", f"frank/{shown}"}
    assert next(r for r in own if r.payload["repo"]["name"] == f"frank/{hidden}").payload["repo"]["private"] is True
    theirs = stack.receiver.wait("/gina-watch", what=content)
    time.sleep(1.0)  # time enough for a wrong delivery to arrive as well
    names = [r.payload["repo"]["name"] for r in stack.receiver.at("/gina-watch") if content(r.payload)]
    assert names == [f"frank/{shown}"] and theirs[0].verified
    assert not any(hidden in str(r.payload) for r in stack.receiver.at("/gina-watch"))


def test_the_owners_settings_page_shows_each_webhooks_delivery_log(stack):
    owner, stranger = Browser(stack.hub.url).sign_up("webby"), Browser(stack.hub.url).sign_up("nosy")
    try:
        api = HfApi(endpoint=stack.hub.url, token=owner.new_token("write"))
        repo = api.create_repo("webby/shown").repo_id
        stack.receiver.secrets["/site"], stack.receiver.answers["/site"] = b"site-secret", [500, 200]
        hook = api.create_webhook(
            url=stack.receiver.url("/site"), watched=[{"type": "model", "name": repo}], secret="site-secret"
        )
        api.upload_file(path_or_fileobj=b"# shown\n", path_in_repo="README.md", repo_id=repo)
        stack.wait_log("webby", hook.id, lambda rows: rows and rows[0]["status"] == "delivered")
        page = owner.get("/settings").text
        assert f"<code>{stack.receiver.url('/site')}</code>" in page and hook.id in page
        assert f"<td>update repo.content</td><td>{repo}</td><td>delivered</td><td>200</td><td>2</td>" in page
        assert stack.receiver.url("/site") not in stranger.get("/settings").text
    finally:
        owner.close()
        stranger.close()


def test_a_loopback_target_is_refused_at_delivery_once_private_targets_are_off(stack):
    """Saved while private targets were allowed; the operator turns them off: the worker checks the address
    again before it connects (as against DNS rebinding) and refuses, with the reason in the log."""
    with httpx.Client(base_url=stack.hub.url) as client:
        name = create_repo(client, stack.hub.token("hank"), "hank")
    hook = _hook(stack, "hank", "/inside", [{"type": "user", "name": "hank"}], "inside-secret", domains=["repo"])
    stack.hub.extra_env["HUB_WEBHOOK_ALLOW_PRIVATE"] = "0"
    stack.hub.restart()
    try:
        _push(stack, "hank", f"hank/{name}", "1.0.0")
        rows = stack.wait_log("hank", hook.id, lambda rows: rows and rows[0]["attempts"] >= 1 and rows[0]["error"])
        assert rows[0]["error"] == (
            "the webhook host 127.0.0.1 resolves to 127.0.0.1, a loopback, private or link-local address; "
            "this hub does not send webhooks there"
        )
        assert rows[0]["statusCode"] is None
        time.sleep(0.5)
        assert stack.receiver.at("/inside") == []
    finally:
        stack.hub.extra_env["HUB_WEBHOOK_ALLOW_PRIVATE"] = "1"
        stack.hub.restart()


def test_deliveries_travel_over_redis_too(tmp_path):
    if not _redis_up():
        pytest.skip("no Redis server at 127.0.0.1:6379")
    made = Stack(tmp_path, HUB_ENV, queue_url=f"redis://127.0.0.1:6379/{random.randint(12, 15)}")  # 8-11: evaluations
    try:
        with httpx.Client(base_url=made.hub.url) as client:
            name = create_repo(client, made.hub.token("ivy"), "ivy")
        _hook(made, "ivy", "/redis", [{"type": "user", "name": "ivy"}], "redis-secret", domains=["repo"])
        commit = _push(made, "ivy", f"ivy/{name}", "1.0.0")
        got = made.receiver.wait("/redis", what=_scope("repo.content"))[0]
        assert got.verified and got.payload["repo"]["headSha"] == commit
    finally:
        made.close()
