"""The server-side benches still run end to end (tiny sizes, a few seconds each), so a change in
the services cannot leave ``make bench`` broken until someone runs it. Their figures are not judged
here: at these sizes they mean nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize(
    "script, args",
    [
        ("bench_web.py", ["--repos", "200", "--rounds", "1"]),
        ("bench_search.py", ["--repos", "200", "--rounds", "1"]),
        (
            "bench_hostile.py",
            [
                *("--sizes", "1", "--tries", "1", "--flood-rate", "20", "--flood-seconds", "1", "--flood-rounds", "1"),
                *("--attack-seconds", "1", "--attack-rounds", "1"),
            ],
        ),
        ("bench_cli_start.py", ["--runs", "2"]),
    ],
)
def test_bench_runs_and_reports_rows(script, args, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", f"bench.{Path(script).stem}", *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=BENCH.parent,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line[len("RESULT ") :]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert rows and all(r["name"] and r["ours"] is not None for r in rows)
    for r in rows:  # every row says when and how it was measured (bench/figures.py)
        assert r["measured"].endswith("UTC") and len(r["load_avg"]) == 3 and r["cores"] >= 1
        assert r["interleaved"] in (True, None) and r["torch_threads"] is None
    if script == "bench_search.py":  # in-process calls and real HTTP requests, each labelled
        assert any("in-process service calls" in r["name"] for r in rows)
        assert any("HTTP requests to a uvicorn server" in r["name"] for r in rows)


def test_bench_queue_runs_and_reports_rows(tmp_path):
    """The queue overhead part on the embedded broker, a few jobs: a real hub and a real ``hub worker``."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_queue", "--parts", "overhead", "--brokers", "embedded"]
        + ["--overhead-jobs", "3"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=BENCH.parent,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line[len("RESULT ") :]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert [r["name"].split(":")[0] for r in rows] == ["queue overhead p50", "queue overhead p99"]
    for r in rows:
        assert r["unit"] == "ms" and 0 < r["ours"] < 60_000 and "embedded broker" in r["name"] and "3 jobs" in r["name"]
        assert r["measured"].endswith("UTC") and len(r["load_avg"]) == 3 and r["torch_threads"] == 1


def test_bench_qlora_runs_its_children_and_reports_rows(tmp_path):
    """Both trainings run as child processes of the bench (started as ``bench.bench_qlora`` from the repository
    root, as run_all.py starts the bench itself), on a tiny base for one step, and every row carries its stamp."""
    from tests.support.tiny_bases import make_llama_dir

    base = make_llama_dir(tmp_path / "llama")
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_qlora", "--base", str(base), "--steps", "1", "--repeats", "1"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=BENCH.parent,
        env={**os.environ, "TMPDIR": str(tmp_path), "HUB_NO_PROGRESS": "1"},
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    rows = [json.loads(line[len("RESULT ") :]) for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    assert len(rows) == 5 and rows[0]["name"].startswith("LoRA training peak RSS, nf4 vs fp32")
    for r in rows:
        assert r["measured"].endswith("UTC") and len(r["load_avg"]) == 3 and r["interleaved"] is True
        assert r["ours"] is not None and r["reference"] is not None
