"""CLI start-up: ``hub --version`` (the console script users run) vs a bare ``python -c pass`` of the same
interpreter, interleaved, medians. The difference is what importing the CLI costs before any command runs;
``hub pull`` and every other command pay it. Goal: ``hub --version`` within 0.1 s. Both may keep compiled
bytecode (``figures.with_bytecode``), as an installed package does; one warm-up run each writes it.
Each side's CPU time (user + system of the child) is reported too: on a loaded machine the wall time
includes waiting for a core, the CPU time is what starting the CLI costs.

    python -m bench.bench_cli_start --runs 20
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import emit, interleaved, medians, with_bytecode

ENV = with_bytecode(dict(os.environ), tempfile.mkdtemp(prefix="bench-cli-pyc-"))


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cpu: list[float]) -> float:
    started, cpu_before = time.perf_counter(), _children_cpu()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=ENV)
    cpu.append(_children_cpu() - cpu_before)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    script = Path(sys.executable).parent / "hub"
    hub = [str(script)] if script.exists() else [sys.executable, "-m", "hub_client.cli"]
    cpu: dict[str, list[float]] = {"hub --version": [], "python -c pass": []}
    sides = {
        "hub --version": lambda: timed([*hub, "--version"], cpu["hub --version"]),
        "python -c pass": lambda: timed([sys.executable, "-c", "pass"], cpu["python -c pass"]),
    }
    for side in sides.values():  # one warm-up each (page cache), not counted
        side()
    times = interleaved(sides, args.runs)
    med = medians(times)
    for label, values in times.items():
        print(f"{label:16} median {med[label]:.3f} s   runs " + " ".join(f"{t:.3f}" for t in values), file=sys.stderr)
    ours, bare = med["hub --version"], med["python -c pass"]
    cpu_med = medians({label: values[1:] for label, values in cpu.items()})  # without the warm-up run
    print(
        f"CPU (user+sys) median: hub --version {cpu_med['hub --version']:.3f} s, "
        f"python -c pass {cpu_med['python -c pass']:.3f} s",
        file=sys.stderr,
    )
    emit(
        {
            "name": f"CLI start-up: `hub --version` vs `python -c pass`, median of {args.runs}",
            "ours": round(ours, 3),
            "reference": round(bare, 3),
            "unit": "s",
            "ratio": round(ours / bare, 2),
            "goal": "<= 0.1 s",
            "ok": ours <= 0.1,
            "cpu_ours": round(cpu_med["hub --version"], 3),
            "cpu_reference": round(cpu_med["python -c pass"], 3),
        },
        interleaved=True,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
