"""The shared name, digest, commit-id and bearer rules, and that the client, the server and the
site decide with them (one answer on every side, ``..`` included)."""

from __future__ import annotations

import hashlib
import json

import pytest

import hub_rules as rules
from hub_client.errors import BadReference
from hub_client.manifest import ManifestEntry
from hub_client.manifest import commit_id as client_commit_id
from hub_client.refs import parse_repo_id
from hub_client.trust import check_digest as client_check_digest
from hub_server.errors import Invalid, Unauthorized
from hub_server.limits.rates import caller_key
from hub_server.services.auth import bearer
from hub_server.services.names import check_name as server_check_name
from hub_server.services.publish import FileEntry
from hub_server.services.publish import commit_id as server_commit_id
from hub_server.storage.base import check_digest as server_check_digest
from hub_server.web.markdown import strip_front_matter

GOOD_NAMES = ["a", "A1", "smol-lm.2_x", "x" * 96, "a.b", "a-"]
BAD_NAMES = ["", ".a", "-a", "_a", "a..b", "..", "a/b", "x" * 97, "a b", "ä", "a\n", None, 5, "a\x00"]


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_good_names_pass_everywhere(name):
    assert rules.is_name(name) and rules.check_name(name) == name
    assert server_check_name(name) == name
    assert parse_repo_id(f"{name}/{name}") == (name, name)


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_everywhere_with_one_line(name):
    assert not rules.is_name(name)
    with pytest.raises(rules.NameInvalid) as caught:
        rules.check_name(name, "user name")
    assert "\n" not in str(caught.value) and "invalid user name" in str(caught.value)
    with pytest.raises(Invalid):
        server_check_name(name)
    if isinstance(name, str):
        with pytest.raises(BadReference):
            parse_repo_id(f"ok/{name}")
        assert not rules.is_repo_id(f"ok/{name}") and not rules.is_repo_id(f"{name}/ok")


@pytest.mark.parametrize("text", ["/evil.example", "//evil.example", "a/b/c", "a", "a/", "/b", "a/../b", "a/b\n"])
def test_repo_ids_need_exactly_two_valid_parts(text):
    assert not rules.is_repo_id(text)
    with pytest.raises(rules.NameInvalid):
        rules.split_repo_id(text)


def test_digest_rule_is_one_on_both_sides():
    good = "sha256:" + "0a" * 32
    assert rules.check_digest(good) == good == server_check_digest(good) == client_check_digest(good)
    for bad in [
        "sha256:" + "0A" * 32,
        "sha256:" + "0" * 63,
        "sha256:" + "0" * 65,
        "md5:" + "0" * 64,
        "sha256:" + "0" * 63 + "\n",
        None,
        7,
    ]:
        assert not rules.is_digest(bad)
        with pytest.raises(rules.DigestInvalid):
            rules.check_digest(bad)
        with pytest.raises(ValueError):
            client_check_digest(bad)
        with pytest.raises(Invalid):
            server_check_digest(bad)


def test_commit_id_is_the_documented_hash_and_the_same_on_both_sides():
    files = [("b.txt", "sha256:" + "1" * 64, 3), ("a/é.txt", "sha256:" + "2" * 64, 0)]
    rows = sorted([p, d, s] for p, d, s in files)
    expected = hashlib.sha256(json.dumps(rows, separators=(",", ":"), ensure_ascii=False).encode()).hexdigest()[:40]
    assert rules.commit_id(files) == expected
    assert rules.commit_id(reversed(files)) == expected  # order of listing does not matter
    assert client_commit_id([ManifestEntry(p, s, d) for p, d, s in files]) == expected
    assert server_commit_id([FileEntry(p, s, d) for p, d, s in files]) == expected
    assert rules.commit_id(files[:1]) != expected


@pytest.mark.parametrize(
    "header,token", [(None, None), ("", None), ("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("BEARER abc", "abc")]
)
def test_bearer_parsing_agrees_between_auth_and_limiter(header, token):
    assert rules.parse_bearer(header) == token == bearer(header)
    key = caller_key(header, "10.0.0.1")
    assert key.startswith("token:") if token else key == "addr:10.0.0.1"


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer   ", "Token abc", "Bearer a b"])
def test_other_authorization_headers_are_refused_by_both(header):
    with pytest.raises(rules.BearerInvalid):
        rules.parse_bearer(header)
    with pytest.raises(Unauthorized):
        bearer(header)
    assert caller_key(header, "10.0.0.1") == "addr:10.0.0.1"  # never a token bucket for a non-token


@pytest.mark.parametrize(
    "text,body",
    [
        ("---\na: 1\n---\n# Title\n", "# Title\n"),
        ("\ufeff---\na: 1\n...\nbody", "body"),
        ("# no front matter\n---\n", "# no front matter\n---\n"),
        ("---\r\na: 1\r\n---\r\nbody", "body"),
    ],
)
def test_the_site_strips_front_matter_with_the_shared_split(text, body):
    assert strip_front_matter(text) == body == rules.split_card(text)[1]


def test_an_unclosed_front_matter_is_shown_as_written_on_the_site():
    with pytest.raises(rules.CardInvalid):
        rules.split_card("---\na: 1\n# never closed")
    assert strip_front_matter("---\na: 1\n# never closed") == "---\na: 1\n# never closed"
