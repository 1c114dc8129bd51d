"""Push -> pull against a real hub server: round trips, dedup, the cache, ranges, yank, errors."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub_client import HubClient, HubWarning, NotFound, OfflineMiss, TransportError
from hub_client.cli import main
from hub_client.manifest import build_manifest, commit_id
from tests.support.peft_dirs import make_lora_dir, tree_bytes

pytestmark = pytest.mark.filterwarnings("ignore:.*has no base pin:hub_client.errors.HubWarning")


@pytest.fixture(scope="module")
def lora_src(tmp_path_factory) -> Path:
    return make_lora_dir(tmp_path_factory.mktemp("lora") / "adapter")


@pytest.fixture
def lora_dir(lora_src, tmp_path) -> Path:
    return Path(shutil.copytree(lora_src, tmp_path / "adapter"))


@pytest.fixture
def writer(hub_server_module):
    return hub_server_module.token("alice", "write")


@pytest.fixture
def client_factory(hub_server_module, writer, tmp_path):
    made = []

    def make(token=writer, cache="cache", **kwargs):
        c = HubClient(hub_server_module.url, token, cache_dir=tmp_path / cache, progress=False, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def blob_counter():
    seen = []

    def hook(request):
        if "/blobs/" in request.url.path and request.method == "GET":
            seen.append(request.url.path)

    return seen, {"request": [hook]}


def cli(hub_server_module, token, *args, cache: Path):
    env = {
        "HUB_ENDPOINT": hub_server_module.url,
        "HUB_TOKEN": token or "",
        "HUB_CACHE": str(cache),
        "HUB_NO_PROGRESS": "1",
    }
    return CliRunner().invoke(main, list(args), env=env)


def test_round_trip_is_byte_identical(hub_server_module, client_factory, lora_dir):
    client = client_factory()
    with pytest.warns(HubWarning, match="unpinned"):
        result = client.push(lora_dir, "alice/tiny-lora", "1.0.0")
    assert result.created and result.files == 3
    assert result.uploaded_blobs == 3 and result.skipped_blobs == 0
    assert result.uploaded_bytes == sum(len(b) for b in tree_bytes(lora_dir).values())
    assert result.commit == commit_id(build_manifest(lora_dir))  # client and server derive the same id

    path = client_factory(token=None, cache="fresh").pull("alice/tiny-lora", "1.0.0")
    assert tree_bytes(path) == tree_bytes(lora_dir)
    assert path.name == "1.0.0"

    again = client.push(lora_dir, "alice/tiny-lora", "1.0.0")
    assert not again.created and again.uploaded_blobs == 0 and again.commit == result.commit


def test_second_version_uploads_only_new_bytes(hub_server_module, client_factory, lora_dir):
    client = client_factory()
    client.push(lora_dir, "alice/dedup", "1.0.0")
    config = lora_dir / "adapter_config.json"
    changed = json.loads(config.read_text()) | {"lora_dropout": 0.1}
    config.write_text(json.dumps(changed))
    second = client.push(lora_dir, "alice/dedup", "1.1.0")
    assert second.uploaded_blobs == 1
    assert second.uploaded_bytes == config.stat().st_size
    assert second.skipped_blobs == 2


def test_cached_pull_sends_no_blob_request(hub_server_module, client_factory, lora_dir):
    client_factory().push(lora_dir, "alice/cached", "1.0.0")
    seen, hooks = blob_counter()
    reader = client_factory(token=None, cache="reader", event_hooks=hooks)
    first = reader.pull("alice/cached", "1.0.0")
    assert len(seen) == 3
    second = reader.pull("alice/cached")
    third = reader.pull("alice/cached", "^1.0")
    assert first == second == third
    assert len(seen) == 3  # nothing downloaded again
    assert tree_bytes(first) == tree_bytes(lora_dir)


def test_versions_sharing_blobs_store_them_once(hub_server_module, client_factory, lora_dir):
    writer = client_factory()
    writer.push(lora_dir, "alice/shared", "1.0.0")
    (lora_dir / "notes.txt").write_text("second version")
    writer.push(lora_dir, "alice/shared", "2.0.0")
    seen, hooks = blob_counter()
    reader = client_factory(token=None, cache="shared-reader", event_hooks=hooks)
    reader.pull("alice/shared", "1.0.0")
    reader.pull("alice/shared", "2.0.0")
    assert len(seen) == 4  # 3 files, then only notes.txt
    assert len(list((reader.cache.root / "blobs" / "sha256").iterdir())) == 4


def _push_versions(client, tmp_path, repo, versions):
    for v in versions:
        d = tmp_path / f"src-{v}"
        d.mkdir()
        (d / "weights.txt").write_text(f"version {v}")
        client.push(d, repo, v, kind="base")


def test_ranges_online_and_offline(hub_server_module, client_factory, tmp_path):
    _push_versions(client_factory(), tmp_path, "alice/ranged", ["1.0.0", "1.2.0", "1.2.5", "1.3.0", "2.0.0"])
    reader = client_factory(token=None, cache="ranges")
    assert reader.pull("alice/ranged", "^1.2").name == "1.3.0"
    assert reader.pull("alice/ranged", ">=1.0,<2").name == "1.3.0"
    assert reader.pull("alice/ranged", "~1.2").name == "1.2.5"
    assert (reader.pull("alice/ranged", "main") / "weights.txt").read_text() == "version 2.0.0"

    offline = client_factory(token="", cache="ranges")
    assert offline.pull("alice/ranged", "^1.2", offline=True).name == "1.3.0"
    assert offline.pull("alice/ranged", "~1.2", offline=True).name == "1.2.5"
    assert offline.pull("alice/ranged", offline=True).name == "2.0.0"
    with pytest.raises(OfflineMiss):
        offline.pull("alice/ranged", "1.0.0", offline=True)


def test_offline_pull_works_without_a_server(hub_server_module, client_factory, tmp_path, lora_dir):
    client_factory().push(lora_dir, "alice/offline", "1.0.0")
    cached = client_factory(token=None, cache="offline").pull("alice/offline", "1.0.0")
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{s.getsockname()[1]}"
    dead = HubClient(dead_url, None, cache_dir=tmp_path / "offline", progress=False)
    assert dead.pull("alice/offline", "1.0.0", offline=True) == cached
    with pytest.warns(HubWarning, match="unreachable"):
        assert dead.pull("alice/offline", "1.0.0") == cached  # exact versions are immutable: cache serves
    with pytest.raises(TransportError):
        dead.pull("alice/offline")  # "main" may have moved: no silent fallback
    to = dead.pull("alice/offline", offline=True, to=tmp_path / "copy")
    assert tree_bytes(to) == tree_bytes(lora_dir)
    dead.close()


def test_yank(hub_server_module, client_factory, tmp_path):
    writer = client_factory()
    _push_versions(writer, tmp_path, "alice/yanky", ["1.2.0", "1.3.0"])
    summary = writer.yank("alice/yanky", "1.3.0", "broken weights")
    assert summary["yanked"] is True
    reader = client_factory(token=None, cache="yank")
    assert reader.pull("alice/yanky", "^1.2").name == "1.2.0"
    assert reader.pull("alice/yanky").name == "1.2.0"
    with pytest.warns(HubWarning, match="broken weights"):
        assert reader.pull("alice/yanky", "1.3.0").name == "1.3.0"
    # offline resolution knows 1.3.0 is yanked too
    assert reader.pull("alice/yanky", "^1.2", offline=True).name == "1.2.0"

    result = cli(hub_server_module, None, "pull", "alice/yanky@1.3.0", cache=tmp_path / "yank-cli")
    assert result.exit_code == 0
    assert "warning:" in result.stderr and "broken weights" in result.stderr
    assert result.stdout.strip().endswith("1.3.0")
    versions = cli(hub_server_module, None, "versions", "alice/yanky", "--json", cache=tmp_path / "c")
    assert {v["version"]: v["yanked"] for v in json.loads(versions.stdout)} == {"1.3.0": True, "1.2.0": False}


def test_cli_push_pull_info_versions(hub_server_module, writer, lora_dir, tmp_path):
    result = cli(
        hub_server_module, writer, "push", str(lora_dir), "alice/cli-lora", "--version", "0.1.0", cache=tmp_path / "c1"
    )
    assert result.exit_code == 0, result.output
    assert "unpinned" in result.stderr and "published" in result.stdout

    pulled = cli(hub_server_module, None, "pull", "alice/cli-lora@0.1.0", cache=tmp_path / "c2")
    assert pulled.exit_code == 0
    path = Path(pulled.stdout.strip())
    assert pulled.stdout.count("\n") == 1 and tree_bytes(path) == tree_bytes(lora_dir)

    to = cli(hub_server_module, None, "pull", "alice/cli-lora", "--to", str(tmp_path / "out"), cache=tmp_path / "c2")
    assert Path(to.stdout.strip()) == tmp_path / "out"
    assert tree_bytes(tmp_path / "out") == tree_bytes(lora_dir)

    info = cli(hub_server_module, None, "info", "alice/cli-lora@0.1.0", cache=tmp_path / "c2")
    assert info.exit_code == 0 and "unpinned" in info.stdout and "adapter_model.safetensors" in info.stdout
    data = json.loads(cli(hub_server_module, None, "info", "alice/cli-lora", "--json", cache=tmp_path / "c2").stdout)
    assert data["version"]["version"] == "0.1.0" and data["metadata"]["pinned"] is False

    table = cli(hub_server_module, None, "versions", "alice/cli-lora", cache=tmp_path / "c2")
    assert table.exit_code == 0 and "0.1.0" in table.stdout


def test_cli_errors_are_one_line(hub_server_module, writer, lora_dir, tmp_path):
    def one_line(result, fragment):
        assert result.exit_code == 1, result.output
        lines = [ln for ln in result.stderr.strip().splitlines() if not ln.startswith("warning:")]
        assert len(lines) == 1 and lines[0].startswith("error:") and fragment in lines[0].lower(), result.stderr
        assert "Traceback" not in result.output

    one_line(cli(hub_server_module, None, "pull", "alice/does-not-exist", cache=tmp_path / "c"), "not")
    one_line(
        cli(hub_server_module, None, "push", str(lora_dir), "alice/x", "--version", "1.0.0", cache=tmp_path / "c"),
        "hub login",
    )
    one_line(cli(hub_server_module, "wrong-token", "whoami", cache=tmp_path / "c"), "hub login")
    assert (
        cli(
            hub_server_module,
            writer,
            "push",
            str(lora_dir),
            "alice/conflict",
            "--version",
            "1.0.0",
            cache=tmp_path / "c",
        ).exit_code
        == 0
    )
    (lora_dir / "extra.txt").write_text("different content")
    one_line(
        cli(
            hub_server_module,
            writer,
            "push",
            str(lora_dir),
            "alice/conflict",
            "--version",
            "1.0.0",
            cache=tmp_path / "c",
        ),
        "",
    )
    one_line(
        cli(
            hub_server_module, writer, "push", str(lora_dir), "bob/not-mine", "--version", "1.0.0", cache=tmp_path / "c"
        ),
        "",
    )
    one_line(cli(hub_server_module, None, "pull", "alice/conflict@9.9.9", cache=tmp_path / "c"), "")


def test_login_whoami_logout(hub_server_module, writer, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_CONFIG_DIR", str(tmp_path / "config"))
    runner = CliRunner()
    env = {"HUB_TOKEN": "", "HUB_ENDPOINT": ""}
    assert runner.invoke(main, ["login", "--token", "bad", "--endpoint", hub_server_module.url], env=env).exit_code == 1
    result = runner.invoke(main, ["login", "--token", writer, "--endpoint", hub_server_module.url], env=env)
    assert result.exit_code == 0, result.output
    me = runner.invoke(main, ["whoami", "--json"], env=env)
    assert json.loads(me.stdout)["user"] == "alice"
    assert runner.invoke(main, ["logout"], env=env).exit_code == 0
    assert runner.invoke(main, ["whoami"], env=env).exit_code == 1


def test_search_and_private_repos(hub_server_module, client_factory, lora_dir, tmp_path):
    writer = client_factory()
    writer.push(lora_dir, "alice/findable-lora", "1.0.0")
    writer.push(lora_dir, "alice/secret-lora", "1.0.0", private=True)
    anon = client_factory(token=None, cache="anon")
    ids = [r["id"] for r in anon.search("lora", limit=100)]
    assert "alice/findable-lora" in ids and "alice/secret-lora" not in ids
    with pytest.raises(NotFound):
        anon.pull("alice/secret-lora", "1.0.0")
    assert writer.pull("alice/secret-lora", "1.0.0").is_dir()
    out = cli(hub_server_module, None, "search", "findable", "--json", cache=tmp_path / "c")
    assert [r["id"] for r in json.loads(out.stdout)] == ["alice/findable-lora"]
    table = cli(hub_server_module, None, "search", "findable", cache=tmp_path / "c")
    assert "alice/findable-lora" in table.stdout and "unpinned" in table.stdout


def test_progress_bars_on_stderr_and_can_be_disabled(hub_server_module, writer, tmp_path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    (src / "weights.raw").write_bytes(b"w" * 200_000)
    with HubClient(hub_server_module.url, writer, cache_dir=tmp_path / "on", progress=True) as shown:
        shown.push(src, "alice/progress", "1.0.0", kind="base")
        shown.pull("alice/progress", "1.0.0")
    err = capsys.readouterr().err
    assert "push alice/progress@1.0.0" in err and "pull alice/progress@1.0.0" in err
    with HubClient(hub_server_module.url, writer, cache_dir=tmp_path / "off", progress=False) as quiet:
        quiet.push(src, "alice/progress", "1.0.0", kind="base")
        quiet.pull("alice/progress", "1.0.0")
    assert capsys.readouterr().err == ""


CARD = """---
library_name: peft
base_model: acme/tiny-base
base_model_relation: adapter
license: apache-2.0
tags: [adapter-hub, lora, searchable-tag]
adapter_hub:
  kind: adapter
  method: lora
  task: causal-lm
  base: {id: acme/tiny-base, revision: 1.0.0, fingerprint: "sha256:%s"}
