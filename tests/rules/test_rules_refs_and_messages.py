"""The small rules the mutation run found without a test of their own in tests/rules: which references are
ranges or commit ids, the commit-message bound, and the front-matter reader the server indexes cards with."""

from __future__ import annotations

import pytest

from hub_rules import (
    MAX_MESSAGE_CHARS,
    CardInvalid,
    MessageTooLong,
    check_message,
    is_commit,
    is_range,
    load_front_matter,
)

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize("ref", ["^1.2", "~1.2.3", "1.x", "1.2", ">=1,<2", "^garbage", "1.X.0"])
def test_ranges_are_ranges(ref):
    assert is_range(ref)  # an unparsable one that looks like a range is still one (refused as a bad range)


@pytest.mark.parametrize("ref", ["1.2.3", "1.2.3-rc.1", "main", "latest", "HEAD", COMMIT, "feature-branch", "", 12])
def test_versions_main_commits_and_names_are_not_ranges(ref):
    assert not is_range(ref)


def test_a_commit_id_is_forty_lower_case_hex_digits():
    assert is_commit(COMMIT)
    for ref in (COMMIT.upper(), COMMIT[:-1], COMMIT + "0", COMMIT + "\n", "g" * 40, None, 40):
        assert not is_commit(ref), ref


def test_a_message_up_to_the_limit_is_kept_whole_and_one_more_character_is_refused_in_one_line():
    assert check_message("x" * MAX_MESSAGE_CHARS) == "x" * MAX_MESSAGE_CHARS
    with pytest.raises(MessageTooLong) as info:
        check_message("x" * (MAX_MESSAGE_CHARS + 1))
    assert str(info.value) == (
        f"the commit message is {MAX_MESSAGE_CHARS + 1} characters; the limit is {MAX_MESSAGE_CHARS}"
    )


def test_front_matter_is_the_mapping_or_nothing_and_its_bounds_are_passed_on():
    assert load_front_matter("---\nlicense: mit\ntags: [a]\n---\n# body\n") == {"license": "mit", "tags": ["a"]}
    assert load_front_matter("# no front matter\n") == {}
    assert load_front_matter("---\n---\n# empty\n") == {}
    with pytest.raises(CardInvalid):
        load_front_matter("---\nlicense: " + "m" * 200 + "\n---\n", max_bytes=64)
    with pytest.raises(CardInvalid):
        load_front_matter("---\na: {b: {c: 1}}\n---\n", max_depth=2)
