"""The one atomic small-file write: many writers of one file at once, in threads of one process."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from hub_rules import write_atomically


def test_many_threads_writing_one_file_never_collide_and_leave_one_whole_content(tmp_path):
    target = tmp_path / "deep" / "marker"
    contents = [f"writer {i} " * (200 + i) for i in range(16)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(contents))

    def write(text: str) -> None:
        barrier.wait()
        try:
            for _ in range(50):
                write_atomically(target, text)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(c,)) for c in contents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert target.read_text() in contents
    assert sorted(p.name for p in target.parent.iterdir()) == ["marker"], "no temporary is left behind"


def test_mode_is_set_before_any_byte_lands_and_bytes_are_written_as_given(tmp_path):
    target = write_atomically(tmp_path / "key.pem", b"\x00secret\xff", mode=0o600)
    assert target.read_bytes() == b"\x00secret\xff"
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_a_failed_write_keeps_the_old_content_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "refs.json"
    write_atomically(target, "old")
    with pytest.raises(TypeError):
        write_atomically(target, 12345)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["refs.json"]
