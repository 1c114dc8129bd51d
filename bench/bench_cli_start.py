"""CLI start-up: ``hub --version`` (the console script users run) vs a bare ``python -c pass`` of the same
interpreter, interleaved, medians. The difference is what importing the CLI costs before any command runs;
``hub pull`` and every other command pay it. Goal: ``hub --version`` within 0.1 s. Both may keep compiled
bytecode (``figures.with_bytecode``), as an installed package does; one warm-up run each writes it.

    python -m bench.bench_cli_start --runs 20
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import emit, interleaved, medians, with_bytecode


ENV = with_bytecode(dict(os.environ), tempfile.mkdtemp(prefix="bench-cli-pyc-"))


def timed(cmd: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    script = Path(sys.executable).parent / "hub"
    hub = [str(script)] if script.exists() else [sys.executable, "-m", "hub_client.cli"]
    sides = {"hub --version": lambda: timed([*hub, "--version"]),
             "python -c pass": lambda: timed([sys.executable, "-c", "pass"])}
    for side in sides.values():  # one warm-up each (page cache), not counted
        side()
    times = interleaved(sides, args.runs)
    med = medians(times)
    for label, values in times.items():
        print(f"{label:16} median {med[label]:.3f} s   runs " + " ".join(f"{t:.3f}" for t in values), file=sys.stderr)
    ours, bare = med["hub --version"], med["python -c pass"]
    emit({"name": f"CLI start-up: `hub --version` vs `python -c pass`, median of {args.runs}", "ours": round(ours, 3),
          "reference": round(bare, 3), "unit": "s", "ratio": round(ours / bare, 2), "goal": "<= 0.1 s",
          "ok": ours <= 0.1}, interleaved=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
