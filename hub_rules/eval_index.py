"""Declared evaluations: which eval sets a card's ``model-index`` asks the hub to measure the adapter on.

One rule for the hub (it refuses a bad declaration at publish and enqueues one job per good one) and for
the client (``hub train --eval-data`` writes it, ``hub push`` keeps it). A ``model-index`` result whose
``dataset.type`` is a hub repo id (``ns/name``) and that pins a version (``revision``) is a declaration for
this hub's evaluator: it may name a ``split`` (default ``test``), and its metrics must be ones the evaluator
measures. Results naming other datasets (``glue``, ``wiki``: Hugging Face's own ids) or not pinning one
(``revision`` is optional on the Hugging Face Hub, so cards written there omit it) stay reported only, exactly
as on the Hugging Face Hub; a ``revision`` that is given must be a version.

The same declarations may live in ``.eval_results/*.yaml`` files, Hugging Face's newer format (what
``huggingface_hub.eval_result_entries_to_yaml`` writes): a list of ``{dataset: {id, task_id, revision},
value, ...}``. There ``task_id`` names the metric, and an entry is a declaration for this hub when ``id`` is a
hub repo id, ``revision`` a version and ``task_id`` one of ``METRICS``; the split is ``test`` unless ``notes``
says ``split NAME`` (what this hub writes in its ``evalResults``). Entries of Hugging Face benchmarks (a git
sha as revision, task ids such as ``default``) stay reported only. A file that is not such a list is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import RuleError
from .names import is_repo_id
from .semver import is_version

METRICS = ("exact_match", "accuracy", "preferred_rate", "perplexity")
LOWER_IS_BETTER = frozenset({"perplexity"})
MAX_DECLARED = 20
DEFAULT_SPLIT = "test"
EVAL_RESULTS_DIR = ".eval_results"
MAX_EVAL_RESULTS_BYTES = 256 * 1024
_EVAL_RESULTS_PATH = re.compile(r"\.eval_results/[^/]+\.ya?ml")
_NOTES_SPLIT = re.compile(r"split ([A-Za-z0-9_-]{1,64})")


class ModelIndexInvalid(RuleError):
    """A ``model-index`` that declares an evaluation this hub cannot run as written."""


@dataclass(frozen=True)
class DeclaredEval:
    """One (eval set, metric) the card asks to be verified; ``reported`` is the card's own claim."""

    task: str
    dataset: str
    revision: str
    split: str
    metric: str
    reported: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "dataset": self.dataset,
            "revision": self.revision,
            "split": self.split,
            "metric": self.metric,
            "reported": self.reported,
        }


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _reported(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ModelIndexInvalid(f"{where}.value must be a finite number or null")
    return float(value)


def _split(dataset: dict[str, Any], where: str) -> str:
    split = dataset.get("split", DEFAULT_SPLIT)
    if (
        not isinstance(split, str)
        or not split
        or len(split) > 64
        or not split.replace("-", "").replace("_", "").isalnum()
    ):
        raise ModelIndexInvalid(f"{where}.dataset.split must be a name of letters, digits, - and _")
    return split


def _result_evals(result: Any, where: str) -> list[DeclaredEval]:
    if not isinstance(result, dict):
        raise ModelIndexInvalid(f"{where} must be a mapping")
    dataset = result.get("dataset")
    if not isinstance(dataset, dict) or not _text(dataset.get("type")):
        raise ModelIndexInvalid(f"{where}.dataset.type is required (a hub dataset id ns/name)")
    dataset_id = str(dataset["type"]).strip()
    revision = dataset.get("revision")
    if not is_repo_id(dataset_id) or revision is None:
        return []  # a Hugging Face dataset id, or no version to measure against: reported only
    task = result.get("task")
    task_type = _text(task.get("type")) if isinstance(task, dict) else None
    if task_type is None:
        raise ModelIndexInvalid(f"{where}.task.type is required")
    if not isinstance(revision, str) or not is_version(revision):
        raise ModelIndexInvalid(f"{where}.dataset.revision must pin a version of {dataset_id} (e.g. 1.0.0)")
    split = _split(dataset, where)
    metrics = result.get("metrics")
    if not isinstance(metrics, list) or not metrics:
        raise ModelIndexInvalid(f"{where}.metrics must be a non-empty list")
    found = []
    for k, metric in enumerate(metrics):
        at = f"{where}.metrics[{k}]"
        kind = metric.get("type") if isinstance(metric, dict) else None
        if kind not in METRICS:
            raise ModelIndexInvalid(f"{at}.type must be one of {', '.join(METRICS)}")
        found.append(
            DeclaredEval(task_type, dataset_id, revision, split, str(kind), _reported(metric.get("value"), at))
        )
    return found


def is_eval_results_path(path: str) -> bool:
    """Whether ``path`` is one of the ``.eval_results/*.yaml`` files (top level of that folder)."""
    return bool(_EVAL_RESULTS_PATH.fullmatch(path))


def _entry_evals(entry: Any, where: str) -> list[DeclaredEval]:
    if not isinstance(entry, dict):
        raise ModelIndexInvalid(f"{where} must be a mapping")
    dataset = entry.get("dataset")
    if not isinstance(dataset, dict) or not _text(dataset.get("id")) or not _text(dataset.get("task_id")):
        raise ModelIndexInvalid(f"{where}.dataset needs an id and a task_id")
    if "value" not in entry:
        raise ModelIndexInvalid(f"{where}.value is required")
    dataset_id, metric, revision = str(dataset["id"]).strip(), str(dataset["task_id"]).strip(), dataset.get("revision")
    if not is_repo_id(dataset_id) or not isinstance(revision, str) or not is_version(revision) or metric not in METRICS:
        return []  # a Hugging Face benchmark, or nothing this hub's evaluator measures: reported only
    reported = _reported(entry.get("value"), where)
    notes = entry.get("notes")
    split = _NOTES_SPLIT.fullmatch(notes.strip()) if isinstance(notes, str) else None
    task = "text-classification" if metric == "accuracy" else "text-generation"
    return [DeclaredEval(task, dataset_id, revision, split.group(1) if split else DEFAULT_SPLIT, metric, reported)]


def eval_results_declared(path: str, data: Any) -> list[DeclaredEval]:
    """The declarations of one ``.eval_results/*.yaml`` file (``data``: its parsed YAML)."""
    if not isinstance(data, list):
        raise ModelIndexInvalid(f"{path} must be a list of results ({{dataset: {{id, task_id}}, value}})")
    found: list[DeclaredEval] = []
    for i, entry in enumerate(data):
        found += _entry_evals(entry, f"{path}[{i}]")
    return found


def declared_evals(front: dict[str, Any], eval_results: Mapping[str, Any] | None = None) -> list[DeclaredEval]:
    """The evaluations a card's front matter declares for this hub (empty when it has no ``model-index``),
    and those of the version's ``.eval_results/*.yaml`` files (``eval_results``: path → parsed YAML);
    ``ModelIndexInvalid`` names the first field that is wrong."""
    index = front.get("model-index")
    if index is not None and not isinstance(index, list):
        raise ModelIndexInvalid("model-index must be a list")
    found: list[DeclaredEval] = []
    for i, model in enumerate(index or []):
        if not isinstance(model, dict) or not isinstance(model.get("results", []), list):
            raise ModelIndexInvalid(f"model-index[{i}].results must be a list")
        for j, result in enumerate(model.get("results") or []):
            found += _result_evals(result, f"model-index[{i}].results[{j}]")
    for path, data in sorted((eval_results or {}).items()):
        found += eval_results_declared(path, data)
    keys = [(e.dataset, e.revision, e.split, e.metric) for e in found]
    where = "model-index and .eval_results" if index and eval_results else "model-index" if index else EVAL_RESULTS_DIR
    if len(set(keys)) != len(keys):
        raise ModelIndexInvalid(f"the same dataset, split and metric is declared twice (in {where})")
    if len(found) > MAX_DECLARED:
        raise ModelIndexInvalid(f"{len(found)} evaluations are declared (in {where}); at most {MAX_DECLARED}")
    return found


def model_index_entry(
    name: str, task: str, dataset: str, revision: str, split: str, metrics: dict[str, float | None]
) -> dict[str, Any]:
    """One ``model-index`` item in the shape ``declared_evals`` reads (what ``hub train --eval-data`` writes)."""
    return {
        "name": name,
        "results": [
            {
                "task": {"type": task},
                "dataset": {"type": dataset, "name": dataset, "revision": revision, "split": split},
                "metrics": [{"type": kind, "value": value} for kind, value in metrics.items()],
            }
        ],
    }


def sampling_error(value: float, n: int | None) -> float | None:
    """About two standard errors of a proportion measured on ``n`` rows (a 95% interval's half width)."""
    if not n or not 0.0 <= value <= 1.0:
        return None
    return 2.0 * math.sqrt(max(value * (1.0 - value), 1.0 / n) / n)


def disagrees(metric: str, value: float | None, reported: float | None, n: int | None) -> bool:
    """A claim further from the verified value than the eval set's sampling error (proportions only)."""
    if value is None or reported is None or metric in LOWER_IS_BETTER:
        return False
    error = sampling_error(value, n)
    return error is not None and abs(reported - value) > error
