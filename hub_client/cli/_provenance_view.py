"""How ``hub info`` and ``hub search`` show a version's signature and ``hub info --provenance`` its record."""

from __future__ import annotations

from typing import Any

import click

from ._output import print_fields, short_fingerprint


def signed_text(signature: dict[str, Any] | None, *, short: bool = False) -> str:
    """``signed by alice (key sha256:abcd…)`` / ``unsigned``; ``short`` for table cells."""
    if not signature:
        return "unsigned"
    user = signature.get("signed_by")
    if short:
        return f"by {user}" + (" (revoked key)" if signature.get("key_revoked") else "")
    text = f"signed by {user} (key {short_fingerprint(signature.get('key'))})"
    if signature.get("key_revoked"):
        text += ", key since REVOKED"
    if signature.get("owner_key") is False:
        text += ", not the namespace owner's key"
    return text


def print_provenance(data: dict[str, Any]) -> None:
    """The provenance record of the version ``data`` describes (``hub info`` JSON), in plain lines."""
    detail = data.get("version") or {}
    meta = detail.get("metadata") or data.get("metadata") or {}
    record = meta.get("provenance") or {}
    label = f"{data.get('id')}@{detail.get('version') or data.get('latest_version')}"
    click.echo(f"{label}  commit {detail.get('commit') or '-'}  {signed_text(detail.get('signature'))}")
    if not record:
        click.echo("no provenance record (not made by hub train / hub combine)")
        return
    base = record.get("base") or {}
    fields = [
        ("made by", record.get("tool")),
        (
            "base",
            f"{base.get('id')}"
            + (f"@{base['revision']}" if base.get("revision") else "")
            + f" ({base.get('fingerprint') or 'unpinned'})",
        ),
    ]
    for key in ("data", "eval_data"):
        item = record.get(key)
        for one in (item.get("tasks") or [item]) if isinstance(item, dict) else []:  # several --data: one line each
            name = f"{one['name']}: " if one.get("name") else ""
            fields.append(
                (key.replace("_", " "), f"{name}{one.get('path')}  {one.get('sha256')}  {one.get('rows')} rows")
            )
    data_item = record.get("data")
    if isinstance(data_item, dict) and isinstance(data_item.get("mix"), dict):
        mix = data_item["mix"]
        fields.append(("mix", " ".join(f"{k}={v}" if k != "kind" else str(v) for k, v in mix.items())))
    parent_item = record.get("parent")
    if isinstance(parent_item, dict):
        where = parent_item.get("ref") or parent_item.get("path")
        fields.append(("continued from", f"{where}  {parent_item.get('digest')}"))
    for key in (
        "method",
        "how",
        "task",
        "objective",
        "seed",
        "epochs",
        "steps",
        "max_steps",
        "lr",
        "batch_size",
        "max_length",
    ):
        if record.get(key) is not None:
            fields.append((key.replace("_", " "), record[key]))
    if record.get("options"):
        fields.append(("options", record["options"]))
    if record.get("metrics"):
        fields.append(("metrics", record["metrics"]))
    fields.append(("versions", record.get("versions")))
    print_fields(fields)
    for parent in record.get("parents") or []:
        name = f"{parent.get('id')}@{parent.get('version')}" if parent.get("version") else str(parent.get("id"))
        click.echo(f"  parent {name}  commit {parent.get('commit') or '-'}  weight {parent.get('weight')}")
