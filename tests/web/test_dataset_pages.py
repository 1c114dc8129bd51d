"""Dataset pages in Debian's Chromium through Playwright: the datasets list, a dataset's page with
its first rows as a table (markup in a cell is shown as text, never run), a CSV preview, and a
Parquet file shown as file info."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from playwright.sync_api import expect

from hub_client.cli.main import main
from tests.support.hub_process import HubProcess

HOSTILE = "<img src=x onerror=\"window.pwned='cell'\"><script>window.pwned='script'</script>"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    hub = HubProcess(tmp_path_factory.mktemp("dataset-site")).start()
    yield hub
    hub.close()


def push(site, tmp_path, folder, repo_id: str) -> None:
    env = {
        "HUB_ENDPOINT": site.url,
        "HUB_TOKEN": site.token("nora"),
        "HUB_NO_PROGRESS": "1",
        "HUB_CACHE": str(tmp_path / "cache"),
    }
    result = CliRunner().invoke(
        main, ["push", str(folder), repo_id, "--kind", "dataset", "--version", "1.0.0"], env=env
    )
    assert result.exit_code == 0, result.output


def test_dataset_page_previews_first_rows_escaped(chromium, site, shot, tmp_path):
    folder = tmp_path / "qa"
    folder.mkdir()
    rows = [{"question": HOSTILE if i == 0 else f"question {i}", "answer": i} for i in range(45)]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (folder / "extra.parquet").write_bytes(b"PAR1" + bytes(16) + b"PAR1")
    (folder / "README.md").write_text("# Questions\n\nForty-five questions.\n")
    push(site, tmp_path, folder, "nora/questions")
    csv_folder = tmp_path / "labels"
    csv_folder.mkdir()
    (csv_folder / "data.csv").write_text("text,label\ngood,1\nbad,0\n")
    push(site, tmp_path, csv_folder, "nora/labels")

    page = chromium.new_page(base_url=site.url)
    page.goto("/datasets")
    expect(page.get_by_role("link", name="nora/questions")).to_be_visible()
    expect(page.get_by_role("link", name="nora/labels")).to_be_visible()
    shot(page, "dataset-01-list")
    page.get_by_role("link", name="nora/questions").click()
    page.wait_for_url("**/nora/questions")
    preview = page.get_by_role("region", name="Dataset preview")
    expect(preview.get_by_role("heading")).to_have_text("Preview of train.jsonl")
    expect(preview.locator("thead th")).to_have_text(["question", "answer"])
    expect(preview.locator("tbody tr")).to_have_count(20)
    expect(preview.locator("tbody tr").first.locator("td").first).to_have_text(HOSTILE)
    expect(preview.locator("tbody tr").nth(19).locator("td")).to_have_text(["question 19", "19"])
    assert page.evaluate("window.pwned") is None
    files = page.get_by_role("region", name="Data files")
    expect(files).to_contain_text("extra.parquet · 24 B · parquet")
    expect(page.get_by_role("article", name="Dataset card")).to_contain_text("Forty-five questions.")
    shot(page, "dataset-02-page")

    page.goto("/datasets/nora/labels")  # the HF-style address
    page.wait_for_url("**/nora/labels")
    table = page.get_by_role("region", name="Dataset preview")
    expect(table.locator("thead th")).to_have_text(["text", "label"])
    expect(table.locator("tbody tr")).to_have_count(2)
    page.close()
