"""Version ranges and repo references, resolved offline exactly as the server would online."""

import pytest

from hub_client.errors import BadReference
from hub_client.refs import is_range, matches, parse_repo_id, parse_repo_ref, pick

VERSIONS = ["0.9.0", "1.0.0", "1.2.0", "1.2.5", "1.3.0", "2.0.0", "2.1.0-rc.1"]


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("^1.2", "1.3.0"),
        ("~1.2", "1.2.5"),
        (">=1.0,<2", "1.3.0"),
        ("1.x", "1.3.0"),
        ("1.2.x", "1.2.5"),
        ("^0.9", "0.9.0"),
        ("==1.2.0", "1.2.0"),
        (">=3", None),
        (None, "2.1.0-rc.1"),  # main is the newest version, as the server resolves it
        ("main", "2.1.0-rc.1"),
    ],
)
def test_pick_newest_matching(spec, expected):
    assert pick(VERSIONS, spec) == expected


def test_pick_skips_yanked():
    assert pick(VERSIONS, "^1.2", skip={"1.3.0"}) == "1.2.5"
    assert pick(VERSIONS, None, skip={"2.1.0-rc.1", "2.0.0"}) == "1.3.0"


def test_prerelease_only_when_nothing_else_matches():
    assert pick(VERSIONS, ">=2.1.0-rc.1") == "2.1.0-rc.1"


@pytest.mark.parametrize(
    "ref, expected",
    [
        ("^1.2", True),
        (">=1.0,<2", True),
        ("1.x", True),
        ("1.2.0", False),
        ("main", False),
        ("a" * 40, False),
        ("1.0.0-next", False),
        ("1.2.X", True),
    ],
)
def test_is_range(ref, expected):
    assert is_range(ref) is expected


def test_matches_rejects_garbage_range():
    with pytest.raises(BadReference):
        matches("1.0.0", "^one")


def test_repo_refs():
    assert parse_repo_ref("acme/lora@^1.2").ref == "^1.2"
    assert parse_repo_ref("acme/lora").ref is None
    assert parse_repo_id("acme/lora") == ("acme", "lora")
    for bad in ("acme", "a/b/c", "../x", "acme/", "acme/lo ra"):
        with pytest.raises(BadReference):
            parse_repo_id(bad)
    with pytest.raises(BadReference):
        parse_repo_ref("acme/lora@")
