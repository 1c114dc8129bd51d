"""`hub evaluate --teacher ...`: an adapter's agreement with a teacher on held-out prompts, the numbers the
``distill`` objective reports, reproducible afterwards: the same figures as training's held-out check, zero KL
and full match against itself, a gap for the base alone, a teacher prompt that changes the teacher, and
one-line refusals."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from adapters.evaluation.agreement import evaluate_agreement
from adapters.training import train
from hub_client.cli.main import main
from tests.support.preference_pairs import WORDS
from tests.support.stack_fixtures import make_adapter, pin_adapter
from tests.support.tiny_bases import make_llama_dir, write_jsonl

FAST = {"max_new_tokens": 6, "batch_size": 4, "progress": False}


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    return make_llama_dir(tmp_path_factory.mktemp("base") / "llama", initializer_range=0.1)


@pytest.fixture(scope="module")
def made(llama, tmp_path_factory):
    root = tmp_path_factory.mktemp("agree")
    train_file = write_jsonl(root / "train.jsonl", [{"prompt": f"say {w}"} for w in WORDS[:8]])
    held = write_jsonl(root / "held.jsonl", [{"prompt": f"say {w}"} for w in WORDS[8:]])
    teacher = pin_adapter(make_adapter(llama, root / "teacher", "lora", seed=1), llama)
    student = root / "student"
    result = train(
        llama,
        "lora",
        train_file,
        student,
        objective="distill",
        eval_data=held,
        teacher_adapters=[teacher],
        max_steps=12,
        lr=3e-2,
        **FAST,
    )
    return {"held": held, "teacher": teacher, "student": student, "metrics": result.metrics, "root": root}


def test_agreement_reproduces_the_figures_training_reported(llama, made):
    scores = evaluate_agreement(
        None, made["held"], [made["student"]], teacher_adapters=[made["teacher"]], max_new_tokens=6, batch_size=4
    )
    assert scores["n"] == len(WORDS[8:]) and scores["tokens"] > 0
    assert scores["teacher_kl"] == pytest.approx(made["metrics"]["teacher_kl"], rel=1e-3, abs=1e-5)
    assert scores["greedy_match"] == pytest.approx(made["metrics"]["greedy_match"], abs=1e-6)


def test_an_adapter_agrees_fully_with_itself_and_the_base_alone_does_not(llama, made):
    same = evaluate_agreement(None, made["held"], [made["teacher"]], teacher_adapters=[made["teacher"]])
    assert same["teacher_kl"] == pytest.approx(0.0, abs=1e-6) and same["greedy_match"] == 1.0
    bare = evaluate_agreement(llama, made["held"], (), teacher_adapters=[made["teacher"]])
    assert bare["teacher_kl"] > 0.05 and bare["greedy_match"] < 1.0
    student = evaluate_agreement(None, made["held"], [made["student"]], teacher_adapters=[made["teacher"]])
    assert student["teacher_kl"] < bare["teacher_kl"]  # distillation moved the student towards the teacher


def test_a_teacher_prompt_is_what_the_teacher_sees(llama, made):
    prompt = made["root"] / "prompt.txt"
    prompt.write_text("Answer with the word only. Examples: say cat -> cat. say dog -> dog.\n")
    plain = evaluate_agreement(llama, made["held"], (), teacher_prompt=None, teacher_adapters=[made["teacher"]])
    prompted = evaluate_agreement(llama, made["held"], (), teacher_prompt=prompt, teacher_adapters=[made["teacher"]])
    assert prompted["teacher_kl"] != pytest.approx(plain["teacher_kl"], rel=1e-3)
    base_as_teacher = evaluate_agreement(llama, made["held"], (), teacher_prompt=prompt)
    assert base_as_teacher["teacher_kl"] > 0  # the same base with a prompt is another teacher


def test_cli_prints_the_scores_and_refuses_bad_requests_in_one_line(llama, made):
    runner = CliRunner()
    args = ["evaluate", "--data", str(made["held"]), "--adapter", str(made["student"])]
    out = runner.invoke(main, [*args, "--teacher-adapter", str(made["teacher"]), "--max-new-tokens", "6", "--json"])
    assert out.exit_code == 0, out.output
    shown = json.loads(out.output.strip().splitlines()[-1])
    assert shown["teacher_kl"] == pytest.approx(made["metrics"]["teacher_kl"], rel=1e-3, abs=1e-5)
    text = runner.invoke(main, [*args, "--teacher-adapter", str(made["teacher"]), "--max-new-tokens", "6"])
    assert text.exit_code == 0 and "teacher_kl=" in text.output and "greedy_match=" in text.output
    mixed = runner.invoke(main, [*args, "--teacher-adapter", str(made["teacher"]), "--each", str(made["student"])])
    assert mixed.exit_code == 2 and "--teacher scores one --data file" in mixed.output
    missing = runner.invoke(main, [*args, "--teacher-prompt", str(made["root"] / "nope.txt")])
    assert missing.exit_code != 0 and "Traceback" not in missing.output
    assert len([line for line in missing.output.splitlines() if line.strip()]) == 1, missing.output
    rows = write_jsonl(made["root"] / "bad.jsonl", [{"prompt": "say cat"}, {"answer": "x"}])
    bad = runner.invoke(
        main, ["evaluate", "--data", str(rows), "--adapter", str(made["student"]), "--teacher", str(llama)]
    )
    assert bad.exit_code == 1 and "bad.jsonl:2" in bad.output and "Traceback" not in bad.output
