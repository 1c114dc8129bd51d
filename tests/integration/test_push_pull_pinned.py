"""``push --base``: a plain PEFT directory gets a card with the base pin before it is uploaded,
from a local base directory or from a base hosted on the hub (``hub://NS/NAME@V``).
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from hub_client import HubClient, HubWarning
from hub_client.cli import main
from tests.support.peft_dirs import make_base_dir, make_lora_dir


@pytest.fixture(scope="module")
def dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pinned")
    return make_base_dir(root / "base"), make_lora_dir(root / "lora")


@pytest.fixture
def client(hub_server_module, tmp_path):
    with HubClient(
        hub_server_module.url, hub_server_module.token("dana", "write"), cache_dir=tmp_path / "cache", progress=False
    ) as c:
        yield c


def test_push_with_local_base_writes_the_pin(hub_server_module, client, dirs, tmp_path):
    from adapters.base.fingerprint import fingerprint
    from adapters.card import read_card  # noqa: F401 - the card helpers must be importable without torch

    base_dir, lora_src = dirs
    lora = Path(shutil.copytree(lora_src, tmp_path / "lora"))
    with warnings.catch_warnings():
        warnings.simplefilter("error", HubWarning)
        client.push(lora, "dana/pinned-lora", "1.0.0", base=str(base_dir))
    meta = client.info("dana/pinned-lora")["metadata"]
    assert meta["pinned"] is True
    assert meta["base_fingerprint"] == fingerprint(base_dir)
    assert meta["method"] == "lora"

    info = CliRunner().invoke(main, ["info", "dana/pinned-lora", "--endpoint", hub_server_module.url])
    assert info.exit_code == 0 and "unpinned" not in info.stdout
    assert fingerprint(base_dir).split(":")[1][:12] in info.stdout


def test_push_with_hub_base(hub_server_module, client, dirs, tmp_path):
    from adapters.base.fingerprint import fingerprint

    base_dir, lora_src = dirs
    client.push(base_dir, "dana/tiny-base", "1.0.0", kind="base")
    lora = Path(shutil.copytree(lora_src, tmp_path / "lora"))
    client.push(lora, "dana/hub-pinned", "1.0.0", base="hub://dana/tiny-base@1.0.0")
    version = client.info("dana/hub-pinned")["version"]
    pin = version["card"]["adapter_hub"]["base"]
    assert pin == {"id": "dana/tiny-base", "revision": "1.0.0", "fingerprint": fingerprint(base_dir)}
    found = [r["id"] for r in client.search(fingerprint=fingerprint(base_dir))]
    assert "dana/hub-pinned" in found


def test_bad_base_is_one_line(hub_server_module, dirs, tmp_path):
    _, lora_src = dirs
    lora = Path(shutil.copytree(lora_src, tmp_path / "lora"))
    result = CliRunner().invoke(
        main,
        [
            "push",
            str(lora),
            "dana/x",
            "--version",
            "1.0.0",
            "--base",
            str(tmp_path / "nowhere"),
            "--endpoint",
            hub_server_module.url,
            "--token",
            hub_server_module.token("dana", "write"),
        ],
    )
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error:") and len(result.stderr.strip().splitlines()) == 1
