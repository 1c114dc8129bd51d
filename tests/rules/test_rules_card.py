"""Properties of the one card front-matter loader: a mapping or CardInvalid (one line), never
a crash, never an output larger than a small multiple of its input (no alias expansion)."""

from __future__ import annotations

import json

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from hub_rules import CardInvalid, parse_card

SETTINGS = settings(max_examples=200, deadline=None)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), st.text(max_size=10))
KEYS = st.text(alphabet="abcdefghij_", min_size=1, max_size=6)
DATA = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=20,
)
YAMLISH = st.lists(
    st.sampled_from(
        [
            "a:",
            " b",
            "&x",
            "*x",
            "[",
            "]",
            "{",
            "}",
            "- ",
            "\n",
            ": ",
            "<<:",
            "!!binary",
            "'",
            '"',
            "---",
            "1e9999",
            "2001-13-45",
            "?",
            "|",
            "#",
        ]
    ),
    max_size=30,
).map("".join)


@SETTINGS
@given(st.one_of(st.text(max_size=200), YAMLISH))
def test_any_card_text_is_a_mapping_or_one_line_refusal(text):
    card = "---\n" + text + "\n---\nbody"
    try:
        front, body = parse_card(card)
    except CardInvalid as exc:
        assert "\n" not in str(exc)
        return
    assert isinstance(front, dict) and card.endswith(body) and body.endswith("body")
    assert len(json.dumps(front, default=str)) <= 20 * len(card) + 100


@SETTINGS
@given(st.dictionaries(KEYS, DATA, max_size=5))
def test_plain_data_round_trips(data):
    text = "---\n" + yaml.safe_dump(data, sort_keys=False) + "---\n# body\n"
    assert parse_card(text) == (data, "# body\n")


@SETTINGS
@given(st.integers(1, 6), st.integers(2, 9))
def test_aliases_are_always_refused(levels, fan):
    lines = ["a0: &a0 [x]"] + [f"a{i}: &a{i} [{', '.join(['*a' + str(i - 1)] * fan)}]" for i in range(1, levels + 1)]
    try:
        parse_card("---\n" + "\n".join(lines) + "\n---\n")
    except CardInvalid as exc:
        assert "anchors and aliases are not allowed" in str(exc)
    else:
        raise AssertionError("an anchor was accepted")


@SETTINGS
@given(st.integers(33, 5000))
def test_depth_is_bounded(depth):
    try:
        parse_card("---\nk: " + "[" * depth + "]" * depth + "\n---\n")
    except CardInvalid as exc:
        assert "nested deeper" in str(exc)
    else:
        raise AssertionError("a deep document was accepted")


def test_front_matter_may_follow_blank_lines_as_on_the_hf_hub():
    assert parse_card("\n\n---\nlicense: mit\n---\nbody") == ({"license": "mit"}, "body")
    assert parse_card("text first\n---\nlicense: mit\n---\n") == ({}, "text first\n---\nlicense: mit\n---\n")
