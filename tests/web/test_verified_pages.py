"""Verified evaluations on the site, in Debian's Chromium through Playwright: the base page's leaderboard
per eval set, the eval set's page ranking the adapters verified on it, and the adapter page showing the
verified value beside the card's claim, a claim far from it marked. Results are posted through the real
API with an ``evaluate`` token, the calls a worker makes (claim, then result), so no model is trained."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from hub_client.cli.main import main
from tests.support.eval_results import claiming_card, post_result
from tests.support.hub_process import HubProcess
from tests.web.web_fixtures import FINGERPRINT, adapter_dir


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    hub = HubProcess(tmp_path_factory.mktemp("verified-site")).start()
    yield hub
    hub.close()


def _push(site, tmp_path, folder, repo_id: str, *extra: str) -> None:
    env = {
        "HUB_ENDPOINT": site.url,
        "HUB_TOKEN": site.token("vera"),
        "HUB_NO_PROGRESS": "1",
        "HUB_CACHE": str(tmp_path / "cache"),
    }
    result = CliRunner().invoke(main, ["push", str(folder), repo_id, "--version", "1.0.0", *extra], env=env)
    assert result.exit_code == 0, result.output


def test_verified_results_on_base_dataset_and_adapter_pages(chromium, site, shot, tmp_path):
    data = tmp_path / "copy-eval"
    data.mkdir()
    (data / "test.jsonl").write_text(
        "".join(json.dumps({"prompt": f"w{i}", "completion": f"w{i}"}) + "\n" for i in range(50))
    )
    _push(site, tmp_path, data, "vera/copy-eval", "--kind", "dataset")
    _push(
        site, tmp_path, adapter_dir(tmp_path / "honest", claiming_card("vera/copy-eval", 0.70), seed=1), "vera/honest"
    )
    _push(
        site,
        tmp_path,
        adapter_dir(tmp_path / "boastful", claiming_card("vera/copy-eval", 0.95), seed=2),
        "vera/boastful",
    )
    post_result(site, "vera/honest", 0.72, 50)
    post_result(site, "vera/boastful", 0.10, 50)  # claims 0.95: far beyond 50 rows' sampling error

    page = chromium.new_page(base_url=site.url)
    page.goto(f"/bases/{FINGERPRINT}")
    board = page.get_by_role("region", name="Leaderboard vera/copy-eval")
    rows = board.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td")).to_have_text(["1", "vera/honest v1.0.0", "exact_match", "0.72", "0.7", "50"])
    expect(rows.nth(1).locator("td")).to_have_text(["2", "vera/boastful v1.0.0", "exact_match", "0.1", "0.95", "50"])
    shot(page, "verified-01-base-leaderboard")

    board.get_by_role("link", name="vera/copy-eval").click()
    page.wait_for_url("**/vera/copy-eval")
    ranking = page.get_by_role("region", name="Verified ranking")
    expect(ranking.locator("tbody tr td:nth-child(2)")).to_have_text(["vera/honest v1.0.0", "vera/boastful v1.0.0"])
    shot(page, "verified-02-dataset-ranking")

    ranking.get_by_role("link", name="vera/boastful").click()
    page.wait_for_url("**/vera/boastful/v/1.0.0")
    verified = page.get_by_role("region", name="Verified evaluations")
    expect(verified.locator("tbody tr td").nth(2)).to_have_text("0.1")
    expect(verified.locator("tbody tr td").nth(3)).to_have_text("0.95 claim far from verified")
    shot(page, "verified-03-adapter-far-claim")

    page.goto("/vera/honest")
    verified = page.get_by_role("region", name="Verified evaluations")
    expect(verified.locator("tbody tr td").nth(2)).to_have_text("0.72")
    expect(verified.locator("tbody tr td").nth(3)).to_have_text("0.7")  # within the sampling error: no mark
    expect(verified.locator(".far")).to_have_count(0)
    page.close()
