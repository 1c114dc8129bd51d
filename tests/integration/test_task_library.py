"""The task library on the real SmolLM2-135M-Instruct, pushed to a real hub: `hub find` ranks each library
task's own LoRA first on a few of that task's held-out examples. Reuses the cached library
(``examples/tasks/build_library.py``); the first run trains it (minutes)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def test_find_ranks_the_library_task_first_on_its_held_out_examples(hub_server, tmp_path, monkeypatch):
    from adapters.base.default import ensure_default_base
    from examples.tasks.build_library import build, push
    from hub_client import HubClient
    from hub_client.cli.main import main

    monkeypatch.setenv("HUB_ENDPOINT", hub_server.url)
    monkeypatch.setenv("HUB_TOKEN", hub_server.token("tasks"))
    monkeypatch.setenv("HUB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HUB_CONFIG_DIR", str(tmp_path / "config"))
    base = ensure_default_base()
    library = build(base, progress=False)
    with HubClient() as client:
        refs = push(library, "tasks", client)
    assert sorted(refs) == sorted(library)
    for task in ("sentiment", "language"):
        few = tmp_path / f"{task}.jsonl"
        few.write_text("".join((ROOT / "examples/tasks" / task / "heldout.jsonl").read_text().splitlines(True)[:5]))
        result = CliRunner().invoke(
            main, ["find", "--base", str(base), "--examples", str(few), "--json", "--no-progress"]
        )
        assert result.exit_code == 0, result.output
        found = json.loads(result.stdout)
        assert found["results"][0]["adapter"] == refs[task], found["results"]
        assert len(found["results"]) == len(library) and not found["skipped"]
