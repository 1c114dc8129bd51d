"""Dataset repos through the native client and CLI against a real hub: ``hub push DIR ns/name
--kind dataset``, ``hub pull``, ``hub search --kind dataset``; a folder with code or a broken JSONL
line is refused locally (nothing uploaded) and by the server (a raw publish of the same bytes)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
from click.testing import CliRunner

from hub_client.cli import main


def cli(hub, token: str, *args: str, cache: Path):
    env = {"HUB_ENDPOINT": hub.url, "HUB_TOKEN": token, "HUB_CACHE": str(cache), "HUB_NO_PROGRESS": "1"}
    return CliRunner().invoke(main, list(args), env=env)


def dataset_dir(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "train.jsonl").write_text("".join(json.dumps({"q": f"q{i}", "a": i}) + "\n" for i in range(5)))
    (root / "test.csv").write_text("q,a\nx,1\ny,2\n")
    (root / "README.md").write_text("# Pairs\n")
    return root


def test_push_pull_and_search_a_dataset(hub_server_module, tmp_path):
    token = hub_server_module.token("dora", "write")
    src = dataset_dir(tmp_path / "pairs")
    pushed = cli(
        hub_server_module,
        token,
        "push",
        str(src),
        "dora/pairs",
        "--kind",
        "dataset",
        "--version",
        "1.0.0",
        cache=tmp_path / "c1",
    )
    assert pushed.exit_code == 0, pushed.output
    pulled = cli(hub_server_module, token, "pull", "dora/pairs@^1", cache=tmp_path / "c2")
    assert pulled.exit_code == 0, pulled.output
    where = Path(pulled.stdout.strip().splitlines()[-1])
    assert {p.name: p.read_bytes() for p in where.iterdir()} == {p.name: p.read_bytes() for p in src.iterdir()}
    found = cli(hub_server_module, token, "search", "--kind", "dataset", "--json", cache=tmp_path / "c1")
    assert found.exit_code == 0, found.output
    assert [(r["id"], r["kind"]) for r in json.loads(found.stdout)] == [("dora/pairs", "dataset")]
    adapters = cli(hub_server_module, token, "search", "--kind", "adapter", "--json", cache=tmp_path / "c1")
    assert "dora/pairs" not in [r["id"] for r in json.loads(adapters.stdout)]


def test_push_refuses_code_and_bad_rows_before_uploading(hub_server_module, tmp_path):
    token = hub_server_module.token("dora", "write")
    src = dataset_dir(tmp_path / "bad")
    (src / "prepare.py").write_text("print('hi')\n")
    refused = cli(
        hub_server_module,
        token,
        "push",
        str(src),
        "dora/bad",
        "--kind",
        "dataset",
        "--version",
        "1.0.0",
        cache=tmp_path / "c",
    )
    assert refused.exit_code != 0
    assert "prepare.py: a dataset holds data, not code (.py files are refused)" in refused.output
    (src / "prepare.py").unlink()
    (src / "train.jsonl").write_text('{"q": 1}\nnot json\n')
    refused = cli(
        hub_server_module,
        token,
        "push",
        str(src),
        "dora/bad",
        "--kind",
        "dataset",
        "--version",
        "1.0.0",
        cache=tmp_path / "c",
    )
    assert refused.exit_code != 0 and "train.jsonl line 2: not valid JSON" in refused.output
    assert (
        httpx.get(
            f"{hub_server_module.url}/api/v1/repos/dora/bad", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 404
    )  # nothing created


def test_server_refuses_a_code_file_in_a_dataset_publish(hub_server_module):
    """The server's own check, without the client's: the blob is uploaded, the publish refused."""
    token = hub_server_module.token("dora", "write")
    auth = {"Authorization": f"Bearer {token}"}
    base = f"{hub_server_module.url}/api/v1"
    created = httpx.post(f"{base}/repos", json={"namespace": "dora", "name": "raw", "kind": "dataset"}, headers=auth)
    assert created.status_code in (200, 201), created.text
    body = b"import os\n"
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    upload = httpx.post(f"{base}/uploads", headers=auth).json()
    put = httpx.put(f"{base}/uploads/{upload['upload_id']}", params={"digest": digest}, content=body, headers=auth)
    assert put.status_code == 201, put.text
    answer = httpx.post(
        f"{base}/repos/dora/raw/versions",
        headers=auth,
        json={"version": "1.0.0", "files": [{"path": "run.py", "size": len(body), "digest": digest}]},
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == "run.py: a dataset holds data, not code (.py files are refused)"
    assert httpx.get(f"{base}/repos/dora/raw/versions", headers=auth).json() == {"items": []}
