"""``bench/run_all.py`` (what ``make bench`` runs): a bench that exits non-zero or reports no row fails the
run, by name; a missed goal is a row marked NO, not a failed run. Real subprocesses, scripts in a temp folder."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run_all.py"


def _run_all(tmp_path, monkeypatch, scripts: dict[str, str]) -> tuple[int, dict]:
    spec = importlib.util.spec_from_file_location("run_all_under_test", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(module, "HERE", tmp_path)
    monkeypatch.setattr(sys, "argv", ["run_all.py"])
    rc = module.main()
    return rc, json.loads((tmp_path / "results.json").read_text())


ROW = 'import json; print("RESULT " + json.dumps({"name": "%s", "ours": 1.0, "ok": %s}))'


def test_failed_and_silent_benches_fail_the_run_by_name(tmp_path, monkeypatch, capsys):
    rc, results = _run_all(
        tmp_path,
        monkeypatch,
        {
            "bench_good.py": ROW % ("fine", "True"),
            "bench_crash.py": ROW % ("half", "True") + "\nraise SystemExit(3)",
            "bench_silent.py": "print('no figures')",
        },
    )
    out = capsys.readouterr().out
    assert rc == 1
    assert results["failed"] == ["bench_crash.py (exit 3)", "bench_silent.py (no RESULT rows)"]
    assert "benchmarks that failed: bench_crash.py (exit 3), bench_silent.py (no RESULT rows)" in out
    assert [r["name"] for r in results["rows"]] == ["half", "fine"]  # rows before a crash are kept


def test_a_missed_goal_is_reported_but_the_run_passes(tmp_path, monkeypatch, capsys):
    rc, results = _run_all(tmp_path, monkeypatch, {"bench_slow.py": ROW % ("slow", "False")})
    assert rc == 0
    assert results["failed"] == []
    assert "goals not met: slow" in capsys.readouterr().out


def test_a_partial_run_replaces_only_its_own_rows(tmp_path, monkeypatch):
    _run_all(tmp_path, monkeypatch, {"bench_a.py": ROW % ("a first", "True"), "bench_b.py": ROW % ("b first", "True")})
    (tmp_path / "bench_a.py").write_text(ROW % ("a again", "True"))
    monkeypatch.setattr(sys, "argv", ["run_all.py", "bench_a"])
    spec = importlib.util.spec_from_file_location("run_all_partial", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "HERE", tmp_path)
    assert module.main() == 0
    rows = json.loads((tmp_path / "results.json").read_text())["rows"]
    assert [(r["bench"], r["name"]) for r in rows] == [("bench_a", "a again"), ("bench_b", "b first")]
    assert all(r["measured"].endswith("UTC") for r in rows)
