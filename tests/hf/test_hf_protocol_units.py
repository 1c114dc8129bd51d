"""Pure parts of the HF layer: version numbering, NDJSON commits, ranges, tree listing."""

from __future__ import annotations

import base64
import json
from datetime import UTC

import pytest

from hub_rules import ByteRange, RangeNotSatisfiable, parse_range
from hub_server.db.models import VersionFile
from hub_server.errors import Invalid, ServiceError
from hub_server.services.hf_commit import check_path, parse_ndjson
from hub_server.services.hf_numbering import choose_version, next_patch
from hub_server.services.hf_views import iso, tree


def test_version_numbering_rule():
    assert next_patch([]) == "1.0.0"
    assert next_patch(["1.0.0", "1.10.0", "1.9.3", "2.0.0-rc.1"]) == "2.0.0"  # a pre-release is followed by its release
    assert next_patch(["1.2.3", "1.2.10"]) == "1.2.11"
    pick = lambda **kw: choose_version(
        **{"summary": "", "description": "", "url_revision": "main", "existing": ["1.0.0"], **kw}
    )
    assert pick() == "1.0.1"
    assert pick(summary="Upload\nversion: 3.0.0") == "3.0.0"
    assert pick(description="notes\nVersion = v2.1.0\n") == "2.1.0"
    assert pick(url_revision="1.4.0") == "1.4.0"
    assert pick(url_revision="1.0.0") == "1.0.1"  # an existing version is a parent, not a name


def _line(key, value):
    return json.dumps({"key": key, "value": value}).encode()


def test_ndjson_commit_parsing_and_refusals():
    body = b"\n".join(
        [
            _line("header", {"summary": "s", "description": "d"}),
            _line("file", {"path": "a/b.json", "encoding": "base64", "content": base64.b64encode(b"{}").decode()}),
            _line("deletedFile", {"path": "old.txt"}),
            _line("deletedFolder", {"path": "logs"}),
        ]
    )
    parsed = parse_ndjson(body)
    assert parsed.summary == "s" and {p: f.read_all() for p, f in parsed.added.items()} == {"a/b.json": b"{}"}
    assert parsed.deleted_files == {"old.txt"} and parsed.deleted_folders == {"logs/"}
    lfs = parse_ndjson(_line("lfsFile", {"path": "w.safetensors", "algo": "sha256", "oid": "0" * 64, "size": 8}))
    assert lfs.lfs == {"w.safetensors": (8, "sha256:" + "0" * 64)} and lfs.added == {}
    copy = parse_ndjson(_line("lfsFile", {"path": "w.safetensors", "algo": "sha256", "oid": "0" * 64}))
    assert copy.lfs == {"w.safetensors": (-1, "sha256:" + "0" * 64)}  # a copy: hf_commit reads the held blob's size
    with pytest.raises(Invalid, match=r"^w.safetensors: an lfsFile's 'size' must be a non-negative integer$"):
        parse_ndjson(_line("lfsFile", {"path": "w.safetensors", "algo": "sha256", "oid": "0" * 64, "size": -5}))
    with pytest.raises(Invalid, match=r"^w.safetensors: an lfsFile needs a sha256 'oid'"):
        parse_ndjson(_line("lfsFile", {"path": "w.safetensors", "algo": "sha1", "oid": "0" * 40, "size": 8}))
    with pytest.raises(Invalid, match="base64"):
        parse_ndjson(_line("file", {"path": "x", "encoding": "base64", "content": "***"}))
    with pytest.raises(Invalid):
        parse_ndjson(b"not json")
    for bad in ("../x", "/etc/x", "a\\..\\b", "a//b", "./a"):
        with pytest.raises(ServiceError) as refused:
            check_path(bad)
        assert (refused.value.hf_status or refused.value.status) == 422  # as the HF Hub answers an invalid path
    for name in ("dir/adapter_model.safetensors", "model.bin", "w.PT", "x.ckpt"):  # pickles: judged by content
        assert check_path(name) == name


def test_parse_range():
    assert parse_range(None, 100) is None
    assert parse_range("bytes=0-9", 100) == ByteRange(0, 9)
    assert parse_range("bytes=90-", 100) == ByteRange(90, 99)
    assert parse_range("bytes=95-200", 100) == ByteRange(95, 99)
    assert parse_range("bytes=-10", 100) == ByteRange(90, 99)
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=100-", 100)
    assert parse_range("bytes=5-2", 100) is None  # an invalid range is ignored (RFC 9110 §14.1.1)
    assert parse_range("bytes=0-1,5-6", 100) is None


def test_tree_listing_and_dates():
    from datetime import datetime

    files = [VersionFile(path=p, size=1, digest="sha256:" + "0" * 64) for p in ("a.txt", "d/b.txt", "d/e/c.txt")]
    top = tree(files, "", recursive=False)
    assert [(e["type"], e["path"]) for e in top] == [("file", "a.txt"), ("directory", "d")]
    sub = tree(files, "d", recursive=False)
    assert [(e["type"], e["path"]) for e in sub] == [("file", "d/b.txt"), ("directory", "d/e")]
    assert [e["path"] for e in tree(files, "", recursive=True)] == ["a.txt", "d", "d/b.txt", "d/e", "d/e/c.txt"]
    assert tree(files, "nope", recursive=True) is None
    assert all("lfs" not in e and "xetHash" not in e for e in top)
    assert iso(datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2026-01-02T03:04:05.678Z"
