"""The README's training-styles table is what ``examples/training_styles/results.json`` says, and every row
there says when, at what load and with how many threads it was measured."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "training_styles" / "reproduce.py"


def _script():
    spec = importlib.util.spec_from_file_location("training_styles_under_test", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_table_is_what_results_json_gives():
    script = _script()
    results = json.loads(script.RESULTS.read_text())
    readme = (ROOT / "README.md").read_text()
    assert readme.count(script.START) == 1 and readme.count(script.END) == 1
    assert script.rewrite_readme(readme, results) == readme, (
        "stale: python examples/training_styles/reproduce.py --table"
    )
    shown = readme.split(script.START, 1)[1].split(script.END, 1)[0]
    rows = [row for section in script.SECTIONS for row in results.get(section, [])]
    assert rows and len([line for line in shown.splitlines() if line.startswith("| ")]) == len(rows) + 1
    for row in rows:
        assert row["measured"].endswith("UTC") and len(row["load_avg"]) == 3 and row["torch_threads"] >= 1
        assert row["name"] in shown
