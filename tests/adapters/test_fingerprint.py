"""Fingerprints depend on tensors, not on how they are split into files."""

import numpy as np
import pytest
from safetensors.numpy import save_file

from adapters.base.fingerprint import fingerprint
from adapters.errors import AdapterError


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_FINGERPRINT_CACHE", str(tmp_path / "cache" / "fp.json"))


def _tensors():
    rng = np.random.default_rng(0)
    return {
        "a.weight": rng.standard_normal((4, 3)).astype(np.float32),
        "b.bias": rng.standard_normal((5,)).astype(np.float32),
    }


def test_same_tensors_different_sharding_same_fingerprint(tmp_path):
    t = _tensors()
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    save_file(t, str(one / "model.safetensors"))
    save_file({"a.weight": t["a.weight"]}, str(two / "model-00001.safetensors"))
    save_file({"b.bias": t["b.bias"]}, str(two / "model-00002.safetensors"))
    fp = fingerprint(one)
    assert fp.startswith("sha256:") and len(fp) == 7 + 64
    assert fingerprint(two) == fp


def test_changed_value_dtype_or_name_changes_fingerprint(tmp_path):
    t = _tensors()
    variants = {
        "base": t,
        "value": {**t, "b.bias": t["b.bias"] + 1},
        "dtype": {**t, "b.bias": t["b.bias"].astype(np.float16)},
        "name": {"c.weight": t["a.weight"], "b.bias": t["b.bias"]},
    }
    fps = set()
    for name, tensors in variants.items():
        (tmp_path / name).mkdir()
        save_file(tensors, str(tmp_path / name / "model.safetensors"))
        fps.add(fingerprint(tmp_path / name))
    assert len(fps) == 4


def test_cache_is_used_and_invalidated_by_rewrite(tmp_path):
    d = tmp_path / "m"
    d.mkdir()
    save_file(_tensors(), str(d / "model.safetensors"))
    first = fingerprint(d)
    assert (tmp_path / "cache" / "fp.json").exists()
    assert fingerprint(d) == first
    save_file({"x": np.zeros(3, np.float32)}, str(d / "model.safetensors"))
    assert fingerprint(d) != first
    assert fingerprint(d, use_cache=False) == fingerprint(d)


def test_cache_is_keyed_by_path_size_and_mtime(tmp_path):
    """A cached entry is really read (not re-hashed); a same-size rewrite with a new mtime, or the same
    bytes at another path, is hashed afresh."""
    import hashlib
    import json
    import os
    import shutil

    d = tmp_path / "m"
    d.mkdir()
    weights = d / "model.safetensors"
    save_file(_tensors(), str(weights))
    honest = fingerprint(d)
    cache_file = tmp_path / "cache" / "fp.json"
    cache = json.loads(cache_file.read_text())
    (key,) = cache["files"]
    st = weights.stat()
    assert key == f"{weights.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    # the cache answers for an unchanged file: plant other lines under its key and they are what is hashed
    planted = ["planted F32 1 " + "0" * 64]
    cache["files"][key] = planted
    cache_file.write_text(json.dumps(cache))
    assert fingerprint(d) == "sha256:" + hashlib.sha256(planted[0].encode()).hexdigest()
    # the same bytes at another path are hashed, not taken from the planted entry
    other = tmp_path / "copy"
    other.mkdir()
    shutil.copy2(weights, other / "model.safetensors")
    assert fingerprint(other) == honest
    # same size, different bytes, new mtime: the planted entry no longer applies
    changed = _tensors()
    changed["b.bias"] = changed["b.bias"] + 1
    save_file(changed, str(weights))
    assert weights.stat().st_size == st.st_size
    os.utime(weights, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    fresh = fingerprint(d)
    assert fresh != honest and fresh == fingerprint(d, use_cache=False)


def test_no_weights_is_an_error(tmp_path):
    with pytest.raises(AdapterError):
        fingerprint(tmp_path)
    (tmp_path / "bad.safetensors").write_bytes(b"\x01")
    with pytest.raises(AdapterError):
        fingerprint(tmp_path)
