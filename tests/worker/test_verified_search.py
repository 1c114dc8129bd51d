"""``hub search --verified`` and ``--sort verified:<metric>`` (server-side: the search service filters and
orders by the best verified value, with keyset cursors), and ``hub verify --evaluations`` checking each
result's ``verifyToken`` offline against the hub's saved key: a forged token is refused in one line. Results
are posted through the real API as a worker posts them (``tests.support.eval_results``), nothing trained."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from click.testing import CliRunner

from hub_client import BadSignature, HubClient, check_evaluations, check_token
from hub_client.cli.main import main
from tests.support.eval_results import claiming_card, post_result
from tests.support.hub_process import HubProcess
from tests.web.web_fixtures import adapter_dir


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    root = tmp_path_factory.mktemp("verified-search")
    hub = HubProcess(root / "hub").start()
    env = {
        "HUB_ENDPOINT": hub.url,
        "HUB_TOKEN": hub.token("vera"),
        "HUB_NO_PROGRESS": "1",
        "HUB_CACHE": str(root / "cache"),
        "HUB_CONFIG_DIR": str(root / "cfg"),
    }
    data = root / "copy-eval"
    data.mkdir()
    (data / "test.jsonl").write_text(
        "".join(json.dumps({"prompt": f"w{i}", "completion": f"w{i}"}) + "\n" for i in range(40))
    )
    runner = CliRunner()

    def push(folder, repo, *extra):
        result = runner.invoke(main, ["push", str(folder), repo, "--version", "1.0.0", *extra], env=env)
        assert result.exit_code == 0, result.output

    push(data, "vera/copy-eval", "--kind", "dataset")
    for i, (name, claim) in enumerate([("low", 0.9), ("high", 0.5), ("mid", 0.6), ("pending", 0.8)]):
        push(
            adapter_dir(root / name, claiming_card("vera/copy-eval", claim, body=f"# {name} copier\n"), seed=i),
            f"vera/{name}",
        )
    push(adapter_dir(root / "plain", "---\nlicense: mit\n---\n# plain copier\n", seed=9), "vera/plain")
    for name, value in [("low", 0.2), ("high", 0.85), ("mid", 0.6)]:
        post_result(hub, f"vera/{name}", value, 40)
    hub.env = env
    yield hub
    hub.close()


def _ids(hub, **params) -> list[str]:
    r = httpx.get(f"{hub.url}/api/v1/search", params=params)
    assert r.status_code == 200, r.text
    return [item["id"] for item in r.json()["items"]]


def test_search_keeps_verified_and_sorts_by_verified_value(hub):
    everyone = set(_ids(hub, kind="adapter", limit=50))
    assert {"vera/pending", "vera/plain", "vera/low"} <= everyone
    assert sorted(_ids(hub, verified="true")) == ["vera/high", "vera/low", "vera/mid"]  # queued/none: left out
    assert _ids(hub, sort="verified:exact_match") == ["vera/high", "vera/mid", "vera/low"]
    assert _ids(hub, sort="verified:exact_match", q="mid") == ["vera/mid"]
    # keyset pages in verified order: one repo a page, no repeats
    seen, cursor = [], None
    while True:
        body = httpx.get(
            f"{hub.url}/api/v1/search",
            params={"sort": "verified:exact_match", "limit": 1, **({"cursor": cursor} if cursor else {})},
        ).json()
        seen += [(i["id"], i["verified"]["value"]) for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [("vera/high", 0.85), ("vera/mid", 0.6), ("vera/low", 0.2)]
    assert _ids(hub, sort="verified:perplexity") == []  # nobody measured that


@pytest.mark.parametrize(
    "params, message",
    [
        ({"sort": "verified:bleu"}, "invalid sort 'verified:bleu': verified sorts are verified:exact_match"),
        ({"sort": "verified:exact_match", "cursor": base64.urlsafe_b64encode(b'["x", 1]').decode()}, "invalid cursor"),
    ],
)
def test_bad_verified_sort_is_a_one_line_400(hub, params, message):
    r = httpx.get(f"{hub.url}/api/v1/search", params=params)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]["message"] if "error" in r.json() else message in r.text


def test_cli_search_verified_sorted(hub):
    result = CliRunner().invoke(main, ["search", "--verified", "--sort", "verified:exact_match"], env=hub.env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "VERIFIED exact_match" in lines[0]
    assert [line.split()[0] for line in lines[1:]] == ["vera/high", "vera/mid", "vera/low"], result.output
    assert [line.split()[1] for line in lines[1:]] == ["0.85", "0.6", "0.2"]


def test_verify_checks_tokens_offline_and_refuses_a_forgery(hub, tmp_path, monkeypatch):
    for key, value in hub.env.items():
        monkeypatch.setenv(key, value)
    with HubClient() as client:
        (tmp_path / "hub-key.pem").write_text(client.evaluation_key())
        rows = [r for r in client.evaluations("vera/high") if r["version"] == "1.0.0"]
    (tmp_path / "evals.json").write_text(json.dumps(rows))
    hub.kill()  # offline from here on: the saved key and the saved results are all it takes
    pem = (tmp_path / "hub-key.pem").read_text()
    assert check_token(rows[0]["verify_token"], pem)["value"] == 0.85
    assert [r["value"] for r in check_evaluations(rows, pem)] == [0.85]

    args = ["verify", "--evaluations", str(tmp_path / "evals.json"), "--hub-key", str(tmp_path / "hub-key.pem")]
    ok = CliRunner().invoke(main, args)
    assert ok.exit_code == 0, ok.output
    assert ok.output == (
        "verified vera/high@1.0.0 vera/copy-eval@1.0.0 test exact_match = 0.85: signed by the hub's evaluator key\n"
    )

    # a claim edited to look better than measured: the signed value no longer matches
    (tmp_path / "edited.json").write_text(json.dumps([{**rows[0], "value": 0.99}]))
    edited = CliRunner().invoke(main, [*args[:1], "--evaluations", str(tmp_path / "edited.json"), *args[3:]])
    assert edited.exit_code != 0
    assert edited.output.strip().splitlines() == [
        "error: vera/high@1.0.0 vera/copy-eval@1.0.0 exact_match: the signed value is 0.85, not 0.99"
    ]

    # a token signed with another key (a forger's): refused in one line
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    header, body, _ = rows[0]["verify_token"].split(".")
    claims = {**json.loads(base64.urlsafe_b64decode(body + "==")), "value": 0.99}
    forged_body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    signature = Ed25519PrivateKey.generate().sign(f"{header}.{forged_body}".encode())
    forged = f"{header}.{forged_body}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    (tmp_path / "forged.json").write_text(json.dumps([{**rows[0], "value": 0.99, "verify_token": forged}]))
    refused = CliRunner().invoke(main, [*args[:1], "--evaluations", str(tmp_path / "forged.json"), *args[3:]])
    assert refused.exit_code != 0
    assert refused.output.strip().splitlines() == [
        "error: verifyToken does not verify against the hub key: not signed by this hub"
    ]
    with pytest.raises(BadSignature, match="^verifyToken is not a compact EdDSA JWS$"):
        check_token("not.a-token", pem)
