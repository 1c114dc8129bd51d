"""Print how the running environment differs from the lock: which releases `make test-latest` is trying.

Usage: python tools/lock_drift.py requirements.lock
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def locked(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def installed() -> dict[str, str]:
    return {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def main(argv: list[str]) -> int:
    pins, now = locked(Path(argv[1] if len(argv) > 1 else "requirements.lock")), installed()
    changed = sorted((name, pins[name], now[name]) for name in pins if name in now and now[name] != pins[name])
    new = sorted(name for name in now if name not in pins and name not in ("adapter-hub", "pip", "setuptools"))
    for name, old, latest in changed:
        print(f"{name}: locked {old} -> latest {latest}")
    for name in new:
        print(f"{name}: not in the lock, latest {now[name]}")
    print(f"{len(changed)} release(s) newer than the lock, {len(new)} package(s) new to it")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
