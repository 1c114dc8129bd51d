"""The data-file rule of dataset repos (``hub_rules.data_files``): types by name, content by
type, rows bounded, every refusal one line naming the file (and the line), streamed in any chunking."""

from __future__ import annotations

import pickle

import pytest

from hub_rules import DataFileRefused, PathRefused, check_data_file, check_data_path, data_kind


def check(path: str, data: bytes, chunk: int = 3, **kw) -> int:
    return check_data_file(path, (data[i : i + chunk] for i in range(0, len(data), chunk)), **kw)


@pytest.mark.parametrize(
    "path, kind",
    [
        ("train.jsonl", "jsonl"),
        ("d/x.ndjson", "jsonl"),
        ("a.csv", "text"),
        ("a.TSV", "text"),
        ("x.json", "json"),
        ("notes.txt", "text"),
        ("README.md", "text"),
        ("p.parquet", "parquet"),
        (".gitattributes", "text"),
        ("img/cat.png", "opaque"),
        ("data/binary_data.bin", "opaque"),
        ("shard.jsonl.gz", "opaque"),
        ("LICENSE", "opaque"),
    ],
)
def test_data_types_are_taken(path, kind):
    assert check_data_path(path) == path
    assert data_kind(path) == kind


@pytest.mark.parametrize("path", ["loader.py", "run.sh", "tool.EXE", "lib/x.so", "nb.ipynb", "a.js"])
def test_code_is_refused_by_name(path):
    with pytest.raises(DataFileRefused) as err:
        check_data_path(path)
    suffix = path[path.rfind(".") :].lower()
    assert str(err.value) == f"{path}: a dataset holds data, not code ({suffix} files are refused)"
    assert isinstance(err.value, PathRefused)


def test_opaque_data_is_kept_as_bytes():
    assert check("audio/a.wav", b"RIFF\x00\x00\xff\xfe") == 8


def test_jsonl_is_checked_line_by_line_across_chunks():
    good = b'{"a": 1}\n\n{"a": [2, 3]}\n{"a": "\xc3\xa9"}'
    assert check("t.jsonl", good) == len(good)
    with pytest.raises(DataFileRefused, match=r"^t.jsonl line 3: not valid JSON \("):
        check("t.jsonl", b'{"a": 1}\n{"a": 2}\n{"a": \n{"a": 4}\n')


def test_rows_are_bounded_even_without_a_newline():
    with pytest.raises(DataFileRefused, match=r"^t.jsonl line 2: a row over 10 bytes$"):
        check("t.jsonl", b'{"a": 1}\n' + b'"' + b"x" * 40, max_row_bytes=10)
    with pytest.raises(DataFileRefused, match=r"^t.csv line 1: a row over 10 bytes$"):
        check("t.csv", b"a" * 11 + b"\n", max_row_bytes=10)


def test_text_must_be_utf8_without_nul():
    assert check("a.csv", "x,y\né,1\n".encode())
    with pytest.raises(DataFileRefused, match=r"^a.csv: not UTF-8 text$"):
        check("a.csv", b"x,y\n\xff,1\n")
    with pytest.raises(DataFileRefused, match=r"^a.txt: a NUL byte in a text file$"):
        check("a.txt", b"abc\x00")


def test_a_pickle_is_no_data_file_whatever_its_name():
    for protocol in (0, 2, 5):
        with pytest.raises(DataFileRefused):
            check("rows.jsonl", pickle.dumps({"a": 1}, protocol=protocol))
    with pytest.raises(DataFileRefused, match="not a Parquet file"):
        check("t.parquet", pickle.dumps([1, 2]))


def test_json_documents_and_parquet_magic():
    assert check("x.json", b'{"rows": [1, 2]}')
    with pytest.raises(DataFileRefused, match=r"^x.json: not valid JSON \("):
        check("x.json", b'{"rows": [1, 2]')
    assert check("p.parquet", b"PAR1" + bytes(10) + b"PAR1", chunk=5)
    with pytest.raises(DataFileRefused, match=r"^p.parquet: not a Parquet file \(it must start and end with PAR1\)$"):
        check("p.parquet", b"PAR1" + bytes(10) + b"PAR2")


def test_bad_json_is_refused_naming_the_file_the_line_and_the_parser_s_first_line():
    with pytest.raises(DataFileRefused) as info:
        check_data_file("d.jsonl", [b'{"a": 1}\n{bad\n'])
    assert str(info.value) == (
        "d.jsonl line 2: not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"
    )
    with pytest.raises(DataFileRefused) as info:
        check_data_file("d.json", [b"[1, 2"])
    assert str(info.value) == "d.json: not valid JSON (Expecting ',' delimiter: line 1 column 6 (char 5))"
