"""Properties of the one semver grammar and its ranges, shared by server and client."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import hub_rules as rules

SETTINGS = settings(max_examples=300, deadline=None)
NUM = st.integers(min_value=0, max_value=10**6)
IDENT = st.one_of(NUM.map(str), st.from_regex(r"[a-z][0-9a-z-]{0,5}", fullmatch=True))
VERSIONS = st.builds(
    lambda a, b, c, pre: f"{a}.{b}.{c}" + (f"-{'.'.join(pre)}" if pre else ""),
    NUM,
    NUM,
    NUM,
    st.lists(IDENT, max_size=3),
)


def _oracle_key(text: str):
    """semver.org §11, written out independently."""
    core, _, pre = text.partition("-")
    nums = tuple(int(p) for p in core.split("."))
    if not pre:
        return nums + (1, ())
    return nums + (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))


@SETTINGS
@given(st.text(max_size=30))
def test_any_text_is_a_version_or_refused_in_one_line(text):
    if rules.is_version(text):
        assert rules.check_version(text) == text and "\n" not in text
    else:
        with pytest.raises(rules.VersionInvalid) as caught:
            rules.parse_version(text)
        assert "\n" not in str(caught.value) and "expected semantic versioning" in str(caught.value)


@SETTINGS
@given(VERSIONS, VERSIONS)
def test_ordering_is_semver_precedence(a, b):
    assert rules.is_version(a) and rules.is_version(b)
    assert (rules.sort_key(a) < rules.sort_key(b)) == (_oracle_key(a) < _oracle_key(b))


@SETTINGS
@given(st.text(max_size=20), VERSIONS)
def test_ranges_never_crash(spec, version):
    try:
        wanted = rules.parse_version_range(spec)
    except rules.VersionInvalid as exc:
        assert "\n" not in str(exc)
        return
    assert wanted.matches(version) in (True, False)
    assert wanted.matches(spec) in (True, False)


@SETTINGS
@given(NUM.filter(lambda n: n > 0), NUM, NUM, VERSIONS)
def test_caret_range_is_same_major(major, minor, patch, version):
    spec = f"^{major}.{minor}.{patch}"
    v = rules.parse_version(version)
    expected = v.major == major and not v.is_prerelease and (v.minor, v.patch) >= (minor, patch)
    assert rules.matches(version, spec) == expected


@SETTINGS
@given(st.lists(VERSIONS, max_size=8), st.sampled_from(["^1.2", "~0.3", ">=1.0,<2", "1.x", "*", "<=2", ">1.0.0"]))
def test_newest_is_the_greatest_match(versions, spec):
    picked = rules.newest(versions, spec)
    matching = [v for v in versions if rules.matches(v, spec)]
    assert (picked is None) == (not matching)
    if picked is not None:
        assert all(rules.sort_key(v) <= rules.sort_key(picked) for v in matching)
        assert not rules.parse_version(picked).is_prerelease  # none of these ranges names one


@SETTINGS
@given(VERSIONS)
def test_prereleases_only_when_the_range_names_one(version):
    assume(rules.parse_version(version).is_prerelease)
    assert not rules.matches(version, "*")
    assert rules.matches(version, f">={version}")


def test_client_and_server_refuse_the_same_version():
    from hub_client.errors import BadReference
    from hub_client.refs import parse_version as client_parse

    with pytest.raises(BadReference) as client_error:
        client_parse("1.0")
    with pytest.raises(rules.VersionInvalid) as shared_error:
        rules.check_version("1.0")
    assert str(client_error.value) == str(shared_error.value)


def test_hub_push_refuses_a_non_semver_version_with_the_server_message(tmp_path):
    from click.testing import CliRunner

    from hub_client.cli.main import main

    (tmp_path / "a.json").write_text("{}")
    result = CliRunner().invoke(
        main, ["push", str(tmp_path), "acme/x", "--version", "1.0", "--endpoint", "http://127.0.0.1:9"]
    )  # never contacted
    assert result.exit_code == 1
    with pytest.raises(rules.VersionInvalid) as shared_error:
        rules.check_version("1.0")
    assert result.output == f"error: {shared_error.value}\n"
