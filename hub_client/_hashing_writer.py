"""A file writer that hashes and writes on a background thread, so the socket keeps draining while
sha256 and the disk do their work (both release the GIL). Pulls get close to wire speed this way.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import BinaryIO

_STOP = None


class HashingWriter:
    def __init__(self, fh: BinaryIO, depth: int = 256) -> None:
        self._fh = fh
        self._hasher = hashlib.sha256()
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self.written = 0
        self._thread = threading.Thread(target=self._run, name="hub-blob-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            chunk = self._queue.get()
            if chunk is _STOP:
                return
            if self._error is not None:
                continue
            try:
                self._fh.write(chunk)
                self._hasher.update(chunk)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread by finish()
                self._error = exc

    def write(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put(chunk)
        self.written += len(chunk)

    def finish(self) -> str:
        """Wait for every queued chunk; return ``sha256:<hex>`` of all bytes written."""
        self._queue.put(_STOP)
        self._thread.join()
        if self._error is not None:
            raise self._error
        return "sha256:" + self._hasher.hexdigest()
