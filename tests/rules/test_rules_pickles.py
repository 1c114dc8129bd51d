"""The pickle rule of ``hub_rules.pickles``: pickles are found by their bytes (every protocol, torch
zip archives, pickles inside any zip), and files that merely look odd are not refused."""

from __future__ import annotations

import base64
import io
import os
import pickle
import random
import zipfile

import pytest

from hub_rules import PathRefused, check_not_pickle_content, is_pickle_bytes


class Point:  # pickled by reference: the stream names a global, nothing is ever loaded
    def __init__(self, x: int) -> None:
        self.x = x


SAMPLES = {
    "small dict": {"a": 1, "b": [1.5, "x"]},
    "object": Point(3),
    "big list": list(range(60_000)),
    "big bytes": os.urandom(200_000),
    "many strings": {str(i): "v" * 40 for i in range(5_000)},
}


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_every_protocol_is_a_pickle(protocol, sample):
    assert is_pickle_bytes(pickle.dumps(SAMPLES[sample], protocol=protocol))


def _zip(members: dict[str, bytes], compression: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buf.getvalue()


def test_torch_style_zip_and_pickles_inside_any_zip():
    torch_like = _zip(
        {"archive/data.pkl": pickle.dumps({"w": 1}, protocol=2), "archive/version": b"3\n", "archive/data/0": bytes(64)}
    )
    assert is_pickle_bytes(torch_like)
    renamed = _zip({"weights/blob": pickle.dumps([1, 2], protocol=4)}, zipfile.ZIP_DEFLATED)
    assert is_pickle_bytes(renamed)  # found by the member's bytes, not its name
    assert not is_pickle_bytes(_zip({"notes.txt": b"hello world\n", "data.csv": b"a,b\n1,2\n"}))


def test_legacy_torch_stream_with_trailing_storage():
    stream = pickle.dumps(0x1950A86A20F9469CFC6C, protocol=2) + pickle.dumps(1001, protocol=2) + os.urandom(100_000)
    assert is_pickle_bytes(stream)


TEXTS = [
    b"",
    b".",
    b"hello world\n",
    b'{"a": 1}\n',
    b"a,b\n1,2\n" * 1000,
    b"0" * 100_000,
    b"1\n2\n3\n" * 30_000,
    "Grüße ü\n".encode() * 500,
]


@pytest.mark.parametrize("data", TEXTS, ids=range(len(TEXTS)))
def test_text_is_not_a_pickle(data):
    assert not is_pickle_bytes(data)


def test_random_and_encoded_bytes_are_not_pickles():
    rng = random.Random(7)
    for _ in range(300):
        raw = rng.randbytes(rng.randrange(1, 150_000))
        for data in (raw, base64.b64encode(raw), base64.encodebytes(raw), raw.hex().encode()):
            assert not is_pickle_bytes(data), data[:16]


def test_refusal_message_is_the_one_line():
    data = pickle.dumps([1], protocol=0)
    with pytest.raises(PathRefused) as caught:
        check_not_pickle_content("data.txt", lambda start, n: data[start : start + n], len(data))
    assert str(caught.value) == "data.txt: pickle formats are refused; save weights as .safetensors"
    check_not_pickle_content("w.bin", lambda start, n: b"\x00\x01"[start : start + n], 2)  # not a pickle


@pytest.mark.parametrize("name", ["model.pkl", "Model.PKL", "state/weights.Pickle"])
def test_a_zip_member_named_like_a_pickle_is_refused_whatever_its_bytes_and_case(name):
    assert is_pickle_bytes(_zip({"notes.txt": b"hello\n", name: b"not pickle bytes at all\n"}))


def test_empty_members_and_folders_before_a_pickle_do_not_end_the_search():
    members = {"empty.txt": b"", "folder/": b"", "weights/blob": pickle.dumps({"w": [1, 2]}, protocol=4)}
    assert is_pickle_bytes(_zip(members))
