"""The card of a freshly trained adapter: its front matter (schema: docs/contracts.md) and its text.

Why its own module: ``run`` decides what a run does; what the card says about it (method, options, base pin,
metrics, training settings, provenance, members) is a separate, documented contract."""

from __future__ import annotations

from typing import Any

from ..provenance import library_versions
from ..registry import MethodSpec


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_json_safe(v) for v in (sorted(value) if isinstance(value, set) else value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def build_card(
    pin: Any,
    spec: MethodSpec,
    options: dict,
    task: str,
    metrics: dict,
    settings: dict,
    label_names: list[str] | None,
    license: str = "apache-2.0",
    objective: dict | None = None,
    quantize: str | None = None,
    provenance: dict | None = None,
    lineage: list[dict] | None = None,
) -> dict:
    """The model card front matter for a freshly trained adapter (schema: docs/contracts.md).

    ``quantization`` sits next to ``base``: the pin names the full-precision weights, the quantization how
    they were loaded while training."""
    from .quantize import card_entry

    pin_dict = pin.to_dict()
    objective = objective or {"name": task}
    hub = {
        "kind": "adapter",
        "method": spec.name,
        "method_options": _json_safe(options),
        "task": task,
        "objective": dict(objective),
        "base": pin_dict,
        "metrics": {k: round(float(v), 6) for k, v in metrics.items()},
        "training": _json_safe(settings),
        "lineage": _json_safe(lineage or []),
        "usage": "",
        "versions": library_versions(),
    }
    if quantize is not None:
        hub["quantization"] = card_entry(quantize)
    if provenance:
        hub["provenance"] = _json_safe(provenance)
    if label_names:
        hub["label_names"] = list(label_names)
    extra_tags = [
        t for t in (objective["name"] if objective["name"] != task else None, "qlora" if quantize else None) if t
    ]
    return {
        "library_name": "peft",
        "base_model": pin_dict.get("id"),
        "base_model_relation": "adapter",
        "license": license,
        "tags": ["adapter-hub", spec.name, task, *extra_tags],
        "adapter_hub": hub,
    }


def card_body(spec: MethodSpec, base_id: str, task: str, metrics: dict, lineage: list[dict] | None = None) -> str:
    shown = ", ".join(f"{k} = {v:.4g}" for k, v in metrics.items()) or "none"
    built = ""
    if lineage:  # the adapters it is built from (fusion's members), each with the digest of its files
        rows = [
            f"- `{e.get('id')}{'@' + e['version'] if e.get('version') else ''}` ({e.get('method')}, "
            f"`{e.get('digest')}`{', in `' + e['path'] + '/`' if e.get('path') else ''})"
            for e in lineage
        ]
        built = "Built from:\n\n" + "\n".join(rows) + "\n\n"
    return (
        f"# {spec.name} adapter for {base_id}\n\n"
        f"Task: `{task}`. Held-out metrics: {shown}.\n\n"
        f"{built}"
        f"Load it with `hub run` / `adapters.load_stack`, or with PEFT when the method is PEFT-backed.\n"
    )
