"""A safetensors header with huge integers in ``shape`` used to be multiplied out (quadratic in
the digits: a 2.4 MB header took 18.7 s of CPU) and then answered 500. Integers are now bounded
while the header is parsed and the shape's product is bounded by the data section as it grows:
a one-line 422 at once, nothing published."""

from __future__ import annotations

import json
import struct
import time

import httpx

from tests.security.accountability_support import auth, create_repo, hub_on, one_line, publish  # noqa: F401


def _weights(shape: list[int], data: bytes = b"\0" * 8, metadata: dict | None = None) -> bytes:
    header = {"w": {"dtype": "F32", "shape": shape, "data_offsets": [0, len(data)]}}
    text = json.dumps({**({"__metadata__": metadata} if metadata else {}), **header}).encode()
    return struct.pack("<Q", len(text)) + text + data


def test_huge_shapes_are_refused_at_once(hub_on):
    hub = hub_on()
    token = hub.token("alice", "write")
    cases = {
        "digits": (_weights([10**4000] * 600), "holds an integer over 19 digits"),  # 2.4 MB: 18.7 s, then 500
        "max header": (_weights([10**4000] * (8 * 1024 * 1024 // 4003 - 1)), "holds an integer over 19 digits"),
        "many factors": (_weights([2**62] * 64), "needs more bytes than the data section holds"),
        "too many dims": (_weights([1] * 65), "has an invalid shape"),
        "mismatch": (_weights([1, 1]), "spans 8 bytes but shape [1, 1] × F32 needs 4"),
        # quotes escaped in a string: the byte scan leaves the call to the parser's own bound
        "escaped quotes": (_weights([10**30, 1], metadata={"note": 'say "hi"'}), "holds an integer over 19 digits"),
    }
    with httpx.Client(base_url=hub.url, timeout=120) as c:
        create_repo(c, token, "alice", "lora")
        for label, (weights, words) in cases.items():
            began = time.monotonic()
            r = publish(c, token, "alice/lora", "1.0.0", {"adapter_model.safetensors": weights})
            elapsed = time.monotonic() - began
            assert r.status_code == 422, (label, r.status_code, r.text[:200])
            assert words in one_line(r), label
            assert len(one_line(r)) < 400
            assert elapsed < 10, (label, elapsed)
        assert c.get("/api/v1/repos/alice/lora/versions", headers=auth(token)).json()["items"] == []
        # long digit runs inside strings (a hash in __metadata__) are text, not integers
        legal = _weights([2, 1], metadata={"sha": "1" * 64, "size": "9" * 30})
        assert publish(c, token, "alice/lora", "1.0.0", {"adapter_model.safetensors": legal}).status_code == 201
