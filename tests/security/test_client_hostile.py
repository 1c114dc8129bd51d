"""The client against a hostile hub (a real HTTP server scripted to lie): every lie is refused
with one line, nothing is written outside the cache and nothing of the lie stays in it."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub_client import BadServerAnswer, HubClient, HubError
from hub_client.cli.main import main
from tests.support.hostile_hub import HostileHub, commit_of, digest_of

FILES = {"adapter_config.json": b'{"peft_type": "LORA"}', "README.md": b"# hi\n"}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def hub():
    with HostileHub() as server:
        yield server


@pytest.fixture
def world(tmp_path):
    """A home with a precious file next to the cache: the victim of a traversal."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "authorized_keys").write_text("ssh-ed25519 mine\n")
    cache = tmp_path / "cache"
    return tmp_path, home, cache


def _pull_refused(hub, world, ref=None, match="refused"):
    root, home, cache = world
    before = _tree(home)
    client = HubClient(hub.url, cache_dir=cache, progress=False)
    with pytest.raises(HubError, match=match) as caught:
        client.pull("evil/lora", ref)
    client.close()
    message = str(caught.value)
    assert "\n" not in message and message
    assert _tree(home) == before  # nothing outside the cache changed
    assert {p.name for p in root.iterdir()} <= {"cache", "home"}
    # nothing of the refused version stays: no snapshot file, no record, no partial download
    for folder in ("snapshots", "refs", "tmp"):
        assert not [p for p in (cache / folder).rglob("*") if p.is_file() and p.suffix != ".lock"]
    return caught.value


@pytest.mark.parametrize(
    "version",
    ["../../../home/.ssh", "../../../../home", "1.0.0/../../x", "/tmp/x", "1.0", "1.0.0\n", "..", "1.0.0%2f.."],
)
def test_traversal_version_is_refused(hub, world, version):
    hub.publish(version, FILES)
    error = _pull_refused(hub, world, match="invalid version")
    assert isinstance(error, BadServerAnswer)
    assert not any(r.startswith("blob") for r in hub.requests)  # refused before any download


@pytest.mark.parametrize("path", ["../../home/.ssh/authorized_keys", "/etc/passwd", "a\\..\\..\\b", "a/\nb", "a/./b"])
def test_hostile_file_path_is_refused(hub, world, path):
    hub.publish("1.0.0", {**FILES, path: b"pwned"})
    _pull_refused(hub, world)
    assert not any(r.startswith("blob") for r in hub.requests)


@pytest.mark.parametrize("path", ["model.bin", "notes.txt", "adapter_model.safetensors"])
def test_a_pickle_under_any_name_is_refused_by_its_bytes(hub, world, path):
    data = pickle.dumps({"w": [1.0]}, protocol=2)  # written, never loaded
    hub.publish("1.0.0", {**FILES, path: data})
    _pull_refused(hub, world, match="its bytes are a pickle")
    _, _, cache = world
    assert data not in [p.read_bytes() for p in cache.rglob("*") if p.is_file()]  # it never reached the cache


def test_a_bin_that_is_not_a_pickle_is_pulled(hub, world):
    files = {**FILES, "model.bin": bytes(range(256))}
    hub.publish("1.0.0", files)
    _, _, cache = world
    client = HubClient(hub.url, cache_dir=cache, progress=False)
    path = client.pull("evil/lora", "1.0.0")
    client.close()
    assert _tree(path) == files


def test_file_that_is_also_a_folder_is_refused(hub, world):
    hub.publish("1.0.0", {"a": b"1", "a/b": b"2"})
    _pull_refused(hub, world, match="also the folder")


def test_wrong_commit_is_refused(hub, world):
    hub.publish("1.0.0", FILES, commit="0" * 40)
    _pull_refused(hub, world, match="does not match its files")


def test_commit_pin_is_checked(hub, world):
    answer = hub.publish("1.0.0", FILES)
    pinned = "1" * 40
    assert answer["commit"] != pinned
    _pull_refused(hub, world, ref=pinned, match=f"asked for commit {pinned}")


def test_exact_version_and_range_are_checked(hub, world):
    hub.publish("2.0.0", FILES)
    _pull_refused(hub, world, ref="1.0.0", match="asked for version 1.0.0")
    _pull_refused(hub, world, ref="^1.0", match="not in the range")


def test_oversize_stream_is_cut_at_the_declared_size(hub, world):
    data = b"x" * 100
    hub.publish("1.0.0", {"w.safetensors": data})
    sent = []

    def endless():
        while True:  # the server would stream forever
            sent.append(1)
            yield b"y" * 65536

    hub.blobs[digest_of(data)] = endless
    _pull_refused(hub, world, match="more than the 100 bytes")
    assert len(sent) < 64  # the client hung up early, not after gigabytes


