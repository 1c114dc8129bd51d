"""Errors that name what exists and what to do next, and a push that asks before it sends bytes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from hub_client import Conflict, HubClient
from hub_client.cli.main import main
from hub_client.not_found import _missing_version, nearest_version

pytestmark = pytest.mark.filterwarnings("ignore::hub_client.HubWarning")  # the test folders are unpinned on purpose


@pytest.fixture
def hub(hub_server, tmp_path):
    token = hub_server.token("alice", "write")
    env = {
        "HUB_ENDPOINT": hub_server.url,
        "HUB_TOKEN": token,
        "HUB_CACHE": str(tmp_path / "cache"),
        "HUB_CONFIG_DIR": str(tmp_path / "config"),
        "HUB_NO_PROGRESS": "1",
    }
    client = HubClient(hub_server.url, token, cache_dir=tmp_path / "client-cache", progress=False)
    yield hub_server, client, env
    client.close()


def _dir(root, name: str, content: str):
    folder = root / name
    folder.mkdir()
    (folder / "notes.txt").write_text(content)
    return folder


def _run(env: dict[str, str], *args: str):
    return CliRunner().invoke(main, list(args), env=env)


def test_a_missing_version_lists_the_versions_newest_first_and_the_nearest(hub, tmp_path):
    _, client, env = hub
    for version in ("1.0.0", "1.2.0", "1.1.0"):
        client.push(_dir(tmp_path, version, version), "alice/tone", version)
    result = _run(env, "pull", "alice/tone@9.9.9")
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "error: no version matches '9.9.9'; versions (newest first): 1.2.0, 1.1.0, 1.0.0; "
        "nearest: 1.2.0 (hub pull alice/tone@1.2.0)"
    )
    below = _run(env, "info", "alice/tone@1.1.5")
    assert "nearest: 1.1.0" in below.stderr and below.exit_code == 1
    assert "nearest: 1.2.0" in _run(env, "pull", "alice/tone@^2").stderr  # a range: the newest


def test_a_missing_repo_names_the_closest_ones_of_its_namespace(hub, tmp_path):
    _, client, env = hub
    client.push(_dir(tmp_path, "a", "a"), "alice/tone", "1.0.0")
    client.push(_dir(tmp_path, "b", "b"), "alice/sentiment", "1.0.0")
    result = _run(env, "info", "alice/tones")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: repository alice/tones not found; did you mean alice/tone? (alice has: sentiment, tone)"
    )
    nobody = _run(env, "versions", "carol/x")
    assert nobody.stderr.strip() == (
        "error: repository carol/x not found: carol has no repositories you can see (hub search lists what there is)"
    )


def test_a_search_that_finds_nothing_says_which_filters_and_how_to_widen(hub, tmp_path):
    _, client, env = hub
    empty = _run(env, "search")
    assert empty.exit_code == 0 and empty.stdout.strip() == "(none)"
    assert (
        empty.stderr.strip()
        == "no repository you can see on this hub (push one with: hub push DIR NS/NAME --version 1.0.0)"
    )
    client.push(_dir(tmp_path, "a", "a"), "alice/tone", "1.0.0")
    narrow = _run(env, "search", "tone", "--method", "ia3")
    assert narrow.stderr.strip() == (
        "no repository matches text='tone', method='ia3'; drop a filter, or run "
        "`hub search` alone to list every repository"
    )
    assert "alice/tone" in _run(env, "search", "tone").stdout and _run(env, "search", "tone").stderr == ""


def test_the_list_is_bounded_and_an_empty_repo_says_how_to_publish():
    many = [f"1.{i}.0" for i in range(25)]
    line = _missing_version("alice/tone", "3.0.0", many, "no version matches '3.0.0'")
    assert "1.24.0, 1.23.0" in line and "and 15 more (hub versions alice/tone)" in line and "1.5.0" not in line
    assert "nearest: 1.24.0" in line
    assert "has no versions yet (publish one: hub push DIR alice/tone --version 1.0.0)" in _missing_version(
        "alice/tone", "1.0.0", [], "no version matches '1.0.0'"
    )
    assert nearest_version(["2.0.0", "1.0.0"], "0.1.0") == "1.0.0"  # nothing below: the oldest above


def _stored(server) -> tuple[set[str], int]:
    engine = create_engine(server.settings.resolved_database_url())
    try:
        with engine.connect() as conn:
            blobs = {row[0] for row in conn.execute(text("SELECT digest FROM blobs"))}
            sessions = conn.execute(text("SELECT count(*) FROM upload_sessions")).scalar_one()
    finally:
        engine.dispose()
    return blobs, sessions


def test_a_conflicting_push_is_refused_before_any_blob_is_uploaded(hub, tmp_path):
    server, client, env = hub
    first = client.push(_dir(tmp_path, "one", "first content"), "alice/tone", "1.0.0")
    assert first.uploaded_blobs == 1
    before = _stored(server)
    other = _dir(tmp_path, "two", "other content, other digest " * 1000)
    with pytest.raises(Conflict, match="version 1.0.0 already exists with different content"):
        client.push(other, "alice/tone", "1.0.0")
    assert _stored(server) == before  # no blob stored, no upload session opened
    result = _run(env, "push", str(other), "alice/tone", "--version", "1.0.0")
    assert result.exit_code == 1 and "already exists with different content" in result.stderr
    assert _stored(server) == before
    again = client.push(_dir(tmp_path, "three", "first content"), "alice/tone", "1.0.0")
    assert not again.created and again.uploaded_blobs == 0  # the identical version: nothing travels
