"""Quiet terminals: the real ``hub`` commands print progress and results, not library chatter, unless asked
(``-v``); ``hub serve`` writes no line per request to the terminal unless ``--access-log`` says where."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "sentiment" / "train.jsonl"
METRIC_DICT = "{'loss'"  # what Trainer prints between its progress bars
# transformers' own bars around from_pretrained/save_pretrained (5.x names, and 4.x's shard loader)
LIBRARY_BARS = ("Loading weights", "Loading checkpoint shards", "Writing model shards")


def _library_bars(stderr: str) -> list[str]:
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.startswith(LIBRARY_BARS)]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "TRANSFORMERS_", "HF_"))}
    env.pop("PYTHONWARNINGS", None)
    env.update(
        {
            "PYTHONPATH": str(ROOT),
            "HUB_CACHE": str(tmp_path / "cache"),
            "HUB_CONFIG_DIR": str(tmp_path / "cfg"),
            "HUB_BASE_INDEX": str(tmp_path / "bases.json"),
            "HUB_FINGERPRINT_CACHE": str(tmp_path / "fp.json"),
            "HF_HUB_OFFLINE": "1",
        }
    )
    return env


def _hub(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "hub_client.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**_env(tmp_path), **(env or {})},
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    from tests.support.tiny_bases import make_llama_dir

    return make_llama_dir(tmp_path_factory.mktemp("quiet") / "base")


def test_train_shows_progress_and_result_and_keeps_trainer_dicts_for_verbose(base, tmp_path):
    train = ["train", "--base", str(base), "--method", "lora", "--data", str(DATA), "--max-steps", "10"]
    quiet = _hub(tmp_path, *train, "--out", str(tmp_path / "quiet"))
    assert quiet.stdout.startswith("trained lora for 10 steps")
    assert METRIC_DICT not in quiet.stdout + quiet.stderr and "'train_runtime'" not in quiet.stderr
    assert "[transformers]" not in quiet.stderr and "Warning:" not in quiet.stderr
    assert "10/10" in quiet.stderr  # the progress bar is still there
    assert _library_bars(quiet.stderr) == []
    loud = _hub(tmp_path, "-v", *train, "--out", str(tmp_path / "loud"), "--no-progress")
    assert "info: adapters.training: step 10: {'loss'" in loud.stderr
    assert "[transformers]" in loud.stderr  # library logs
    assert METRIC_DICT not in loud.stdout  # stdout stays the result alone


def test_hub_no_progress_hides_the_training_bar_as_the_flag_does(base, tmp_path):
    """``HUB_NO_PROGRESS=1`` is the default of every ``--no-progress``: the Trainer's bar goes too, not only
    the hub's own (the test above shows the bar is there without it)."""
    train = ["train", "--base", str(base), "--method", "lora", "--data", str(DATA), "--max-steps", "4"]
    done = _hub(tmp_path, *train, "--out", str(tmp_path / "env"), env={"HUB_NO_PROGRESS": "1"})
    assert done.stdout.startswith("trained lora for 4 steps")
    assert "4/4" not in done.stderr and "it/s" not in done.stderr, done.stderr[-2000:]


def test_run_and_merge_print_results_only_and_library_logs_with_verbose(base, tmp_path):
    from tests.support.peft_dirs import make_lora_dir
    from tests.support.stack_fixtures import pin_adapter

    adapter = pin_adapter(make_lora_dir(tmp_path / "lora"), base)
    run = ["run", str(adapter), "--base", str(base), "--prompt", "hi", "--max-new-tokens", "2"]
    quiet = _hub(tmp_path, *run)
    assert "[transformers]" not in quiet.stderr and "Warning" not in quiet.stderr
    assert [line for line in quiet.stderr.splitlines() if line.startswith("merged ")] == ["merged lora"]
    assert _library_bars(quiet.stderr) == [] and "it/s]" not in quiet.stderr  # no "Loading weights" bar
    assert [line for line in quiet.stderr.splitlines() if line.strip()] == ["merged lora"]
    loud = _hub(tmp_path, "-v", *run)
    assert "[transformers]" in loud.stderr and loud.stdout == quiet.stdout  # greedy: the same answer
    assert any(line.startswith("Loading weights") for line in _library_bars(loud.stderr))
    merged = _hub(
        tmp_path, "merge", str(adapter), "--base", str(base), "--out", str(tmp_path / "merged"), "--no-progress"
    )
    assert merged.stdout.startswith("merged lora into ")
    # nothing else: transformers' load/save bars are hidden too
    assert [line for line in merged.stderr.splitlines() if line.strip()] == []
    loud_merge = _hub(
        tmp_path, "-v", "merge", str(adapter), "--base", str(base), "--out", str(tmp_path / "m2"), "--no-progress"
    )
    assert {"Loading weights", "Writing model shards"} <= {b.split(":")[0] for b in _library_bars(loud_merge.stderr)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(tmp_path: Path, name: str, *options: str) -> tuple[str, str]:
    """Start ``hub [options] serve`` on a free port, send three requests, stop it: (stderr, stdout)."""
    port = _free_port()
    leading = [o for o in options if o == "-v"]
    rest = [o for o in options if o != "-v"]
    err, out = tmp_path / f"{name}.err", tmp_path / f"{name}.out"
    with open(err, "wb") as e, open(out, "wb") as o:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hub_client.cli",
                *leading,
                "serve",
                "--data",
                str(tmp_path / "data"),
                "--port",
                str(port),
                *rest,
            ],
            env=_env(tmp_path),
            stdout=o,
            stderr=e,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(600):
                try:
                    if httpx.get(url + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            assert httpx.get(url + "/api/v1/search").status_code == 200
            assert httpx.get(url + "/api/v1/repos/nobody/nothing").status_code == 404
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    return err.read_text(), out.read_text()


def test_serve_is_quiet_and_writes_its_access_log_where_and_how_asked(tmp_path):
    stderr, stdout = _serve(tmp_path, "default")
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[0].startswith("Adapter Hub on http://127.0.0.1:")
    assert not any("/api/v1/search" in line or "/healthz" in line for line in lines), lines
    assert not any(line.startswith("INFO") for line in lines) and stdout == ""

    stderr, _ = _serve(tmp_path, "terminal", "--access-log", "-")
    logged = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert {(r["method"], r["path"], r["status"]) for r in logged} >= {
        ("GET", "/api/v1/search", 200),
        ("GET", "/api/v1/repos/nobody/nothing", 404),
    }

    log_file = tmp_path / "access.log"
    stderr, _ = _serve(tmp_path, "file", "-v", "--access-log", str(log_file), "--log-format", "text")
    assert "/api/v1/search" not in stderr and "Uvicorn running" in stderr  # -v: the server's own logs
    text = log_file.read_text().splitlines()
    assert any(line.startswith('127.0.0.1 - "GET /api/v1/repos/nobody/nothing" 404 ') for line in text), text
