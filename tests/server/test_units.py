"""Fast in-process checks of the pure parts: version ranges, card metadata, settings."""

from __future__ import annotations

from datetime import UTC

import pytest

import hub_rules as semver
from hub_server.errors import Unprocessable
from hub_server.services.card import metadata_from_card, parse_front_matter
from hub_server.services.versions import pick
from hub_server.settings import Settings

VERSIONS = ["0.1.0", "0.2.0", "1.0.0", "1.2.0", "1.2.5", "1.3.0-rc.1", "1.3.0", "2.0.0"]


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("^1.2", ["1.2.0", "1.2.5", "1.3.0"]),
        ("~1.2", ["1.2.0", "1.2.5"]),
        (">=1.0,<2", ["1.0.0", "1.2.0", "1.2.5", "1.3.0"]),
        ("1.x", ["1.0.0", "1.2.0", "1.2.5", "1.3.0"]),
        ("1.2.x", ["1.2.0", "1.2.5"]),
        ("^0.1", ["0.1.0"]),
        (">1.2.0", ["1.2.5", "1.3.0", "2.0.0"]),
    ],
)
def test_ranges(spec, expected):
    match = semver.parse_version_range(spec).matches
    assert [v for v in VERSIONS if match(v)] == expected


def test_ordering_puts_prereleases_before_their_release():
    assert sorted(VERSIONS[3:] + VERSIONS[:3], key=semver.sort_key) == VERSIONS
    assert semver.sort_key("1.0.0-rc.2") < semver.sort_key("1.0.0-rc.10") < semver.sort_key("1.0.0")
    with pytest.raises(semver.VersionInvalid):
        semver.check_version("1.0")


class _V:
    def __init__(self, version, yanked=False):
        self.version, self.yanked, self.commit = version, yanked, version.replace(".", "").ljust(40, "0")


def test_pick_skips_yanked_for_main_and_ranges_but_not_exact_pins():
    rows = [_V("2.0.0", yanked=True), _V("1.1.0"), _V("1.0.0")]
    assert pick(rows, "main").version == "1.1.0"
    assert pick(rows, "2.0.0").version == "2.0.0"
    assert pick(rows, rows[2].commit).version == "1.0.0"
    assert pick(rows, ">=1.0").version == "1.1.0"


def test_front_matter_and_metadata():
    card = parse_front_matter(
        "---\nlicense: mit\ntags: lora\nadapter_hub: {method: ia3, base: {id: b, "
        "fingerprint: 'sha256:1'}}\n---\n# body\n"
    )
    meta = metadata_from_card(card)
    assert meta["method"] == "ia3" and meta["base_id"] == "b" and meta["pinned"] and meta["tags"] == ["lora"]
    assert parse_front_matter("# no front matter") == {}
    with pytest.raises(Unprocessable):
        parse_front_matter("---\n[unclosed\n---\n")
    with pytest.raises(Unprocessable):
        parse_front_matter("---\na: 1\n")


def test_settings_read_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("HUB_DATA", str(tmp_path))
    monkeypatch.setenv("HUB_DATABASE_URL", "postgresql://u@h/db")
    settings = Settings()
    assert settings.data == tmp_path
    assert settings.resolved_database_url() == "postgresql+psycopg://u@h/db"
    monkeypatch.delenv("HUB_DATABASE_URL")
    assert Settings().resolved_database_url().startswith("sqlite:///")


def test_stale_upload_sessions_are_removed(tmp_path):
    import asyncio

    from hub_server.app import build_hub
    from hub_server.services import uploads
    from hub_server.services.auth import Principal

    hub = build_hub(Settings(data=tmp_path, upload_ttl_seconds=60))
    who = Principal(user_id=1, name="u", orgs=(), scope="write")
    old = uploads.start(hub, who)["upload_id"]
    fresh = uploads.start(hub, who)["upload_id"]

    async def one_chunk():
        yield b"abc"

    assert asyncio.run(uploads.append(hub, who, fresh, "bytes 0-2/*", one_chunk()))["offset"] == 3
    from datetime import datetime, timedelta

    from sqlalchemy import update

    from hub_server.db.models import UploadSession

    with hub.db.write() as s:  # the session was last touched an hour ago
        s.execute(
            update(UploadSession)
            .where(UploadSession.id == old)
            .values(updated_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert uploads.cleanup_stale(hub) == 1
    assert uploads.status(hub, who, fresh)["offset"] == 3
    with pytest.raises(Exception, match="not found"):
        uploads.status(hub, who, old)
    hub.db.dispose()
