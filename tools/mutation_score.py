"""The mutation score of a `make mutate` run, from mutmut's own summary (``mutmut export-cicd-stats``).

mutmut's ``total`` counts every generated mutant, also those a time-bounded run never reached; the score here
is over the mutants that were checked (killed or timed out, over killed + survived + timed out + suspicious +
no covering test), and the line says how many were not reached, so a partial run reads as one.

    python tools/mutation_score.py [mutants/mutmut-cicd-stats.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def summary(stats: dict[str, int]) -> str:
    killed = stats.get("killed", 0) + stats.get("timeout", 0)
    checked = killed + stats.get("survived", 0) + stats.get("suspicious", 0) + stats.get("no_tests", 0)
    checked += stats.get("segfault", 0)
    unreached = stats.get("total", 0) - checked - stats.get("skipped", 0)
    score = f"{100 * killed / checked:.1f}%" if checked else "n/a"
    return (
        f"mutation score {score}: {killed} of {checked} checked mutants killed "
        f"({stats.get('survived', 0)} survived, {stats.get('no_tests', 0)} without a covering test); "
        f"{unreached} of {stats.get('total', 0)} not reached"
    )


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "mutants/mutmut-cicd-stats.json")
    if not path.is_file():
        print(f"{path}: no mutmut summary (run `make mutate` first)", file=sys.stderr)
        return 1
    print(summary(json.loads(path.read_text())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
