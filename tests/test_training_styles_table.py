"""The README's training-styles table is what ``examples/training_styles/results.json`` says, and every row
there says when, at what load and with how many threads it was measured."""

from __future__ import annotations

import json
from pathlib import Path

from examples.training_styles import reproduce

ROOT = Path(__file__).resolve().parents[1]


def _script():
    return reproduce


def test_the_readme_table_is_what_results_json_gives():
    script = _script()
    results = json.loads(script.RESULTS.read_text())
    readme = (ROOT / "README.md").read_text()
    assert readme.count(script.START) == 1 and readme.count(script.END) == 1
    assert script.rewrite_readme(readme, results) == readme, (
        "stale: python -m examples.training_styles.reproduce --table"
    )
    shown = readme.split(script.START, 1)[1].split(script.END, 1)[0]
    rows = [row for section in script.SECTIONS for row in results.get(section, [])]
    assert rows and len([line for line in shown.splitlines() if line.startswith("| ")]) == len(rows) + 1
    for row in rows:
        assert row["measured"].endswith("UTC") and len(row["load_avg"]) == 3 and row["torch_threads"] >= 1
        assert row["name"] in shown
