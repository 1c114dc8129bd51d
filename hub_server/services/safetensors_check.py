"""Pure-Python safetensors header validation, so a published weights file is known to be
well formed (header size bounded by a setting, deep nesting refused with a 422, known
dtypes, every tensor's span matching shape × dtype, no overlaps, no gaps, data fully
covered) without importing torch or safetensors."""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterable

from ..errors import Unprocessable

DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
}


MAX_DEPTH = 3  # object → tensor entry → shape / offsets list
MAX_INT_DIGITS = 19  # every size, offset and dimension is below 2**63, as in the safetensors format
MAX_DIMS = 64


class _BigInteger(ValueError):
    pass


def _bounded_int(digits: str) -> int:
    """JSON integers are read only up to 19 digits: larger ones are refused before any arithmetic."""
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise _BigInteger(digits[:20])
    return int(digits)


def _depth(value) -> int:
    """Nesting depth of parsed JSON, walked with an explicit stack (no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if level > MAX_DEPTH:
                return level
            stack.extend((v, level + 1) for v in (item.values() if isinstance(item, dict) else item))
    return deepest


_LONG_DIGITS = re.compile(rb"[0-9]{%d}" % (MAX_INT_DIGITS + 1))


def read_header(chunks: Iterable[bytes], length: int) -> bytearray:
    """The header's bytes gathered into one buffer as they are read (never a list of chunks plus
    their joined copy: an 8 MiB header costs 8 MiB here)."""
    buffer, filled = bytearray(length), 0
    for chunk in chunks:
        buffer[filled : filled + len(chunk)] = chunk
        filled += len(chunk)
    del buffer[filled:]
    return buffer


def _long_integer_outside_strings(header: bytes | bytearray) -> bool:
    """True when a run of more than 19 digits stands outside every JSON string: found by a C-level
    regex scan and a quote count, before the header is decoded or parsed. (With backslashes in the
    header, quotes may be escaped: the parser's own bound decides then.)"""
    found = _LONG_DIGITS.search(header)
    if found is None or b"\\" in header:
        return False
    return header.count(b'"', 0, found.start()) % 2 == 0


def header_length(prefix: bytes, file_size: int, max_header: int, path: str) -> int:
    if len(prefix) < 8 or file_size < 8:
        raise Unprocessable(f"{path}: not a safetensors file (shorter than its 8-byte header length)")
    (length,) = struct.unpack("<Q", prefix[:8])
    if length > max_header:
        raise Unprocessable(f"{path}: safetensors header of {length} bytes exceeds the {max_header}-byte limit")
    if 8 + length > file_size:
        raise Unprocessable(f"{path}: truncated safetensors file (header claims {length} bytes)")
    return length


def validate(header_bytes: bytes | bytearray, file_size: int, path: str) -> None:
    """``header_bytes`` is the JSON header (without the 8-byte length). Refusals that need no parse
    (an integer over 19 digits) come first, so a hostile header costs one scan of its bytes."""
    if _long_integer_outside_strings(header_bytes):
        raise Unprocessable(f"{path}: safetensors header holds an integer over {MAX_INT_DIGITS} digits")
    try:
        header = json.loads(header_bytes.decode("utf-8"), parse_int=_bounded_int)
    except _BigInteger:
        raise Unprocessable(f"{path}: safetensors header holds an integer over {MAX_INT_DIGITS} digits") from None
    except (UnicodeDecodeError, ValueError):
        raise Unprocessable(f"{path}: safetensors header is not valid JSON") from None
    except RecursionError:  # json's own depth guard; a valid header is three levels deep
        raise Unprocessable(f"{path}: safetensors header is nested too deeply (a valid one has 3 levels)") from None
    if not isinstance(header, dict):
        raise Unprocessable(f"{path}: safetensors header must be a JSON object")
    if _depth(header) > MAX_DEPTH:
        raise Unprocessable(f"{path}: safetensors header is nested deeper than {MAX_DEPTH} levels")
    data_size = file_size - 8 - len(header_bytes)
    spans = []
    for name, info in header.items():
        if name == "__metadata__":
            if not isinstance(info, dict) or not all(isinstance(v, str) for v in info.values()):
                raise Unprocessable(f"{path}: __metadata__ must map strings to strings")
            continue
        spans.append(_span(name, info, path, data_size))
    spans.sort()
    cursor = 0
    for start, end, name in spans:
        if start < cursor:
            raise Unprocessable(f"{path}: tensor {name!r} overlaps the previous tensor")
        if start > cursor:
            raise Unprocessable(f"{path}: gap of {start - cursor} bytes before tensor {name!r}")
        cursor = end
    if cursor != data_size:
        raise Unprocessable(f"{path}: tensors cover {cursor} bytes but the data section holds {data_size}")


def _span(name: str, info, path: str, data_size: int) -> tuple[int, int, str]:
    """The tensor's byte span; the shape's product is bounded by the data section as it is
    multiplied out (never more than ``MAX_DIMS`` small factors), so no header costs more than a
    linear pass."""
    if not isinstance(info, dict):
        raise Unprocessable(f"{path}: entry {name[:100]!r} is not an object")
    name = name[:200]
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPE_BYTES:
        raise Unprocessable(f"{path}: tensor {name!r} has unknown dtype {str(dtype)[:40]!r}")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise Unprocessable(f"{path}: tensor {name!r} has an invalid shape")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
        or offsets[0] > offsets[1]
    ):
        raise Unprocessable(f"{path}: tensor {name!r} has invalid data_offsets")
    span = offsets[1] - offsets[0]
    count = 0 if 0 in shape else 1
    for d in shape if count else ():
        count *= d
        if count * DTYPE_BYTES[dtype] > data_size:
            raise Unprocessable(
                f"{path}: tensor {name!r} shape needs more bytes than the data section holds ({data_size})"
            )
    if count * DTYPE_BYTES[dtype] != span:
        shown = str(shape) if len(shape) <= 8 else f"{shape[:8]}…"
        raise Unprocessable(
            f"{path}: tensor {name!r} spans {span} bytes but shape {shown} × {dtype} needs {count * DTYPE_BYTES[dtype]}"
        )
    return offsets[0], offsets[1], name
