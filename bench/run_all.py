"""Run every benchmark in bench/ and print one table of the figures they report.

Each ``bench_*.py`` prints lines ``RESULT {json}``; this runner only gathers them, so every
benchmark stays runnable on its own from the repository root (``python -m bench.bench_pull --help``). It writes every row to
``bench/results.json`` and a chart of the latency rows to ``bench/latency.png`` (shown in the README),
and exits non-zero naming each benchmark that failed: it exited non-zero (a bench that cannot stand
behind its figures, e.g. merged weights that differ from PEFT's, exits non-zero) or reported no row.
A goal missed is a row marked NO, listed at the end, not a failure of the run.
``run_all.py bench_hostile`` runs only the benches named and replaces only their rows in
``results.json``. Every row records when it was measured, the load average (1/5/15 min) and core count,
torch's thread count and whether its sides were interleaved (``bench/figures.py``; a row a bench printed
without them gets the time and load of its bench's end here). Then the README's benchmark tables are
rewritten from results.json (``tools/readme_tables.py``).
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
POSTGRES_TOO = {"bench_web", "bench_search"}


def run_one(script: Path) -> tuple[list[dict], int, float]:
    env_key = "BENCH_ARGS_" + script.stem.removeprefix("bench_").upper()
    args = shlex.split(os.environ.get(env_key, ""))
    if not args and script.stem in POSTGRES_TOO and os.environ.get("HUB_TEST_DATABASE_URL"):
        args = ["--database-url", os.environ["HUB_TEST_DATABASE_URL"]]
    started = time.perf_counter()
    # as a module from the repository root, so a bench imports ``tests.support`` as the suite does
    proc = subprocess.Popen(
        [sys.executable, "-m", f"{HERE.name}.{script.stem}", *args], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
    )
    results = []
    assert proc.stdout is not None
    for line in proc.stdout:
        sys.stdout.write(line)
        if line.startswith("RESULT "):
            try:
                results.append(json.loads(line[len("RESULT ") :]))
            except json.JSONDecodeError:
                pass
    return results, proc.wait(), time.perf_counter() - started


def fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def kept_rows(rerun: set[str]) -> list[dict]:
    """The rows of the last results.json from benches not being run again now."""
    try:
        previous = json.loads((HERE / "results.json").read_text())["rows"]
    except (OSError, ValueError, KeyError):
        return []
    return [r for r in previous if r.get("bench") not in rerun]


def write_outputs(rows: list[dict], failed: list[str]) -> None:
    """results.json (every row) and latency.png (latency rows as ratios to the base)."""
    (HERE / "results.json").write_text(json.dumps({"rows": rows, "failed": failed}, indent=1) + "\n")
    latency = [r for r in rows if r.get("bench") == "bench_latency" and r.get("ratio")]
    if any(r.get("torch_threads") == 1 for r in latency):  # the chart shows the one-thread setting
        latency = [r for r in latency if r.get("torch_threads") == 1]
    if not latency:
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"noise": "#999999", "merged": "#2ca02c", "stacked": "#1f77b4", "peft": "#d62728", "other": "#ff7f0e"}
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(latency) + 1.2))
    names = [r["name"] for r in latency][::-1]
    ratios = [r["ratio"] for r in latency][::-1]
    ax.barh(names, ratios, color=[colours.get(r.get("kind", ""), "#555555") for r in latency][::-1])
    ax.axvline(1.0, color="black", linewidth=0.8)
    for y, value in enumerate(ratios):
        ax.text(value, y, f" {value:.3f}", va="center", fontsize=8)
    ax.set_xlim(min(0.9, min(ratios) - 0.02), max(ratios) * 1.08)
    ax.set_xlabel("generation time / base generation time (lower is better)")
    threads = {r.get("torch_threads") for r in latency}
    ax.set_title(
        "Latency added by adapters (bench/bench_latency.py" + (", torch on 1 thread)" if threads == {1} else ")")
    )
    fig.tight_layout()
    fig.savefig(HERE / "latency.png", dpi=110)
    plt.close(fig)


def update_readme() -> None:
    """Rewrite the README's marked benchmark tables from the results.json just written."""
    readme = HERE.parent / "README.md"
    tool = HERE.parent / "tools" / "readme_tables.py"
    if readme.is_file() and tool.is_file() and "<!-- bench-table:" in readme.read_text():
        subprocess.run(
            [sys.executable, str(tool), "--readme", str(readme), "--results", str(HERE / "results.json")], check=True
        )


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
            failed.append(f"{script.name} (exit {rc})")
        elif not results:  # a bench that ran but reported nothing has failed as well
            failed.append(f"{script.name} (no RESULT rows)")
        measured = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        load = [round(x, 2) for x in os.getloadavg()]
        for r in results:
            r.setdefault("bench", script.stem)
            r.setdefault("measured", measured)
            r.setdefault("load_avg", load)
            r.setdefault("cores", os.cpu_count())
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
    print("\n" + "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)))
    print("  ".join("-" * w for w in widths))
    for row in table[1:]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)))
    missed = [str(r.get("name")) for r in rows if r.get("ok") is False]
    if missed:
        print(f"\ngoals not met: {'; '.join(missed)}")
    if only:  # a partial run replaces only its own benches' rows in results.json
        # a bench that failed without reporting anything keeps its previous rows: a crash never erases figures
        rerun = {s.stem for s in scripts if any(r.get("bench") == s.stem for r in rows)}
        rows = kept_rows(rerun) + rows
        rows.sort(key=lambda r: str(r.get("bench")))  # stable: each bench's rows keep their order
    write_outputs(rows, failed)
    print(f"wrote {HERE / 'results.json'} and {HERE / 'latency.png'}")
    update_readme()
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
