"""A file writer that hashes and writes on two background threads, so the socket keeps draining while
sha256 and the disk do their work side by side (both release the GIL). Pulls get close to wire speed
this way: with one thread doing both, the pull waited for hash + write one after the other.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import BinaryIO, Callable

_STOP = None


class _Worker:
    """One consumer thread: applies ``fn`` to every queued chunk; keeps the first error."""

    def __init__(self, fn: Callable[[bytes], object], depth: int, name: str) -> None:
        self.fn = fn
        self.queue: queue.Queue = queue.Queue(maxsize=depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            chunk = self.queue.get()
            if chunk is _STOP:
                return
            if self.error is not None:
                continue
            try:
                self.fn(chunk)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread by finish()
                self.error = exc


class HashingWriter:
    def __init__(self, fh: BinaryIO, depth: int = 256) -> None:
        self._hasher = hashlib.sha256()
        self._workers = (_Worker(fh.write, depth, "hub-blob-writer"),
                         _Worker(self._hasher.update, depth, "hub-blob-hasher"))
        self.written = 0

    def write(self, chunk: bytes) -> None:
        for worker in self._workers:
            if worker.error is not None:
                raise worker.error
        for worker in self._workers:
            worker.queue.put(chunk)
        self.written += len(chunk)

    def finish(self) -> str:
        """Wait for every queued chunk; return ``sha256:<hex>`` of all bytes written."""
        for worker in self._workers:
            worker.queue.put(_STOP)
        for worker in self._workers:
            worker.thread.join()
        for worker in self._workers:
            if worker.error is not None:
                raise worker.error
        return "sha256:" + self._hasher.hexdigest()
