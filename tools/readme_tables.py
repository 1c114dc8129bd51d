"""Write the README's benchmark tables from ``bench/results.json``, so every figure in them is a row a reader
can rerun (``python bench/run_all.py bench_x``) and none is typed by hand.

A table lives between two markers in README.md::

    <!-- bench-table: bench_web -->
    ...generated...
    <!-- /bench-table -->

The word after ``bench-table:`` picks the rows: ``all``, or bench names separated by commas. Each table
shows, per row, the figure, both sides, the ratio and goal, and what the row records about how it was
measured: when (UTC), the load average (1/5/15 min, on how many cores), torch's thread count and whether
the sides were interleaved. ``bench/run_all.py`` runs this after writing results.json;
``tests/bench/test_readme_tables.py`` fails when the README and results.json disagree.

    python tools/readme_tables.py            # rewrite README.md
    python tools/readme_tables.py --check    # exit 1 if README.md is not what results.json gives
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = re.compile(r"(<!-- bench-table: (?P<which>[\w, ]+) -->\n)(?P<body>.*?)(<!-- /bench-table -->)", re.DOTALL)
HEADER = (
    "figure (bench)",
    "ours",
    "reference",
    "ratio",
    "goal",
    "met",
    "measured (UTC)",
    "load 1/5/15 min",
    "torch threads",
    "interleaved",
)


def _number(value: object, digits: int = 4) -> str:
    """Up to ``digits`` significant digits (what the bench rounded to, at most), thousands separated."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != 0 and abs(value) < 0.01:
            return f"{value:.2g}"
        return f"{value:,.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"
    return str(value)


def _ratio(value: object) -> str:
    """Ratios near 1 are the point: three decimals."""
    if isinstance(value, float) and abs(value) < 10:
        return f"{value:.3f}"
    return _number(value)


def _with_unit(value: object, unit: str) -> str:
    text = _number(value)
    return text if text == "–" or not unit else f"{text} {unit}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _met(row: dict) -> str:
    return {True: "yes", False: "**no**"}.get(row.get("ok"), "–")


def _load(row: dict) -> str:
    load = row.get("load_avg")
    if not load:
        return "not recorded"
    cores = row.get("cores")
    return " / ".join(f"{x:.2f}" for x in load) + (f" ({cores} cores)" if cores else "")


def _interleaved(row: dict) -> str:
    if "interleaved" not in row:
        return "not recorded"
    return {True: "yes", False: "**no** (in sequence)", None: "one side"}[row["interleaved"]]


def _threads(row: dict) -> str:
    if "torch_threads" not in row:
        return "not recorded"
    return "no torch" if row["torch_threads"] is None else str(row["torch_threads"])


def render(rows: list[dict]) -> str:
    """One Markdown table of ``rows``, then a line for each row whose timing was not recorded."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for r in rows:
        unit = str(r.get("unit") or "")
        status = f", answered {r['status']}" if r.get("status") else ""
        cells = (
            f"{r.get('name')}{status} (`{r.get('bench')}`)",
            _with_unit(r.get("ours"), unit),
            _with_unit(r.get("reference"), str(r.get("reference_unit") or unit)),
            _ratio(r.get("ratio")),
            str(r.get("goal") or "report"),
            _met(r),
            r.get("measured") or "not recorded",
            _load(r),
            _threads(r),
            _interleaved(r),
        )
        lines.append("| " + " | ".join(_cell(str(c)) for c in cells) + " |")
    notes = sorted({r["note"] for r in rows if r.get("note")})
    for note in notes:
        lines += ["", f"Note: {note}"]
    return "\n".join(lines) + "\n"


def select(rows: list[dict], which: str) -> list[dict]:
    names = {w.strip() for w in which.split(",") if w.strip()}
    return rows if "all" in names else [r for r in rows if r.get("bench") in names]


def rewrite(readme: str, rows: list[dict]) -> str:
    """``readme`` with every marked region replaced by the table of its rows."""
    return REGION.sub(lambda m: m.group(1) + render(select(rows, m.group("which"))) + m.group(4), readme)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when the README differs")
    args = parser.parse_args(argv)
    rows = json.loads(args.results.read_text())["rows"]
    before = args.readme.read_text()
    after = rewrite(before, rows)
    if args.check:
        if after != before:
            print(f"{args.readme} does not match {args.results}: run python tools/readme_tables.py", file=sys.stderr)
            return 1
        return 0
    if after != before:
        args.readme.write_text(after)
        print(f"rewrote the benchmark tables in {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
