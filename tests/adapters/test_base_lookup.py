"""A base found by its pin: the local index (re-checked by size/mtime), a caller's remote source, the HF cache;
what was tried in one line when nothing matches; other weights under the same name are never taken."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from adapters.base import BasePin, pin_for
from adapters.base import index as base_index
from adapters.base.fingerprint import fingerprint
from adapters.base.lookup import BaseNotFound, find_base, pin_of_adapters
from adapters.errors import AdapterError, BaseMismatchError
from adapters.resolver import Resolver
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_BASE_INDEX", str(tmp_path / "index" / "bases.json"))
    monkeypatch.setenv("HUB_FINGERPRINT_CACHE", str(tmp_path / "index" / "fp.json"))
    monkeypatch.setenv("HUB_BASE_CACHE", str(tmp_path / "no-default-base"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


def _pin(model_dir: Path, base_id: str = "org/tiny") -> BasePin:
    return BasePin(base_id, None, fingerprint(model_dir))


def test_index_finds_a_remembered_base_and_drops_it_when_its_files_change(tmp_path):
    base = make_llama_dir(tmp_path / "base")
    pin = pin_for(base)  # using a directory as a base remembers it
    assert base_index.lookup(pin.fingerprint) == base.absolute()
    assert find_base(pin) == base.absolute()

    weights = next(base.glob("*.safetensors"))
    os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 10_000_000))
    assert base_index.lookup(pin.fingerprint) is None  # stale: size/mtime moved
    assert base_index.indexed_bases() == []  # and dropped from the file


def test_other_weights_with_the_same_name_are_refused(tmp_path):
    base = make_llama_dir(tmp_path / "base", seed=0)
    adapter = pin_adapter(make_adapter(base, tmp_path / "lora", "lora"), base)
    pin = pin_for(base)
    # the base directory is rebuilt with other weights under the same name and path
    import shutil

    shutil.rmtree(base)
    make_llama_dir(base, seed=7)
    with pytest.raises(BaseNotFound) as err:
        find_base(pin)
    message = str(err.value)
    assert "\n" not in message and "local index (0 bases)" in message and "pass --base DIR" in message
    from adapters.runtime.stack import load_stack

    with pytest.raises(BaseNotFound):
        load_stack(None, [adapter])
    with pytest.raises(BaseMismatchError):  # named explicitly, it is still refused
        load_stack(base, [adapter])


def test_remote_source_is_asked_only_on_a_miss_and_its_weights_are_checked(tmp_path):
    base = make_llama_dir(tmp_path / "base")
    other = make_llama_dir(tmp_path / "other", seed=3)
    pin = _pin(base)
    asked: list[str] = []

    def remote(p):
        asked.append(p.fingerprint)
        return other, "hub http://test (ns/other@1.0.0)"

    with pytest.raises(BaseNotFound) as err:  # the remote offered other weights: not accepted
        find_base(pin, Resolver(remote_bases=remote))
    assert "hub http://test (ns/other@1.0.0) (other weights)" in str(err.value)
    assert "Hugging Face cache org/tiny (" in str(err.value)

    found = find_base(pin, Resolver(remote_bases=lambda p: (base, "hub http://test (ns/base@1.0.0)")))
    assert found == base
    asked.clear()
    assert find_base(pin, Resolver(remote_bases=remote)) == base.absolute()  # now indexed: no remote call
    assert asked == []


def test_hf_cache_snapshot_is_accepted_only_with_the_pinned_fingerprint(tmp_path, monkeypatch):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))  # read at import time
    base = make_llama_dir(tmp_path / "base")
    snapshot = tmp_path / "hf" / "hub" / "models--org--tiny" / "snapshots" / ("a" * 40)
    refs = snapshot.parent.parent / "refs"
    refs.mkdir(parents=True)
    (refs / "main").write_text("a" * 40)
    import shutil

    shutil.copytree(base, snapshot)
    assert find_base(_pin(base)).resolve() == snapshot.resolve()
    other = make_llama_dir(tmp_path / "other", seed=9)
    with pytest.raises(BaseNotFound) as err:
        find_base(_pin(other))
    assert "Hugging Face org/tiny (other weights)" in str(err.value)


def test_adapters_must_share_one_pin(tmp_path):
    a = {"adapter_hub": {"base": {"id": "x/a", "fingerprint": "sha256:" + "1" * 64}}}
    b = {"adapter_hub": {"base": {"id": "x/b", "fingerprint": "sha256:" + "2" * 64}}}
    assert pin_of_adapters([a, a], ["a", "a2"]).id == "x/a"
    with pytest.raises(AdapterError, match="pinned to different bases"):
        pin_of_adapters([a, b], ["a", "b"])
    with pytest.raises(AdapterError, match="adapter c is not pinned to a base; pass --base"):
        pin_of_adapters([a, {}], ["a", "c"])


def test_hub_references_need_a_resolver(tmp_path):
    from adapters.base import resolve_base
    from adapters.resolver import resolve_adapter

    with pytest.raises(AdapterError, match="is a hub reference; pull it first"):
        resolve_adapter("alice/lora@1.0.0")
    with pytest.raises(AdapterError, match="is a hub reference; pull it first"):
        resolve_base("hub://alice/base")
    got = []
    assert resolve_adapter("alice/lora@1.0.0", Resolver(pull=lambda r: got.append(r) or tmp_path)) == tmp_path
    assert got == ["alice/lora@1.0.0"]
