"""What ``POST /api/validate-yaml`` checks in a repo card's metadata, the way the HF Hub does:
``license`` from the Hub's list, ``tags``/``datasets``/``language`` as lists of strings,
``model-index`` in the shape the Hub's evaluation results take, plus this hub's own
``adapter_hub`` block. ``RepoCard.validate()`` (and so ``push_to_hub``/``metadata_update``) shows
the messages as ``- Error: ...`` lines; each message names the field the way the Hub does.
"""

from __future__ import annotations

from typing import Any

# The Hub's license identifiers (https://huggingface.co/docs/hub/repositories-licenses).
LICENSES = (
    "apache-2.0",
    "mit",
    "openrail",
    "bigscience-openrail-m",
    "creativeml-openrail-m",
    "bigscience-bloom-rail-1.0",
    "bigcode-openrail-m",
    "afl-3.0",
    "artistic-2.0",
    "bsl-1.0",
    "bsd",
    "bsd-2-clause",
    "bsd-3-clause",
    "bsd-3-clause-clear",
    "c-uda",
    "cc",
    "cc0-1.0",
    "cc-by-2.0",
    "cc-by-2.5",
    "cc-by-3.0",
    "cc-by-4.0",
    "cc-by-sa-3.0",
    "cc-by-sa-4.0",
    "cc-by-nc-2.0",
    "cc-by-nc-3.0",
    "cc-by-nc-4.0",
    "cc-by-nd-4.0",
    "cc-by-nc-nd-3.0",
    "cc-by-nc-nd-4.0",
    "cc-by-nc-sa-2.0",
    "cc-by-nc-sa-3.0",
    "cc-by-nc-sa-4.0",
    "cdla-sharing-1.0",
    "cdla-permissive-1.0",
    "cdla-permissive-2.0",
    "wtfpl",
    "ecl-2.0",
    "epl-1.0",
    "epl-2.0",
    "etalab-2.0",
    "eupl-1.1",
    "eupl-1.2",
    "agpl-3.0",
    "gfdl",
    "gpl",
    "gpl-2.0",
    "gpl-3.0",
    "lgpl",
    "lgpl-2.1",
    "lgpl-3.0",
    "isc",
    "h-research",
    "intel-research",
    "lppl-1.3c",
    "ms-pl",
    "apple-ascl",
    "apple-amlr",
    "mpl-2.0",
    "odc-by",
    "odbl",
    "openmdw-1.0",
    "openrail++",
    "osl-3.0",
    "postgresql",
    "ofl-1.1",
    "ncsa",
    "unlicense",
    "zlib",
    "pddl",
    "lgpl-lr",
    "deepfloyd-if-license",
    "fair-noncommercial-research-license",
    "llama2",
    "llama3",
    "llama3.1",
    "llama3.2",
    "llama3.3",
    "llama4",
    "gemma",
    "unknown",
    "other",
)
_STRING_LISTS = ("tags", "datasets", "metrics", "language", "base_model")


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _check_license(value: Any, errors: list[str]) -> None:
    for item in value if isinstance(value, list) else [value]:
        if item not in LICENSES:
            errors.append(f'"license" must be one of [{", ".join(LICENSES)}]')
            return


def _check_model_index(value: Any, errors: list[str]) -> None:
    """``model-index: [{name, results: [{task: {type}, dataset: {type, name}, metrics: [{type, value}]}]}]``"""
    if not isinstance(value, list):
        errors.append('"model-index" must be an array')
        return
    for i, model in enumerate(value):
        where = f'"model-index[{i}]'
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            errors.append(f'{where}.name" is required and must be a string')
            continue
        results = model.get("results")
        if not isinstance(results, list):
            errors.append(f'{where}.results" must be an array')
            continue
        for j, result in enumerate(results):
            at = f"{where}.results[{j}]"
            if not isinstance(result, dict):
                errors.append(f'{at}" must be an object')
                continue
            task, dataset, metrics = result.get("task"), result.get("dataset"), result.get("metrics")
            if not isinstance(task, dict) or not isinstance(task.get("type"), str):
                errors.append(f'{at}.task.type" is required and must be a string')
            if not isinstance(dataset, dict) or not all(isinstance(dataset.get(k), str) for k in ("type", "name")):
                errors.append(f'{at}.dataset" must have string "type" and "name"')
            if not isinstance(metrics, list) or not metrics:
                errors.append(f'{at}.metrics" must be a non-empty array')
                continue
            for k, metric in enumerate(metrics):
                if not isinstance(metric, dict) or not isinstance(metric.get("type"), str) or "value" not in metric:
                    errors.append(f'{at}.metrics[{k}]" must have a string "type" and a "value"')


def _check_adapter_hub(value: Any, errors: list[str]) -> None:
    if not isinstance(value, dict):
        errors.append('"adapter_hub" must be a mapping')
    elif value.get("kind") not in (None, "adapter", "base", "dataset"):
        errors.append('"adapter_hub.kind" must be "adapter", "base" or "dataset"')


def card_problems(front: dict) -> list[str]:
    """The error messages of a card's metadata (empty: valid)."""
    errors: list[str] = []
    if "license" in front:
        _check_license(front["license"], errors)
    for field in _STRING_LISTS:
        value = front.get(field)
        if value is not None and not isinstance(value, str) and not _is_str_list(value):
            errors.append(f'"{field}" must be a string or an array of strings')
    if "model-index" in front:
        _check_model_index(front["model-index"], errors)
    if "adapter_hub" in front:
        _check_adapter_hub(front["adapter_hub"], errors)
    return errors


def as_text(errors: list[str], warnings: list[str]) -> str:
    """The plain-text answer (``Accept: text/plain``) ``RepoCard.validate`` puts in its ValueError."""
    return "\n".join([*(f"- Error: {e}" for e in errors), *(f"- Warning: {w}" for w in warnings)])
