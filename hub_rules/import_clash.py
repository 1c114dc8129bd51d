"""Is another project's ``adapters`` distribution installed beside ours?

Why: AdapterHub's library is published on PyPI as ``adapters`` and installs a top-level ``adapters``
package, the import name of this project's ML core. With both in one environment, which one
``import adapters`` finds depends on path order, and the failures that follow name neither. The
check reads installed distribution metadata only (``importlib.metadata``): nothing of the other
package is imported. ``import adapters`` warns with ``AdaptersNameClash``; the ``hub`` CLI refuses.

Imported as ``hub_rules.import_clash`` (not re-exported by ``hub_rules``), so the server and every other
user of the rules do not pay for ``importlib.metadata``.
"""

from __future__ import annotations

import os
import re
import sys

__all__ = ["CLASHING_DISTRIBUTION", "OUR_DISTRIBUTION", "AdaptersNameClash", "adapters_clash"]

OUR_DISTRIBUTION = "adapter-hub"  # pyproject.toml [project] name
CLASHING_DISTRIBUTION = "adapters"  # AdapterHub's distribution, which installs a top-level `adapters` too


class AdaptersNameClash(UserWarning):
    """Another distribution named ``adapters`` is installed in this environment (see ``adapters_clash``)."""


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _metadata_dir_may_exist() -> bool:
    """Whether any ``sys.path`` folder holds an ``adapters-*.dist-info`` / ``adapters*.egg-info`` entry: one
    directory listing per path entry, so the usual answer (no) costs no ``importlib.metadata`` import."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            lowered = name.lower()
            if lowered.endswith((".dist-info", ".egg-info")) and re.match(r"adapters([-.]|$)", lowered):
                return True
    return False


def adapters_clash() -> str | None:
    """One line saying what clashes and what to do, or None when no foreign ``adapters`` is installed."""
    if not _metadata_dir_may_exist():
        return None
    from importlib import metadata

    for dist in metadata.distributions(name=CLASHING_DISTRIBUTION):
        name = dist.name or ""
        if _canonical(name) == OUR_DISTRIBUTION:
            continue
        where = dist.locate_file("")
        return (
            f"AdapterHub's `adapters` distribution {dist.version} is installed in this environment ({where}) "
            f"and shares the import name `adapters` with Adapter Hub's ML core; use a separate virtual "
            f"environment for Adapter Hub, or run `pip uninstall adapters` in this one"
        )
    return None
