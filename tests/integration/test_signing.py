"""Signed versions end to end with the real `hub` CLI against a real hub server: keys, sign on push,
verify at publish (422, nothing published), verify on pull with key pinning, require-signed, revocation,
`hub verify` offline, and how info/search show who signed."""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from hub_client.cli import main
from tests.support.peft_dirs import make_lora_dir

pytestmark = pytest.mark.filterwarnings("ignore:.*has no base pin:hub_client.errors.HubWarning")


@pytest.fixture(scope="module")
def lora_src(tmp_path_factory) -> Path:
    return make_lora_dir(tmp_path_factory.mktemp("lora") / "adapter")


@pytest.fixture
def hub(hub_server_module):
    return hub_server_module


class User:
    """One person: their own config dir (keys, pins), cache and token, running `hub` commands."""

    def __init__(self, hub, name: str, root: Path, scope: str = "write") -> None:
        self.hub, self.name = hub, name
        self.config, self.cache = root / name / "config", root / name / "cache"
        self.token = hub.token(name, scope)

    def env(self, **extra) -> dict:
        return {
            "HUB_CONFIG_DIR": str(self.config),
            "HUB_CACHE": str(self.cache),
            "HUB_ENDPOINT": self.hub.url,
            "HUB_TOKEN": self.token,
            "HUB_NO_PROGRESS": "1",
            "HUB_REQUIRE_SIGNED": "",
            **extra,
        }

    def run(self, *args: str, ok: bool = True, **env):
        result = CliRunner().invoke(main, list(args), env=self.env(**env), catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    def snapshot(self, repo: str, version: str) -> Path:
        return self.cache / "snapshots" / repo / version


def _error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("warning: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]


def _versions(hub, repo: str) -> list:
    response = httpx.get(f"{hub.url}/api/v1/repos/{repo}/versions")
    return response.json()["items"] if response.status_code == 200 else []


@pytest.fixture
def people(hub, tmp_path, request):
    tag = request.node.name.split("[")[0].replace("test_", "")[:40].replace("_", "-")
    return {who: User(hub, f"{who}-{tag}", tmp_path) for who in ("alice", "bob")}


def _signed_push(alice: User, src: Path, tmp_path: Path, repo: str, version: str = "1.0.0") -> Path:
    work = Path(shutil.copytree(src, tmp_path / f"work-{version}"))
    alice.run("push", str(work), repo, "--version", version, "--sign")
    return work


def _keys_ready(user: User) -> str:
    out = user.run("keys", "generate", "--json").stdout
    user.run("keys", "add", "--name", "laptop")
    return json.loads(out)["fingerprint"]


def test_sign_push_pull_verifies(people, lora_src, tmp_path, hub):
    alice, bob = people["alice"], people["bob"]
    fingerprint = _keys_ready(alice)
    key_file = alice.config / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    repo = f"{alice.name}/sentiment"
    work = _signed_push(alice, lora_src, tmp_path, repo)
    assert not (work / "model.sig").exists()  # the signature travels to the hub; the directory is unchanged

    detail = httpx.get(f"{hub.url}/api/v1/repos/{repo}/resolve").json()
    assert detail["signature"] == {"signed_by": alice.name, "key": fingerprint, "key_revoked": False, "owner_key": True}
    assert "model.sig" in [f["path"] for f in detail["files"]]
    keys = httpx.get(f"{hub.url}/api/v1/users/{alice.name}/keys").json()["items"]
    assert [(k["fingerprint"], k["name"], k["revoked"]) for k in keys] == [(fingerprint, "laptop", False)]

    pulled = bob.run("pull", repo)
    path = Path(pulled.stdout.strip())
    assert f"verified {repo}@1.0.0: signed by {alice.name}" in pulled.stderr
    assert "pinned on first use" in pulled.stderr
    assert fingerprint in json.loads((bob.config / "trusted-keys.json").read_text())[hub.url][alice.name]
    again = bob.run("pull", repo, "--require-signed")
    assert "verified" in again.stderr and "first use" not in again.stderr
    offline_pull = bob.run("pull", f"{repo}@1.0.0", "--offline", "--require-signed")
    assert f"verified {repo}@1.0.0: signed by {alice.name}" in offline_pull.stderr

    offline = bob.run("verify", str(path))
    assert f"signed by {alice.name} with key {fingerprint}" in offline.stdout
    info = bob.run("info", repo)
    assert f"signed by {alice.name} (key sha256:" in info.stdout
    found = bob.run("search", "sentiment", "--namespace", alice.name)
    assert f"by {alice.name}" in found.stdout

    copy = Path(shutil.copytree(path, tmp_path / "copy"))
    (copy / "README.md").write_text("changed after signing\n")
    bad = bob.run("verify", str(copy), ok=False)
    assert bad.exit_code == 1 and "README.md" in _error_line(bad)


def test_byte_changed_on_server_storage_refuses_pull(people, tmp_path, hub):
    alice, bob = people["alice"], people["bob"]
    _keys_ready(alice)
    repo = f"{alice.name}/tampered"
    own = make_lora_dir(tmp_path / "own", seed=7)  # blobs of its own: the shared server keeps serving the others
    _signed_push(alice, own, tmp_path, repo)
    detail = httpx.get(f"{hub.url}/api/v1/repos/{repo}/resolve").json()
    weights = next(f for f in detail["files"] if f["path"] == "adapter_model.safetensors")
    hexd = weights["digest"].split(":")[1]
    blob = hub.data_dir / "blobs" / "sha256" / hexd[:2] / hexd
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.chmod(0o644)
    blob.write_bytes(bytes(data))

    result = bob.run("pull", repo, ok=False)
    assert result.exit_code == 1
    line = _error_line(result)
    assert "adapter_model.safetensors" in line and "do not match" in line
    assert not bob.snapshot(repo, "1.0.0").exists()


def test_unregistered_or_foreign_key_is_refused_at_publish(people, lora_src, tmp_path, hub):
    alice, bob = people["alice"], people["bob"]
    alice.run("keys", "generate")  # never registered
    repo = f"{alice.name}/unregistered"
    work = Path(shutil.copytree(lora_src, tmp_path / "work"))
    result = alice.run("push", str(work), repo, "--version", "1.0.0", "--sign", ok=False)
    line = _error_line(result)
    assert "422" in line and "not registered to " + alice.name in line
    assert _versions(hub, repo) == []

    bob_fp = _keys_ready(bob)  # bob's registered key, used by alice: foreign
    result = alice.run(
        "push", str(work), repo, "--version", "1.0.0", "--sign", "--key", str(bob.config / "signing-key.pem"), ok=False
    )
    line = _error_line(result)
    assert "422" in line and bob_fp in line and "not registered to " + alice.name in line
    assert _versions(hub, repo) == []

    alice.run("keys", "add")
    alice.run("push", str(work), repo, "--version", "1.0.0", "--sign")
    pulled = Path(shutil.copytree(alice.run("pull", repo).stdout.strip(), tmp_path / "pulled"))
    assert (pulled / "model.sig").is_file()
    config = pulled / "adapter_config.json"
    config.write_text(config.read_text().replace("4", "5", 1))
    stale = alice.run("push", str(pulled), repo, "--version", "1.0.1", ok=False)  # its model.sig, a changed file
    line = _error_line(stale)
    assert "422" in line and "adapter_config.json" in line and "differs from what was signed" in line
    assert [v["version"] for v in _versions(hub, repo)] == ["1.0.0"]


def test_revoked_key_warns_and_refuses_under_require_signed(people, lora_src, tmp_path, hub):
    alice, bob = people["alice"], people["bob"]
    fingerprint = _keys_ready(alice)
    repo = f"{alice.name}/revoked"
    _signed_push(alice, lora_src, tmp_path, repo)
    alice.run("keys", "revoke", fingerprint)
    listed = alice.run("keys", "list").stdout
    assert "revoked" in listed

    refused = bob.run("pull", repo, "--require-signed", ok=False)
    assert "revoked" in _error_line(refused)
    assert not bob.snapshot(repo, "1.0.0").exists()
    pulled = bob.run("pull", repo)
    assert "warning:" in pulled.stderr and "revoked" in pulled.stderr
    assert (Path(pulled.stdout.strip()) / "model.sig").is_file()

    work = Path(shutil.copytree(lora_src, tmp_path / "again"))
    after = alice.run("push", str(work), repo, "--version", "2.0.0", "--sign", ok=False)
    assert "422" in _error_line(after) and "revoked" in _error_line(after)


@pytest.mark.parametrize("how", ["flag", "env", "config"])
def test_unsigned_refused_under_require_signed(people, lora_src, tmp_path, hub, how):
    alice, bob = people["alice"], people["bob"]
    repo = f"{alice.name}/unsigned-{how}"
    alice.run("push", str(Path(shutil.copytree(lora_src, tmp_path / "work"))), repo, "--version", "1.0.0")
    args, env = ["pull", repo], {}
    if how == "flag":
        args.append("--require-signed")
    elif how == "env":
        env["HUB_REQUIRE_SIGNED"] = "1"
    else:
        bob.config.mkdir(parents=True, exist_ok=True)
        (bob.config / "config.yaml").write_text("require_signed: true\n")
    result = bob.run(*args, ok=False, **env)
    assert "is not signed" in _error_line(result)
    assert not bob.snapshot(repo, "1.0.0").exists()
    assert not list((bob.cache / "blobs").rglob("*")) if (bob.cache / "blobs").exists() else True
    if how != "config":
        assert bob.run("pull", repo).stdout.strip().endswith("1.0.0")
        offline = bob.run("pull", f"{repo}@1.0.0", "--offline", "--require-signed", ok=False)
        assert "is not signed" in _error_line(offline)


def test_key_change_is_refused_until_forgotten(people, lora_src, tmp_path, hub):
    alice, bob = people["alice"], people["bob"]
    first = _keys_ready(alice)
    repo = f"{alice.name}/rotated"
    _signed_push(alice, lora_src, tmp_path, repo, "1.0.0")
    bob.run("pull", repo)
    second = json.loads(alice.run("keys", "generate", "--force", "--json").stdout)["fingerprint"]
    alice.run("keys", "add")
    _signed_push(alice, lora_src, tmp_path, repo, "1.1.0")

    changed = bob.run("pull", repo, ok=False)
    line = _error_line(changed)
    assert "changed" in line and first in line and second in line and f"hub keys forget {alice.name}" in line
    assert not bob.snapshot(repo, "1.1.0").exists()
    bob.run("keys", "forget", alice.name)
    assert "verified" in bob.run("pull", repo).stderr


def test_key_of_someone_else_than_the_namespace_owner(people, lora_src, tmp_path, hub):
    alice, bob = people["alice"], people["bob"]
    admin = User(hub, "admin-" + alice.name, tmp_path, scope="admin")
    _keys_ready(admin)
    repo = f"{alice.name}/by-admin"
    _signed_push(admin, lora_src, tmp_path, repo)
    detail = httpx.get(f"{hub.url}/api/v1/repos/{repo}/resolve").json()
    assert detail["signature"]["signed_by"] == admin.name and detail["signature"]["owner_key"] is False
    refused = bob.run("pull", repo, "--require-signed", ok=False)
    assert "not registered to the namespace owner" in _error_line(refused)
    assert not bob.snapshot(repo, "1.0.0").exists()
    assert f"signed by {admin.name}" in bob.run("pull", repo).stderr
