"""Hand freed heap back to the operating system between the phases of a merge.

glibc keeps freed small blocks in the process, so the transient allocations of loading and folding
would otherwise sit under the pages the save reads next and push the peak above base size + 10%.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache


@lru_cache(maxsize=1)
def _libc():
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> None:
    """Collect garbage cycles, then (on glibc) trim the heap; a no-op where that is not available."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
