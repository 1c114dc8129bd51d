"""The README's benchmark tables are what ``bench/results.json`` says (``tools/readme_tables.py``), and every
row of results.json says when and how it was measured, or carries a note saying why it cannot."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README, RESULTS = ROOT / "README.md", ROOT / "bench" / "results.json"


def _tool():
    spec = importlib.util.spec_from_file_location("readme_tables_under_test", ROOT / "tools" / "readme_tables.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_tables_are_what_results_json_gives():
    tool = _tool()
    rows = json.loads(RESULTS.read_text())["rows"]
    readme = README.read_text()
    assert readme.count("<!-- bench-table:") >= 6  # the Benchmarks table and the sections' own tables
    assert tool.rewrite(readme, rows) == readme, "README tables differ from results.json: python tools/readme_tables.py"


def test_every_row_records_how_it_was_measured():
    rows = json.loads(RESULTS.read_text())["rows"]
    assert rows
    for row in rows:
        for key in ("measured", "load_avg"):
            assert key in row, (row["name"], key)
        if row["measured"] is None or row["load_avg"] is None:  # an older row: kept, not re-dated
            assert row.get("note"), f"{row['name']}: no time or load and no note saying why"
            if row["measured"] is None:
                continue  # its threads and interleaving were not recorded either (shown as such)
        else:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", row["measured"])
            assert len(row["load_avg"]) == 3 and all(x >= 0 for x in row["load_avg"])
        assert row["interleaved"] in (True, False, None)  # None: one side, nothing to interleave
        assert row["torch_threads"] is None or row["torch_threads"] >= 1  # None: the bench runs no torch


def test_a_changed_figure_is_noticed_and_rewritten(tmp_path):
    tool = _tool()
    readme, results = tmp_path / "README.md", tmp_path / "results.json"
    shutil.copy(README, readme)
    data = json.loads(RESULTS.read_text())
    row = next(r for r in data["rows"] if r.get("bench") == "bench_web")
    row["ours"] = 12345.0
    results.write_text(json.dumps(data))
    args = ["--readme", str(readme), "--results", str(results)]
    assert tool.main([*args, "--check"]) == 1
    assert "12,345 ms" not in readme.read_text()  # --check writes nothing
    assert tool.main(args) == 0
    assert "12,345 ms" in readme.read_text()
    assert tool.main([*args, "--check"]) == 0
