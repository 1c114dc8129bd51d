"""What every bench shares: running two (or more) sides interleaved, and printing a row with what a reader
needs to judge it (when, how loaded the machine was, how many torch threads, whether the sides were
interleaved), and measuring in a fresh process (``child_result`` / ``print_child_result``). ``run_all.py``
gathers the rows; ``tools/readme_tables.py`` puts them in the README.

A bench imports it as ``from bench.figures import ...`` (benches run as modules from the repository root).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHILD_TAG = "CHILD "


def child_result(module_args: list[str], what: str) -> dict:
    """Run ``python -m MODULE ARGS...`` from the repository root (as run_all.py starts every bench) and
    return the JSON its ``print_child_result`` printed; a child that fails or prints none ends the bench with
    one line naming ``what``, after its stderr's tail."""
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", *module_args], capture_output=True, text=True, cwd=root, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith(CHILD_TAG)]
    if proc.returncode != 0 or not lines:
        sys.stderr.write(proc.stderr[-4000:])
        raise SystemExit(f"{what} failed (exit {proc.returncode})")
    return json.loads(lines[-1][len(CHILD_TAG) :])


def print_child_result(found: Any) -> None:
    """A child's one result line, read back by ``child_result``."""
    print(CHILD_TAG + json.dumps(found), flush=True)


def interleaved(sides: dict[str, Callable[[], Any]], runs: int) -> dict[str, list[Any]]:
    """Call each side ``runs`` times in ABBA order (A B, B A, A B, ...) and return every side's results.

    Each callable returns its own figure (usually seconds, or a dict of figures), so a side may time only
    the part it means."""
    names = list(sides)
    results: dict[str, list[Any]] = {name: [] for name in names}
    for i in range(runs):
        for name in names if i % 2 == 0 else names[::-1]:
            results[name].append(sides[name]())
    return results


def with_bytecode(env: dict[str, str], cache_dir: str) -> dict[str, str]:
    """``env`` for a timed Python subprocess that may keep its compiled bytecode, as an installed package does.

    With ``PYTHONDONTWRITEBYTECODE`` set (some CI images and containers set it) every start compiles every
    module again, which a start-up figure would count; the bytecode then goes to ``cache_dir``
    (``PYTHONPYCACHEPREFIX``), never into the source tree."""
    if not env.get("PYTHONDONTWRITEBYTECODE"):
        return dict(env)
    out = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out.setdefault("PYTHONPYCACHEPREFIX", cache_dir)
    return out


def medians(results: dict[str, list[float]]) -> dict[str, float]:
    return {name: statistics.median(values) for name, values in results.items()}


def torch_threads() -> int | None:
    """torch's intra-op thread count if this process has imported torch, else None (not applicable)."""
    torch = sys.modules.get("torch")
    return torch.get_num_threads() if torch is not None else None


def row_meta(interleaved: bool, threads: int | None = None) -> dict:
    """The fields every row carries: ``measured`` (UTC), ``load_avg`` (1, 5, 15 min), ``cores``,
    ``torch_threads`` (None when the bench does not run torch) and ``interleaved``."""
    return {
        "measured": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "load_avg": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "torch_threads": threads if threads is not None else torch_threads(),
        "interleaved": interleaved,
    }


def emit(row: dict, interleaved: bool, threads: int | None = None) -> dict:
    """Print ``RESULT {json}`` for run_all.py, the row's own fields first, then the shared ones (a field the
    row sets itself wins)."""
    full = {**row_meta(interleaved, threads), **row}
    print("RESULT " + json.dumps(full), flush=True)
    return full