def test_wrong_bytes_are_refused(hub, world):
    data = b"x" * 100
    hub.publish("1.0.0", {"w.safetensors": data})
    hub.blobs[digest_of(data)] = b"z" * 100
    _pull_refused(hub, world, match="do not match")


def test_cli_prints_one_line_and_exits_1(hub, world, monkeypatch):
    _, _, cache = world
    hub.publish("../../../home/.ssh", FILES)
    monkeypatch.setenv("HUB_CACHE", str(cache))
    result = CliRunner().invoke(main, ["pull", "evil/lora", "--endpoint", hub.url])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("error: refused the hub's answer")


def test_honest_answer_still_pulls_and_corrupt_cache_is_refetched(hub, world):
    _, _, cache = world
    answer = hub.publish("1.0.0", FILES)
    assert answer["commit"] == commit_of(answer["files"])
    with HubClient(hub.url, cache_dir=cache, progress=False) as client:
        path = client.pull("evil/lora", answer["commit"])
        assert _tree(path) == {k: v for k, v in FILES.items()}
        # corrupt a cached blob behind the cache's back, keeping its size
        blob = cache / "blobs" / "sha256" / digest_of(FILES["README.md"]).split(":")[1]
        os.chmod(blob, 0o644)
        blob.write_bytes(b"# HI\n")
        fetched = len([r for r in hub.requests if r.startswith("blob")])
        path = client.pull("evil/lora", "1.0.0")
        assert (path / "README.md").read_bytes() == FILES["README.md"]
        assert len([r for r in hub.requests if r.startswith("blob")]) == fetched + 1  # only the corrupt one


def test_cache_verify_ls_prune(hub, world):
    _, _, cache = world
    hub.publish("1.0.0", FILES)
    with HubClient(hub.url, cache_dir=cache, progress=False) as client:
        client.pull("evil/lora", "1.0.0")
    runner = CliRunner()
    listed = runner.invoke(main, ["cache", "ls", "--cache-dir", str(cache)])
    assert listed.exit_code == 0 and "evil/lora" in listed.output and "1.0.0" in listed.output
    ok = runner.invoke(main, ["cache", "verify", "--cache-dir", str(cache)])
    assert ok.exit_code == 0 and "all intact" in ok.output
    blob = cache / "blobs" / "sha256" / digest_of(FILES["README.md"]).split(":")[1]
    os.chmod(blob, 0o644)
    blob.write_bytes(b"# HI\n")
    dry = runner.invoke(main, ["cache", "verify", "--dry-run", "--cache-dir", str(cache)])
    assert dry.exit_code == 1 and blob.exists()
    fixed = runner.invoke(main, ["cache", "verify", "--cache-dir", str(cache)])
    assert fixed.exit_code == 0 and "1 corrupt" in fixed.output and not blob.exists()
    assert "evil/lora" not in runner.invoke(main, ["cache", "ls", "--cache-dir", str(cache)]).output
    pruned = runner.invoke(main, ["cache", "prune", "--cache-dir", str(cache)])
    assert pruned.exit_code == 0 and "1 blob(s)" in pruned.output
    assert not list((cache / "blobs" / "sha256").iterdir())


def test_cache_prune_forgets_a_version_and_old_leftovers_only(hub, world):
    _, _, cache = world
    hub.publish("1.0.0", FILES)
    with HubClient(hub.url, cache_dir=cache, progress=False) as client:
        snapshot = client.pull("evil/lora", "1.0.0")
    old, fresh = cache / "tmp" / "blob-old", cache / "tmp" / "blob-fresh"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    os.utime(old, (0, 0))
    runner = CliRunner()
    dry = runner.invoke(main, ["cache", "prune", "evil/lora@1.0.0", "--dry-run", "--cache-dir", str(cache)])
    assert dry.exit_code == 0 and "would remove 1 snapshot(s)" in dry.output and snapshot.is_dir()
    done = runner.invoke(main, ["cache", "prune", "evil/lora@1.0.0", "--json", "--cache-dir", str(cache)])
    assert done.exit_code == 0 and '"blobs": 2' in done.output and '"leftovers": 1' in done.output
    assert not snapshot.exists() and not old.exists() and fresh.exists()
    assert not list((cache / "blobs" / "sha256").iterdir())


def test_deeply_nested_answer_is_one_line_not_a_traceback(hub, world):
    hub.answer = b"[" * 200_000 + b"]" * 200_000  # past Python's recursion limit
    _pull_refused(hub, world, match="not JSON")
    _root, home, cache = world
    result = CliRunner().invoke(
        main, ["pull", "evil/lora", "--endpoint", hub.url], env={"HUB_CACHE": str(cache), "HOME": str(home)}
    )
    assert result.exit_code == 1
    assert "Traceback" not in result.output and "RecursionError" not in result.output
    assert result.output.strip().startswith("error: ") and "\n" not in result.output.strip()
