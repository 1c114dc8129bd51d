"""Run every benchmark in bench/ and print one table of the figures they report.

Each ``bench_*.py`` prints lines ``RESULT {json}``; this runner only gathers them, so every
benchmark stays runnable on its own (``python bench/bench_pull.py --help``).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Benchmarks that measure PostgreSQL too when HUB_TEST_DATABASE_URL names a server (BENCH_ARGS_* overrides).
POSTGRES_TOO = {"bench_web"}


def run_one(script: Path) -> tuple[list[dict], int, float]:
    env_key = "BENCH_ARGS_" + script.stem.removeprefix("bench_").upper()
    args = shlex.split(os.environ.get(env_key, ""))
    if not args and script.stem in POSTGRES_TOO and os.environ.get("HUB_TEST_DATABASE_URL"):
        args = ["--database-url", os.environ["HUB_TEST_DATABASE_URL"]]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
    )
    results = []
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        if line.startswith("RESULT "):
            try:
                results.append(json.loads(line[len("RESULT "):]))
            except json.JSONDecodeError:
                pass
    return results, proc.wait(), time.perf_counter() - started


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def main() -> int:
    only = set(sys.argv[1:])
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not only or p.stem in only)
    rows: list[dict] = []
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        results, rc, secs = run_one(script)
        print(f"--- {script.name}: exit {rc}, {secs:.0f} s", flush=True)
        if rc != 0:
            failed.append(script.name)
        for r in results:
            r.setdefault("bench", script.stem)
        rows.extend(results)
    header = ("figure", "ours", "reference", "unit", "ratio", "goal", "met")
    table = [header] + [
        (
            str(r.get("name")),
            fmt(r.get("ours")),
            fmt(r.get("reference")),
            str(r.get("unit", "")),
            fmt(r.get("ratio")),
            str(r.get("goal", "")),
            {True: "yes", False: "NO", None: "-"}.get(r.get("ok"), "-"),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    print("\n" + "  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  ".join("-" * w for w in widths))
    for row in table[1:]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)))
    if failed:
        print(f"\nbenchmarks that failed to run: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