---
# Pinned adapter
"""


def test_search_filters_and_pinned_info(hub_server_module, client_factory, lora_dir, tmp_path):
    fp = "ab" * 32
    (lora_dir / "README.md").write_text(CARD % fp)
    client_factory().push(lora_dir, "alice/filtered-lora", "1.0.0")
    args = ["search", "--method", "lora", "--tag", "searchable-tag", "--task", "causal-lm", "--json"]
    found = json.loads(cli(hub_server_module, None, *args, cache=tmp_path / "c").stdout)
    assert [r["id"] for r in found] == ["alice/filtered-lora"]
    by_fp = json.loads(
        cli(hub_server_module, None, "search", "--fingerprint", f"sha256:{fp}", "--json", cache=tmp_path / "c").stdout
    )
    assert [r["id"] for r in by_fp] == ["alice/filtered-lora"]
    assert (
        cli(
            hub_server_module,
            None,
            "search",
            "--method",
            "ia3",
            "--tag",
            "searchable-tag",
            "--json",
            cache=tmp_path / "c",
        ).stdout.strip()
        == "[]"
    )
    info = cli(hub_server_module, None, "info", "alice/filtered-lora", cache=tmp_path / "c")
    assert "acme/tiny-base@1.0.0 (sha256:abababababab)" in info.stdout and "unpinned" not in info.stdout


def test_concurrent_pulls_into_one_cache(hub_server_module, client_factory, lora_dir):
    from concurrent.futures import ThreadPoolExecutor

    client_factory().push(lora_dir, "alice/concurrent", "1.0.0")
    readers = [client_factory(token=None, cache="shared-cache") for _ in range(4)]
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda c: c.pull("alice/concurrent", "1.0.0"), readers))
    assert len(set(paths)) == 1
    assert tree_bytes(paths[0]) == tree_bytes(lora_dir)
    assert not list((readers[0].cache.root / "tmp").iterdir())  # no partial downloads left behind
