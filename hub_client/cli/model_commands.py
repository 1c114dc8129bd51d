"""`hub methods` and `hub base ...`: what adapter kinds are installed and how bases are prepared.

``register`` only attaches small command functions, so more model-level commands
(merge, combine, run) can be appended here by adding one line each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._output import json_option, print_json, print_table, short_fingerprint, warnings_to_stderr


def _method_rows() -> list[dict[str, Any]]:
    from adapters.registry import list_methods
    from adapters.training import method_defaults
    from adapters.training.objectives import list_objectives

    trainer_wrapped = {o.name for o in list_objectives() if o.needs_peft_config}  # dpo, reward, grpo: need peft_config
    return [
        {
            "name": s.name,
            "summary": s.summary,
            "tasks": list(s.tasks),
            "mergeable": bool(s.mergeable),
            "objectives": [o for o in s.objectives if o not in trainer_wrapped or s.peft_config is not None],
            "quantizable": bool(s.quantizable),
            "continues": s.load_trainable is not None,
            "combinations": list(s.combinations) if s.combinable else [],
            **{f"default_{key}": value for key, value in method_defaults(s).items()},
            "options": [
                {"name": o.name, "type": o.type.__name__, "default": o.default, "help": o.help} for o in s.options
            ],
        }
        for s in list_methods()
    ]


@click.command("methods")
@json_option
def methods_command(as_json: bool) -> None:
    """List installed adapter methods with their options and defaults."""
    rows = _method_rows()
    if as_json:
        print_json(rows)
        return
    for row in rows:
        merge = "mergeable" if row["mergeable"] else "not mergeable"
        quantize = "--quantize nf4|int8" if row["quantizable"] else "no --quantize"
        click.echo(f"{row['name']}  [{', '.join(row['tasks'])}; {merge}; default --lr {row['default_lr']:g}]")
        combine = f"hub combine --how {'|'.join(row['combinations'])}" if row["combinations"] else "no hub combine"
        resume = "hub train --from" if row["continues"] else "no --from"
        click.echo(f"    objectives: {', '.join(row['objectives'])}; {quantize}; {combine}; {resume}")
        click.echo(f"    {row['summary']}")
        for opt in row["options"]:
            flag = "--" + opt["name"].replace("_", "-")
            click.echo(f"    {flag} ({opt['type']}, default {opt['default']!r}): {opt['help']}")


@click.group("base")
def base_group() -> None:
    """Prepare and identify base models."""


@base_group.command("fingerprint")
@click.argument("model_dir", type=click.Path(file_okay=False, path_type=Path))
@json_option
def base_fingerprint_command(model_dir: Path, as_json: bool) -> None:
    """Print the weight fingerprint (sha256:...) of a safetensors model directory."""
    from adapters.base.fingerprint import fingerprint
    from adapters.errors import AdapterError

    if not model_dir.is_dir():
        raise AdapterError(f"{model_dir}: not a directory")
    found = fingerprint(model_dir)
    if as_json:
        print_json({"path": str(model_dir), "fingerprint": found})
        return
    click.echo(found)


@base_group.command("import-gguf")
@click.argument("gguf_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="New model directory.")
@click.option(
    "--id",
    "--base-id",
    "base_id",
    default=None,
    help="The model's id, e.g. ORG/NAME (default: from the GGUF metadata, else the file name).",
)
@json_option
def base_import_gguf_command(gguf_file: Path, out_dir: Path, base_id: str | None, as_json: bool) -> None:
    """Dequantize a GGUF model into an fp32 safetensors directory with a base card (and index it)."""
    from adapters.base.gguf_import import import_gguf
    from adapters.base.index import remember
    from adapters.card import read_card

    with warnings_to_stderr():
        out = import_gguf(gguf_file, out_dir, base_id=base_id)
    card = read_card(out)
    assert card is not None  # import_gguf writes one
    remember(out, card.hub["fingerprint"], str(card.front.get("base_model") or ""), "import-gguf")
    if as_json:
        print_json({"path": str(out), "id": card.front.get("base_model"), "fingerprint": card.hub.get("fingerprint")})
        return
    click.echo(f"{out}  {card.front.get('base_model')}  {card.hub.get('fingerprint')}")


@base_group.command("ls")
@json_option
def base_ls_command(as_json: bool) -> None:
    """The local base index: bases found by fingerprint when a command gets no --base."""
    from adapters.base.index import indexed_bases

    rows = [
        {"fingerprint": b.fingerprint, "id": b.id, "path": str(b.path), "source": b.source} for b in indexed_bases()
    ]
    if as_json:
        print_json(rows)
        return
    print_table(
        [{**r, "fingerprint": short_fingerprint(r["fingerprint"])} for r in rows],
        [("fingerprint", "FINGERPRINT"), ("id", "ID"), ("source", "SOURCE"), ("path", "PATH")],
    )


@base_group.command("add")
@click.argument("model_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--id", "base_id", default=None, help="Id to show for it (default: the base's own).")
@json_option
def base_add_command(model_dir: Path, base_id: str | None, as_json: bool) -> None:
    """Add a base model directory to the local index (its weights are fingerprinted once)."""
    from adapters.base import pin_for, resolve_base
    from adapters.base.index import remember
    from adapters.errors import AdapterError

    if not model_dir.is_dir():
        raise AdapterError(f"{model_dir}: not a directory")
    pin = pin_for(resolve_base(str(model_dir)), base_id=base_id)
    remember(model_dir, pin.fingerprint, pin.id, "hub base add", keep_source=False)
    if as_json:
        print_json({"path": str(model_dir), "id": pin.id, "fingerprint": pin.fingerprint})
        return
    click.echo(f"{model_dir}  {pin.id}  {pin.fingerprint}")
