"""`hub train --data A --data B --mix ...` refusals through the CLI: one line on stderr, exit code 1, nothing
written to --out, before any model loads (the base here does not exist)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from hub_client.cli import main


@pytest.fixture
def env(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"prompt": "a", "completion": "b"}\n' * 4)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.jsonl").write_text('{"prompt": "c", "completion": "d"}\n' * 4)
    (tmp_path / "bad.jsonl").write_text('{"prompt": "a", "completion": "b"}\n{"prompt": "a", "completion": 1}\n')
    return tmp_path


def _train(env, *extra):
    args = ["train", "--base", str(env / "no-base"), "--method", "lora", "--out", str(env / "out"), "--no-progress"]
    return CliRunner().invoke(main, [*args, *extra])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--mix", "temperature=0"],
            "--mix must be proportional, uniform or temperature=T (T > 0), got 'temperature=0'",
        ),
        (["--mix", "sqrt"], "--mix must be proportional, uniform or temperature=T (T > 0), got 'sqrt'"),
        (["--data", "{env}/sub/a.jsonl"], "a second task named 'a'; name them with name=path"),
        (["--data", "{env}/bad.jsonl"], "bad.jsonl:2: "),
        (["--data", "bad name={env}/sub/a.jsonl"], "task name 'bad name' is not a plain name"),
    ],
)
def test_bad_multitask_requests_are_one_line_and_write_nothing(env, extra, message):
    extra = [e.replace("{env}", str(env)) for e in extra]
    result = _train(env, "--data", str(env / "a.jsonl"), "--data", f"b={env / 'sub' / 'a.jsonl'}", *extra)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.output
    assert not (env / "out").exists() and not any(p.name.startswith(".out.") for p in env.iterdir())


def test_mix_with_one_data_file_is_one_line(env):
    result = _train(env, "--data", str(env / "a.jsonl"), "--mix", "uniform")
    assert (
        result.exit_code == 1 and result.output.strip() == "error: --mix weighs several --data files; this run has one"
    )


def test_help_documents_several_data_files_and_the_mix():
    text = CliRunner().invoke(main, ["train", "--help"]).output
    for word in ("Repeatable", "NAME=PATH", "--mix", "proportional", "uniform", "temperature=T"):
        assert word in text, word


def test_hub_info_provenance_shows_each_task_the_mix_and_the_parent(capsys):
    from hub_client.cli._provenance_view import print_provenance

    tasks = [
        {"name": "qa", "path": "qa.jsonl", "sha256": "sha256:aa", "rows": 30},
        {"name": "sum", "path": "sum.jsonl", "sha256": "sha256:bb", "rows": 10},
    ]
    record = {
        "tool": "hub train",
        "base": {"id": "tiny", "fingerprint": "sha256:ff"},
        "data": {"rows": 40, "mix": {"kind": "temperature", "temperature": 2.0}, "tasks": tasks},
        "parent": {"ref": "alice/qa@1.0.0", "method": "lora", "digest": "sha256:cc"},
    }
    print_provenance({"id": "alice/multi", "version": {"version": "1.0.0", "metadata": {"provenance": record}}})
    text = capsys.readouterr().out
    assert "qa: qa.jsonl  sha256:aa  30 rows" in text and "sum: sum.jsonl  sha256:bb  10 rows" in text
    assert "temperature temperature=2.0" in text and "alice/qa@1.0.0  sha256:cc" in text
