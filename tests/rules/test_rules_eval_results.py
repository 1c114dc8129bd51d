"""Declarations in ``.eval_results/*.yaml`` (Hugging Face's newer format) read by the one rule that reads
``model-index`` (``hub_rules.eval_index``): which entries this hub measures, which stay reported only, and
the one-line refusals of a file that is not a list of results."""

from __future__ import annotations

import pytest
from huggingface_hub import EvalResultEntry, eval_result_entries_to_yaml, parse_eval_result_entries

from hub_rules import DeclaredEval, ModelIndexInvalid, declared_evals, eval_results_declared, is_eval_results_path


def test_entries_written_by_huggingface_hub_are_read():
    data = eval_result_entries_to_yaml(
        [
            EvalResultEntry(dataset_id="alice/evalset", task_id="exact_match", value=0.8, dataset_revision="1.0.0"),
            EvalResultEntry(
                dataset_id="alice/evalset", task_id="accuracy", value=None, dataset_revision="2.1.0", notes="split dev"
            ),
            EvalResultEntry(dataset_id="cais/hle", task_id="default", value=20.9, dataset_revision="5503434d" * 5),
            EvalResultEntry(dataset_id="alice/evalset", task_id="f1", value=0.5, dataset_revision="1.0.0"),
            EvalResultEntry(dataset_id="alice/evalset", task_id="exact_match", value=0.5),  # no version: a claim
        ]
    )
    assert eval_results_declared(".eval_results/a.yaml", data) == [
        DeclaredEval("text-generation", "alice/evalset", "1.0.0", "test", "exact_match", 0.8),
        DeclaredEval("text-classification", "alice/evalset", "2.1.0", "dev", "accuracy", None),
    ]
    assert len(parse_eval_result_entries(data)) == 5  # and huggingface_hub reads every entry back


def test_both_sources_are_merged_and_paths_are_recognised():
    front = {
        "model-index": [
            {
                "name": "x",
                "results": [
                    {
                        "task": {"type": "text-generation"},
                        "dataset": {"type": "alice/evalset", "revision": "1.0.0"},
                        "metrics": [{"type": "accuracy", "value": 0.7}],
                    }
                ],
            }
        ]
    }
    files = {
        ".eval_results/b.yaml": [
            {"dataset": {"id": "alice/other", "task_id": "perplexity", "revision": "1.0.0"}, "value": 3}
        ]
    }
    assert [(e.dataset, e.metric) for e in declared_evals(front, files)] == [
        ("alice/evalset", "accuracy"),
        ("alice/other", "perplexity"),
    ]
    assert [
        is_eval_results_path(p)
        for p in (
            ".eval_results/a.yaml",
            ".eval_results/a.yml",
            ".eval_results/x/a.yaml",
            "eval_results/a.yaml",
            ".eval_results/a.json",
        )
    ] == [True, True, False, False, False]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"dataset": {}}, "f must be a list of results ({dataset: {id, task_id}, value})"),
        (["x"], "f[0] must be a mapping"),
        ([{"dataset": {"id": "a/b"}, "value": 1}], "f[0].dataset needs an id and a task_id"),
        ([{"dataset": {"id": "a/b", "task_id": "exact_match"}}], "f[0].value is required"),
        (
            [{"dataset": {"id": "a/b", "task_id": "exact_match", "revision": "1.0.0"}, "value": "high"}],
            "f[0].value must be a finite number or null",
        ),
    ],
)
def test_a_file_that_is_not_a_list_of_results_is_refused(data, message):
    with pytest.raises(ModelIndexInvalid) as refused:
        eval_results_declared("f", data)
    assert str(refused.value) == message
