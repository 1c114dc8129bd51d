"""Local refusals and hashing: what the server would refuse never leaves the machine."""

import hashlib
import json
import pickle

import pytest

from hub_client.errors import RefusedFile
from hub_client.manifest import build_manifest, check_path, commit_id


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a\\..\\b", "a/../b", "./a", "a//b", "", "C:x"])
def test_bad_paths_refused(bad):
    with pytest.raises(RefusedFile):
        check_path(bad)


@pytest.mark.parametrize("good", ["README.md", "sub/dir/adapter_model.safetensors", "a.b-c_d"])
def test_good_paths_pass(good):
    assert check_path(good) == good


def test_manifest_hashes_every_file(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.json").write_bytes(b"{}")
    (tmp_path / "sub" / "w.safetensors").write_bytes(b"x" * 3000)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "junk.pyc").write_bytes(b"junk")
    entries = build_manifest(tmp_path)
    assert [e.path for e in entries] == ["a.json", "sub/w.safetensors"]
    assert entries[1].size == 3000
    assert entries[1].digest == "sha256:" + hashlib.sha256(b"x" * 3000).hexdigest()


@pytest.mark.parametrize("name", ["pytorch_model.bin", "model.pt", "x.pkl", "data.txt", "weights.safetensors"])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_pickles_refused_by_their_bytes_whatever_the_name(tmp_path, name, protocol):
    (tmp_path / "ok.json").write_text("{}")
    (tmp_path / name).write_bytes(pickle.dumps({"weight": [1.0, 2.0]}, protocol=protocol))  # written, never loaded
    with pytest.raises(RefusedFile, match="pickle"):
        build_manifest(tmp_path)


def test_a_bin_that_is_not_a_pickle_is_an_ordinary_file(tmp_path):
    data = bytes(range(256)) * 8
    (tmp_path / "lfs.bin").write_bytes(data)
    assert [(e.path, e.size) for e in build_manifest(tmp_path)] == [("lfs.bin", len(data))]


def test_symlink_escaping_the_directory_refused(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    root = tmp_path / "adapter"
    root.mkdir()
    (root / "link.txt").symlink_to(outside)
    with pytest.raises(RefusedFile, match="outside"):
        build_manifest(root)


def test_empty_directory_refused(tmp_path):
    with pytest.raises(RefusedFile):
        build_manifest(tmp_path)


def test_commit_id_depends_on_content_not_order(tmp_path):
    (tmp_path / "a").write_text("1")
    (tmp_path / "b").write_text("2")
    entries = build_manifest(tmp_path)
    rows = sorted([e.path, e.digest, e.size] for e in entries)
    expected = hashlib.sha256(json.dumps(rows, separators=(",", ":")).encode()).hexdigest()[:40]
    assert commit_id(entries) == commit_id(list(reversed(entries))) == expected
    (tmp_path / "b").write_text("3")
    assert commit_id(build_manifest(tmp_path)) != expected
