"""Properties of the one HTTP Range parser (RFC 9110 §14): a span inside the file, ``None``
(serve it all) or RangeNotSatisfiable — never anything else, whatever the header says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hub_rules import ByteRange, RangeNotSatisfiable, parse_content_range, parse_range

SETTINGS = settings(max_examples=400, deadline=None)
SIZES = st.integers(min_value=0, max_value=10**6)
NUMBERS = st.one_of(st.integers(min_value=0, max_value=2 * 10**6).map(str), st.just(""), st.just("9" * 40))
HEADERS = st.one_of(
    st.text(max_size=30),
    st.builds(lambda a, b: f"bytes={a}-{b}", NUMBERS, NUMBERS),
    st.builds(lambda a, b, c, d: f"bytes={a}-{b},{c}-{d}", NUMBERS, NUMBERS, NUMBERS, NUMBERS),
)


@SETTINGS
@given(HEADERS, SIZES)
def test_never_outside_the_file(header, size):
    try:
        span = parse_range(header, size)
    except RangeNotSatisfiable as exc:
        assert exc.size == size
        return
    assert span is None or 0 <= span.start <= span.end < size


@SETTINGS
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 10**6))
def test_explicit_ranges_follow_the_rfc(start, end, size):
    header = f"bytes={start}-{end}"
    if end < start:
        assert parse_range(header, size) is None  # invalid spec: ignored, the whole body is served
    elif start >= size:
        try:
            parse_range(header, size)
            raise AssertionError("expected 416")
        except RangeNotSatisfiable:
            pass
    else:
        assert parse_range(header, size) == ByteRange(start, min(end, size - 1))


@SETTINGS
@given(st.integers(0, 10**6), st.integers(1, 10**6))
def test_suffix_ranges(suffix, size):
    if suffix == 0:
        try:
            parse_range(f"bytes=-{suffix}", size)
            raise AssertionError("expected 416")
        except RangeNotSatisfiable:
            pass
    else:
        assert parse_range(f"bytes=-{suffix}", size) == ByteRange(max(0, size - suffix), size - 1)


@SETTINGS
@given(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(1, 10**6))
def test_content_range_round_trip(start, length, size):
    span = ByteRange(start, start + length)
    parsed = parse_content_range(span.content_range(size))
    assert parsed == ((start, start + length, size) if start + length < size else None)


@SETTINGS
@given(st.text(max_size=40))
def test_content_range_never_crashes(header):
    parsed = parse_content_range(header)
    assert parsed is None or parsed[0] <= parsed[1]
