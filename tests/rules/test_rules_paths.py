"""Properties of the one path rule: never a crash, never a path that could leave its folder."""

from __future__ import annotations

import os
import posixpath
import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from hub_rules import PathRefused, check_manifest_paths, check_path

SETTINGS = settings(max_examples=300, deadline=None)
SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Zl", "Zp"), blacklist_characters="/\\"),
    min_size=1,
    max_size=12,
)
SAFE_PATH = (
    st.lists(SEGMENT.filter(lambda s: s not in (".", "..")), min_size=1, max_size=5)
    .map("/".join)
    .filter(lambda p: p[1:2] != ":")
)
HOSTILE = st.one_of(
    st.text(max_size=40),
    st.lists(
        st.sampled_from(["..", ".", "", "a", "b.json", "\\", "C:", "\n", "\r", "\x00", "\u202e", "~"]),
        min_size=1,
        max_size=6,
    ).map("/".join),
)


@SETTINGS
@given(HOSTILE)
def test_accepted_paths_stay_inside_their_folder(path):
    try:
        checked = check_path(path)
    except PathRefused as exc:
        assert "\n" not in str(exc)
        return
    assert checked == path
    assert not path.startswith("/") and "\\" not in path
    assert posixpath.normpath(path) == path and ".." not in path.split("/")
    assert not any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") for ch in path)  # no \n, \r, NUL
    root = "/srv/cache/snapshot"
    assert os.path.normpath(os.path.join(root, path)).startswith(root + "/")


@SETTINGS
@given(SAFE_PATH)
def test_ordinary_paths_are_accepted(path):
    assert check_path(path) == path


@SETTINGS
@given(st.lists(SAFE_PATH, max_size=8))
def test_manifest_rule_matches_its_definition(paths):
    clash = len(set(paths)) != len(paths) or any(other.startswith(p + "/") for p in paths for other in paths)
    try:
        check_manifest_paths(paths)
    except PathRefused:
        assert clash
    else:
        assert not clash
