"""Pickles are recognised by their bytes, not their names: a file is refused when its content
parses as a pickle stream (any protocol, the protocol-0 text form included) or when it is a zip
archive (a torch ``.pt`` checkpoint, say) holding a pickle. A ``.bin`` that is not a pickle is an
ordinary file; a pickle called ``data.txt`` is still a pickle.

Nothing here ever unpickles: the stream is only walked opcode by opcode (``pickletools``), over a
bounded prefix, and zip members are found through the archive's central directory (``zipfile``)
read through a ranged reader, so a large file costs a few bounded reads.
"""

from __future__ import annotations

import io
import pickletools
import warnings
import zipfile
from collections.abc import Callable
from typing import Any

from .errors import PathRefused

PREFIX_BYTES = 64 * 1024
MAX_ZIP_MEMBERS = 4096
PICKLE_MEMBER_SUFFIXES = (".pkl", ".pickle")
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# A protocol 0/1 pickle of any container stores it in the memo: random text that happens to
# decode as opcodes for a while does not.
_MEMO = {"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}

_MIN_CUT_OPCODES = 64  # a text pickle (protocol 0) cut by the prefix: plain data, many opcodes

Reader = Callable[[int, int], bytes]  # (offset, length) -> at most length bytes from offset


def refused_message(path: str) -> str:
    """The one line every refusal of a pickle carries, whatever found it."""
    return f"{path}: pickle formats are refused; save weights as .safetensors"


def is_pickle_stream(prefix: bytes, complete: bool) -> bool:
    """Whether ``prefix`` (the first bytes of a file; the whole file when ``complete``) is a pickle.

    A stream that reaches STOP within the prefix must also pass ``pickletools.dis``'s stack and
    memo checks (so ``hello`` or a lone ``.`` is not a pickle). A stream cut by the prefix counts
    when every byte up to the cut decodes as opcodes and it opens with PROTO (protocol 2+) or a
    GLOBAL (a protocol-0 object), or it decoded ``_MIN_CUT_OPCODES`` opcodes and memoized an
    object (protocols 0 and 1). Bytes after STOP are trusted only behind PROTO (torch's legacy
    format is several protocol-2 pickles then raw storage), so random data that happens to open
    with a tiny pickle is not refused.
    """
    if not prefix:
        return False
    seen: set[str] = set()
    count, end, first = 0, None, ""
    stream = io.BytesIO(prefix)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # arbitrary bytes read as string opcodes warn about escapes
            for opcode, _, pos in pickletools.genops(stream):
                seen.add(opcode.name)
                first = first or opcode.name
                count += 1
                if opcode.name == "STOP":
                    end = (pos or 0) + 1
                    break
    except ValueError:
        # junk stops the walk before the end; a stream cut by the prefix fails only there
        cut = not complete and stream.tell() == len(prefix)
        return cut and (first in ("PROTO", "GLOBAL") or (count >= _MIN_CUT_OPCODES and bool(seen & _MEMO)))
    if end is None or (end < len(prefix) and first != "PROTO"):
        return False  # bytes after STOP: only a protocol 2+ stream (torch's legacy format) is trusted
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pickletools.dis(prefix[:end], out=io.StringIO())
    except (ValueError, KeyError, IndexError, TypeError):
        return False
    return True


class _RangedFile(io.RawIOBase):
    """A read-only seekable file over a ``Reader``, so ``zipfile`` reads only what it needs."""

    def __init__(self, read: Reader, size: int) -> None:
        self._read, self._size, self._pos = read, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self._size - self._pos)
        if want <= 0:
            return 0
        data = self._read(self._pos, want)
        buffer[: len(data)] = data
        self._pos += len(data)
        return len(data)


def zip_holds_pickle(read: Reader, size: int) -> bool:
    """Whether the zip archive has a member named like a pickle or whose bytes are one."""
    try:
        with zipfile.ZipFile(io.BufferedReader(_RangedFile(read, size), 64 * 1024)) as archive:
            members = archive.infolist()[:MAX_ZIP_MEMBERS]
            for info in members:
                if info.filename.lower().endswith(PICKLE_MEMBER_SUFFIXES):
                    return True
            for info in members:
                if info.is_dir() or info.file_size == 0:
                    continue
                with archive.open(info) as member:
                    prefix = member.read(PREFIX_BYTES)
                if is_pickle_stream(prefix, complete=info.file_size <= len(prefix)):
                    return True
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, ValueError, EOFError, OSError):
        return False  # not a readable archive: its bytes were already checked as a stream
    return False


def is_pickle(read: Reader, size: int) -> bool:
    """Whether a file of ``size`` bytes, read through ``read``, is or holds a pickle."""
    if size <= 0:
        return False
    prefix = read(0, min(size, PREFIX_BYTES))
    if is_pickle_stream(prefix, complete=size <= len(prefix)):
        return True
    return prefix[:4] in ZIP_MAGIC and zip_holds_pickle(read, size)


def is_pickle_bytes(data: bytes) -> bool:
    return is_pickle(lambda offset, length: data[offset : offset + length], len(data))


def check_not_pickle_content(path: str, read: Reader, size: int) -> None:
    """Raise ``PathRefused`` with ``refused_message`` when the file is or holds a pickle."""
    if is_pickle(read, size):
        raise PathRefused(refused_message(path))
