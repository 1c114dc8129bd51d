"""A file writer that writes and hashes on two background threads, fed from a few reusable buffers,
so the socket keeps draining while the disk and sha256 do their work (both release the GIL).

The reader borrows a buffer (``buffer()``), reads straight into it, and hands it over with
``commit()``; the buffer goes writer thread → hasher thread → back to the free list. Reusing a few
large buffers instead of allocating a fresh ``bytes`` per chunk saves a copy and the page faults
of every new allocation, and the bounded free list caps memory (``buffers × buffer_size``).
``write()`` copies ``bytes`` chunks into the same buffers.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
from typing import Any, BinaryIO

# 256 KiB buffers, 8 MiB in flight: a buffer still sits in the CPU's cache when the writer and then the
# hasher read it. Measured ABBA against curl on a shared 2-core machine (500 MB, 10 rounds): 256 KiB x 32
# used ~0.65 CPU s per pull and reached 0.93x curl; 1 MiB x 8 used ~0.77 CPU s (0.74x); 4 MiB x 6 more.
BUFFER_SIZE = 256 << 10
BUFFERS = 32
_STOP = None


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


class HashingWriter:
    """Write every committed byte to ``out`` (an open binary file or a file descriptor) in order and
    hash exactly those bytes; the first error of a background thread is raised in the caller."""

    def __init__(self, out: BinaryIO | int, *, buffers: int = BUFFERS, buffer_size: int = BUFFER_SIZE) -> None:
        self._fd = out if isinstance(out, int) else out.fileno()
        self._hasher = hashlib.sha256()
        # SimpleQueue: a C queue, far cheaper per handoff than queue.Queue (six handoffs per buffer). Unbounded,
        # and need not be bounded: every item in flight is one of the ``buffers`` buffers (bytes are copied in).
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(buffers):
            self._free.put(bytearray(buffer_size))
        self._to_disk: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._to_hash: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.error: BaseException | None = None
        self.written = 0
        self._threads = (
            threading.Thread(target=self._disk, name="hub-blob-writer", daemon=True),
            threading.Thread(target=self._hash, name="hub-blob-hasher", daemon=True),
        )
        for thread in self._threads:
            thread.start()
        self._finished = False

    # --- the caller's side -------------------------------------------------------------------
    def buffer(self) -> bytearray:
        """A free buffer to read into (blocks while every buffer is on its way to disk or hasher)."""
        self._raise_if_failed()
        return self._free.get()

    def give_back(self, buf: bytearray) -> None:
        """Return a borrowed buffer unused."""
        self._free.put(buf)

    def commit(self, buf: bytearray, start: int, end: int) -> None:
        """Write and hash ``buf[start:end]``; ``buf`` returns to the free list once both are done."""
        self._raise_if_failed()
        self._to_disk.put((memoryview(buf)[start:end], buf))
        self.written += end - start

    def write(self, chunk: bytes) -> None:
        """Write and hash a ``bytes`` chunk, copied into the buffers (so memory stays bounded)."""
        view = memoryview(chunk)
        while view:
            buf = self.buffer()
            n = min(len(buf), len(view))
            buf[:n] = view[:n]
            self.commit(buf, 0, n)
            view = view[n:]

    def finish(self) -> str:
        """Wait for every queued byte; return ``sha256:<hex>`` of all bytes written."""
        if not self._finished:
            self._finished = True
            self._to_disk.put(_STOP)
            for thread in self._threads:
                thread.join()
        self._raise_if_failed()
        return "sha256:" + self._hasher.hexdigest()

    def _raise_if_failed(self) -> None:
        if self.error is not None:
            raise self.error

    # --- the two threads ---------------------------------------------------------------------
    def _disk(self) -> None:
        while True:
            item = self._to_disk.get()
            if item is not _STOP and self.error is None:
                try:
                    _write_all(self._fd, item[0])
                except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                    self.error = exc
            self._to_hash.put(item)
            if item is _STOP:
                return

    def _hash(self) -> None:
        while True:
            item = self._to_hash.get()
            if item is _STOP:
                return
            view, buf = item
            try:
                if self.error is None:
                    self._hasher.update(view)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self.error = exc
            finally:  # the buffer always comes back: the reader must never wait forever
                view.release()
                self._free.put(buf)
