"""Several `--data` files train one adapter: rows drawn per task by `--mix` (proportional, uniform, temperature=T),
exact and seeded; tasks named by stem or name=path; held out per task and each scored alone on the new adapter
(the evaluator's own numbers, in the card and the CLI output); one `--data` is today's run; a bad mix, a bad row
or two tasks of one name are one line with nothing written."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from click.testing import CliRunner

from adapters.card import read_card
from adapters.errors import AdapterError
from adapters.training import train
from adapters.training.multitask import Mix, mix_counts, mix_tasks, parse_mix, task_sources
from hub_client.cli.main import main
from tests.support.tiny_bases import copy_task_rows, make_llama_dir, write_jsonl

FAST = {"progress": False, "batch_size": 4, "max_steps": 1}


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    copy = write_jsonl(root / "copy.jsonl", copy_task_rows(30))
    flip = write_jsonl(
        root / "flip.jsonl",
        [{"prompt": f"flip {w}", "completion": w[::-1]} for w in ("ab", "cd", "ef", "gh", "ij")] * 2,
    )
    return copy, flip


def test_mix_values_parse_and_bad_ones_are_one_line():
    assert parse_mix(None) == Mix("proportional") and parse_mix("uniform") == Mix("uniform")
    assert parse_mix("temperature=2") == Mix("temperature", 2.0)
    for bad in ("", "temperature=0", "temperature=-1", "temperature=abc", "temperature=inf", "temp=2", "uniform=1"):
        with pytest.raises(AdapterError) as caught:
            parse_mix(bad)
        assert str(caught.value) == f"--mix must be proportional, uniform or temperature=T (T > 0), got {bad!r}"


def test_counts_follow_the_mix_and_sum_to_the_tasks_rows():
    assert mix_counts([30, 10], Mix("proportional")) == [30, 10]
    assert mix_counts([30, 10], Mix("uniform")) == [20, 20]
    share = 30**0.5 / (30**0.5 + 10**0.5)  # p_i proportional to n_i^(1/T), T=2
    assert mix_counts([30, 10], Mix("temperature", 2.0)) == [round(40 * share), 40 - round(40 * share)] == [25, 15]
    assert mix_counts([30, 10], Mix("temperature", 1.0)) == [30, 10]
    assert mix_counts([7, 5, 1], Mix("uniform")) == [5, 4, 4]  # largest remainder, ties to the first task


def test_rows_are_drawn_per_task_seeded_and_upsampled_evenly():
    a = [{"text": f"a{i}"} for i in range(30)]
    b = [{"text": f"b{i}"} for i in range(10)]
    rows, tags, counts = mix_tasks([("a", a), ("b", b)], Mix("uniform"), seed=0)
    assert counts == [20, 20] and Counter(tags) == {"a": 20, "b": 20} and len(rows) == 40
    assert all(r["text"][0] == t for r, t in zip(rows, tags, strict=True))  # each row carries its task's tag
    from_b = Counter(r["text"] for r in rows if r["text"].startswith("b"))
    assert from_b == {r["text"]: 2 for r in b}  # 20 of 10 rows: every row twice
    from_a = [r["text"] for r in rows if r["text"].startswith("a")]
    assert len(set(from_a)) == 20  # 20 of 30: without replacement
    assert mix_tasks([("a", a), ("b", b)], Mix("uniform"), seed=0) == (rows, tags, counts)
    assert mix_tasks([("a", a), ("b", b)], Mix("uniform"), seed=1)[0] != rows
    same, _, _ = mix_tasks([("a", a), ("b", b)], Mix("proportional"), seed=0)
    assert sorted(r["text"] for r in same) == sorted(r["text"] for r in a + b)


def test_tasks_are_named_by_stem_or_name_and_clashes_are_refused(tmp_path):
    a, b = tmp_path / "x" / "qa.jsonl", tmp_path / "y" / "qa.jsonl"
    assert [(s.name, s.path) for s in task_sources([str(a), f"other={b}"])] == [("qa", a), ("other", b)]
    with pytest.raises(AdapterError, match="a second task named 'qa'; name them with name=path"):
        task_sources([str(a), str(b)])


def test_two_tasks_train_one_adapter_by_the_mix_and_each_is_scored_alone(llama, files, tmp_path):
    from adapters.evaluation import evaluate
    from adapters.training.data import read_jsonl, split_eval

    copy, flip = files
    found = {}
    for mix in ("proportional", "uniform"):
        result = train(llama, "lora", [str(copy), f"rev={flip}"], tmp_path / mix, mix=mix, **FAST)
        card = read_card(tmp_path / mix)
        found[mix] = {t["name"]: t["mixed_rows"] for t in card.hub["multitask"]["tasks"]}
        assert card.hub["multitask"] == result.tasks and card.hub["multitask"]["mix"] == {"kind": mix}
        assert result.settings["train_records"] == 27 + 9 and result.settings["dataset"] == "copy+rev"
        assert "multi-task" in card.front["tags"] and "## Tasks" in card.body
    assert found == {"proportional": {"copy": 27, "rev": 9}, "uniform": {"copy": 18, "rev": 18}}
    card = read_card(tmp_path / "uniform")
    for entry, path in zip(card.hub["multitask"]["tasks"], (copy, flip), strict=True):
        assert entry["path"] == str(path) and entry["rows"] == len(read_jsonl(path)) and entry["sha256"]
        held = split_eval(read_jsonl(path), 0.1, 0)[1]
        (tmp_path / f"{entry['name']}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in held))
        alone = evaluate(
            llama, tmp_path / f"{entry['name']}.jsonl", [tmp_path / "uniform"], batch_size=4, progress=False
        )
        assert entry["eval"] == {"exact_match": alone.exact_match, "perplexity": alone.perplexity}
        assert entry["eval_rows"] == len(held)
    provenance = card.hub["provenance"]["data"]
    assert provenance["rows"] == 40 and [t["name"] for t in provenance["tasks"]] == ["copy", "rev"]


def test_one_data_file_is_todays_run_and_mix_needs_several(llama, files, tmp_path):
    result = train(llama, "lora", [files[0]], tmp_path / "one", **FAST)
    card = read_card(tmp_path / "one")
    assert result.tasks is None and "multitask" not in card.hub
    assert card.hub["provenance"]["data"]["path"] == str(files[0]) and card.hub["training"]["dataset"] == str(files[0])
    with pytest.raises(AdapterError, match="--mix weighs several --data files; this run has one"):
        train(llama, "lora", files[0], tmp_path / "two", mix="uniform", **FAST)
    assert not (tmp_path / "two").exists()


def test_a_bad_row_in_any_task_names_file_and_line(llama, files, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "a", "completion": "b"}\n\n{"text": 5}\n')
    with pytest.raises(AdapterError, match=r"bad\.jsonl:3: "):
        train(llama, "lora", [files[0], bad], tmp_path / "out", **FAST)
    assert not (tmp_path / "out").exists() and not any(p.name.startswith(".out.") for p in tmp_path.iterdir())


def test_cli_trains_several_tasks_and_shows_each(llama, files, tmp_path):
    args = ["train", "--base", str(llama), "--method", "lora", "--data", str(files[0]), "--data", f"rev={files[1]}"]
    args += ["--mix", "temperature=2", "--max-steps", "1", "--no-progress"]
    shown = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a"), "--json"])
    assert shown.exit_code == 0, shown.output
    tasks = json.loads(shown.stdout.strip().splitlines()[-1])["tasks"]
    assert tasks == read_card(tmp_path / "a").hub["multitask"]
    assert tasks["mix"] == {"kind": "temperature", "temperature": 2.0}
    assert [t["mixed_rows"] for t in tasks["tasks"]] == mix_counts([27, 9], Mix("temperature", 2.0)) == [23, 13]
    text = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b")])
    assert text.exit_code == 0, text.output
    assert "tasks (mix temperature=2):" in text.stdout and "  rev: 10 rows, trained on 13  exact_match=" in text.stdout
