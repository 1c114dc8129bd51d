"""One way to replace a small file so readers see the old or the new content, never half of it.

The temporary name comes from ``mkstemp`` beside the target, so two threads of one process (or
two processes) writing the same file never share a temporary and neither can remove the other's.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_atomically(path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` through a unique temporary in the same folder, then rename it over
    ``path``. ``mode`` sets the permission bits before the content is written (e.g. ``0o600``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:
            os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode() if isinstance(data, str) else data)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
        raise
    return path
