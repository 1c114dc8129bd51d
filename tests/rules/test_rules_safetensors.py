"""Properties of the server's safetensors header validator: any header bytes give a pass or a
one-line 422, never another exception; well-formed headers pass, gaps and overlaps do not."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hub_server.errors import Unprocessable
from hub_server.services.safetensors_check import DTYPE_BYTES, validate

SETTINGS = settings(max_examples=300, deadline=None)
JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-5, 50), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)),
    max_leaves=25,
)
TENSORS = st.lists(st.tuples(st.sampled_from(sorted(DTYPE_BYTES)), st.lists(st.integers(0, 4), max_size=3)), max_size=5)


def _header(tensors) -> tuple[bytes, int]:
    header, offset = {}, 0
    for i, (dtype, shape) in enumerate(tensors):
        count = 1
        for d in shape:
            count *= d
        header[f"t{i}"] = {
            "dtype": dtype,
            "shape": shape,
            "data_offsets": [offset, offset + count * DTYPE_BYTES[dtype]],
        }
        offset += count * DTYPE_BYTES[dtype]
    text = json.dumps(header).encode()
    return text, offset


def _one_line_or_pass(header: bytes, size: int) -> bool:
    try:
        validate(header, size, "w.safetensors")
    except Unprocessable as exc:
        assert "\n" not in exc.message and exc.message.startswith("w.safetensors: ")
        return False
    return True


@SETTINGS
@given(st.one_of(st.binary(max_size=200), JSONISH.map(lambda v: json.dumps(v).encode())), st.integers(0, 10**4))
def test_any_header_is_a_pass_or_a_422(header, data_size):
    _one_line_or_pass(header, 8 + len(header) + data_size)


@SETTINGS
@given(st.integers(1, 20_000), st.sampled_from(["[", '{"a":']))
def test_deep_nesting_is_a_422(depth, opener):
    header = ('{"w": ' + opener * depth).encode()
    assert not _one_line_or_pass(header, 8 + len(header))


@SETTINGS
@given(TENSORS)
def test_well_formed_headers_pass(tensors):
    header, data = _header(tensors)
    assert _one_line_or_pass(header, 8 + len(header) + data)


@SETTINGS
@given(TENSORS.filter(lambda t: t), st.integers(1, 64))
def test_a_gap_or_a_short_file_is_refused(tensors, extra):
    header, data = _header(tensors)
    assert not _one_line_or_pass(header, 8 + len(header) + data + extra)
