"""``hub push / pull / search / info / versions / yank`` (and the login commands): parse, call
HubClient, print. Nothing here talks HTTP or touches the cache directly.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import click

from ..errors import BadReference
from ._output import (
    client_options,
    human_size,
    json_option,
    make_client,
    print_fields,
    print_json,
    print_table,
    short_fingerprint,
    warnings_to_stderr,
)
from ._provenance_view import print_provenance, signed_text


@click.command("push")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.argument("repo_id")
@click.option("--version", "version", required=True, help="Semantic version to publish, e.g. 1.0.0.")
@click.option("--base", default=None, help="Pin to a base: a local model dir or hub://NS/NAME[@VERSION].")
@click.option(
    "--private", is_flag=True, help="Create the repo as private (refused when the repo already exists and is public)."
)
@click.option("--make-private", is_flag=True, help="Make the repo private (creating it so) before publishing.")
@click.option("--kind", type=click.Choice(["adapter", "base", "dataset"]), default=None, help="Default: from the card.")
@click.option("-m", "--message", default="", help="Message stored with the version.")
@click.option("--sign", is_flag=True, help="Sign the files into model.sig first (key registered with `hub keys add`).")
@click.option(
    "--key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Private key for --sign (default: the one `hub keys generate` wrote).",
)
@client_options
@json_option
def push(
    directory: Path,
    repo_id: str,
    version: str,
    base: str | None,
    private: bool,
    make_private: bool,
    kind: str | None,
    message: str,
    sign: bool,
    key: Path | None,
    endpoint: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Upload DIRECTORY as version --version of REPO_ID (NAMESPACE/NAME)."""
    if key is not None and not sign:
        raise click.UsageError("--key only makes sense with --sign")
    with warnings_to_stderr(), make_client(endpoint, token) as client:
        result = client.push(
            directory,
            repo_id,
            version,
            private=private,
            kind=kind,
            base=base,
            message=message,
            sign=sign,
            key=key,
            make_private=make_private,
        )
    if as_json:
        print_json(dataclasses.asdict(result))
        return
    state = "published" if result.created else "already published (identical)"
    click.echo(
        f"{result.repo_id}@{result.version} {state}: commit {result.commit}, "
        f"{result.uploaded_blobs} blob(s) uploaded ({human_size(result.uploaded_bytes)}), "
        f"{result.skipped_blobs} already on the hub"
    )


@click.command("pull")
@click.argument("reference")
@click.option(
    "--to",
    "to",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Copy the files into this directory.",
)
@click.option("--offline", is_flag=True, help="Use only the local cache.")
@click.option(
    "--require-signed",
    is_flag=True,
    help="Refuse unsigned versions and foreign keys (also HUB_REQUIRE_SIGNED=1 or config.yaml).",
)
@client_options
@json_option
def pull(
    reference: str,
    to: Path | None,
    offline: bool,
    require_signed: bool,
    endpoint: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Download NS/NAME[@VERSION] (version, main, commit or range like ^1.2) and print its local path.

    A signed version is verified; its signer's key is pinned the first time it is seen."""
    from ..refs import parse_repo_ref

    ref = parse_repo_ref(reference)
    with warnings_to_stderr(), make_client(endpoint, token) as client:
        path, verdict = client.pull_verified(
            ref.repo_id, ref.ref, to=to, offline=offline, require_signed=require_signed or None
        )
    if as_json:
        signed = None
        if verdict is not None:
            signed = {
                "user": verdict.user,
                "fingerprint": verdict.fingerprint,
                "first_use": verdict.first_use,
                "revoked": verdict.revoked,
            }
        print_json({"repo_id": ref.repo_id, "ref": ref.ref, "path": str(path), "signed_by": signed})
        return
    if verdict is not None:
        click.echo(verdict.describe(), err=True)
    click.echo(str(path))


@click.command("search")
@click.argument("text", required=False)
@click.option("--base", default=None, help="Base model id.")
@click.option("--fingerprint", default=None, help="Fingerprint (sha256:...) of the base adapters are pinned to.")
@click.option("--model-fingerprint", default=None, help="Fingerprint (sha256:...) of a base repo's own weights.")
@click.option("--method", default=None)
@click.option("--task", default=None)
@click.option("--tag", default=None)
@click.option("--kind", type=click.Choice(["adapter", "base", "dataset"]), default=None)
@click.option("--namespace", default=None)
@click.option("--license", "license_", default=None)
@click.option(
    "--sort",
    default=None,
    callback=lambda _ctx, _param, value: _search_sort(value),
    help="downloads, likes, updated, name, or verified:METRIC (e.g. verified:exact_match): the best value "
    "the hub's evaluator measured first (lowest first for perplexity).",
)
@click.option("--verified", is_flag=True, help="Only repos with a verified evaluation result.")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True)
@client_options
@json_option
def search(
    text: str | None,
    base: str | None,
    fingerprint: str | None,
    model_fingerprint: str | None,
    method: str | None,
    task: str | None,
    tag: str | None,
    kind: str | None,
    namespace: str | None,
    license_: str | None,
    sort: str | None,
    verified: bool,
    limit: int,
    endpoint: str | None,
    token: str | None,
    as_json: bool,
) -> None:
    """Find repos by free TEXT and filters."""
    with make_client(endpoint, token) as client:
        items = client.search(
            text,
            base=base,
            fingerprint=fingerprint,
            model_fingerprint=model_fingerprint,
            method=method,
            task=task,
            tag=tag,
            kind=kind,
            namespace=namespace,
            license=license_,
            sort=sort,
            limit=limit,
            verified=verified,
        )
    if as_json:
        print_json(items)
        return
    rows = []
    for item in items:
        meta = item.get("metadata") or {}
        rows.append(
            {
                "id": item.get("id"),
                "kind": item.get("kind"),
                "latest": item.get("latest_version"),
                "method": meta.get("method"),
                "task": meta.get("task"),
                "base": meta.get("base_id")
                if meta.get("pinned")
                else "unpinned"
                if item.get("kind") == "adapter"
                else "-",
                "downloads": item.get("downloads"),
                "signed": signed_text(item.get("signature"), short=True),
                "verified": _verified_cell(item.get("verified")),
            }
        )
    by_verified = [("verified", f"VERIFIED {sort.split(':', 1)[1]}")] if sort and sort.startswith("verified:") else []
    print_table(
        rows,
        [
            ("id", "REPO"),
            *by_verified,
            ("kind", "KIND"),
            ("latest", "LATEST"),
            ("method", "METHOD"),
            ("task", "TASK"),
            ("base", "BASE"),
            ("signed", "SIGNED"),
            ("downloads", "DOWNLOADS"),
        ],
    )
    if not items:
        from ..not_found import no_search_match

        filters = dict(text=text, base=base, fingerprint=fingerprint, model_fingerprint=model_fingerprint)
        filters.update(method=method, task=task, tag=tag, kind=kind, namespace=namespace, license=license_)
        click.echo(no_search_match(filters), err=True)


def _search_sort(value: str | None) -> str | None:
    """The sorts the hub knows; metric names come from ``hub_rules`` (imported here, not at ``--help``)."""
    if value is None or value in ("downloads", "likes", "updated", "name"):
        return value
    from hub_rules import METRICS

    if value.startswith("verified:") and value.split(":", 1)[1] in METRICS:
        return value
    choices = ", ".join(["downloads", "likes", "updated", "name", *(f"verified:{m}" for m in METRICS)])
    raise click.BadParameter(f"{value!r} is not one of {choices}")


def _verified_cell(verified: Any) -> str:
    value = verified.get("value") if isinstance(verified, dict) else None
    return f"{value:.4g}" if isinstance(value, (int, float)) else "-"


@click.command("info")
@click.argument("reference")
@click.option("--provenance", is_flag=True, help="Print how it was made: data, options, seed, parents, versions.")
@client_options
@json_option
def info(reference: str, provenance: bool, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Describe NS/NAME[@VERSION]: metadata, base pin (or "unpinned"), signature, files."""
    from ..refs import parse_repo_ref

    ref = parse_repo_ref(reference)
    with make_client(endpoint, token) as client:
        data = client.info(ref.repo_id, ref.ref)
    if as_json:
        print_json(data)
        return
    if provenance:
        print_provenance(data)
        return
    meta = data.get("metadata") or {}
    detail = data.get("version") or {}
    vmeta = detail.get("metadata") or meta
    pinned = vmeta.get("pinned", bool(vmeta.get("base_fingerprint")))
    if pinned:
        base = f"{vmeta.get('base_id')}" + (f"@{vmeta['base_revision']}" if vmeta.get("base_revision") else "")
        base += f" ({short_fingerprint(vmeta.get('base_fingerprint'))})"
    else:
        base = "unpinned" if data.get("kind") == "adapter" else "-"
    fields = [
        ("repo", data.get("id")),
        ("kind", data.get("kind")),
        ("private", data.get("private")),
        ("version", detail.get("version") or data.get("latest_version")),
        ("commit", detail.get("commit")),
        ("method", vmeta.get("method")),
        ("task", vmeta.get("task")),
        ("base", base),
        ("tags", vmeta.get("tags")),
        ("license", vmeta.get("license")),
        ("metrics", vmeta.get("metrics")),
        ("downloads", data.get("downloads")),
        ("signed", signed_text(detail.get("signature") if detail else data.get("signature"))),
    ]
    if data.get("kind") == "base":
        fields.append(("fingerprint", short_fingerprint(vmeta.get("fingerprint"))))
    if detail.get("yanked"):
        fields.append(("yanked", detail.get("yank_reason") or "yes"))
    print_fields(fields)
    _print_evaluations(reference, detail.get("version"), endpoint, token)
    files = detail.get("files") or []
    if files:
        click.echo("")
        print_table(
            [
                {"path": f["path"], "size": human_size(f["size"]), "digest": short_fingerprint(f["digest"])}
                for f in files
            ],
            [("path", "FILE"), ("size", "SIZE"), ("digest", "DIGEST")],
        )


def _print_evaluations(reference: str, version: str | None, endpoint: str | None, token: str | None) -> None:
    """Verified beside reported for the version shown; ``!`` marks a claim off by more than the sampling error."""
    from hub_rules.eval_index import disagrees

    from ..errors import NotFound
    from ..refs import parse_repo_ref

    try:
        with make_client(endpoint, token) as client:
            rows = [r for r in client.evaluations(parse_repo_ref(reference).repo_id) if r["version"] == version]
    except NotFound:  # a hub without verified evaluations
        return
    if not rows:
        return

    def number(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    click.echo("")
    print_table(
        [
            {
                "dataset": r["dataset"],
                "split": r["split"],
                "metric": r["metric"],
                "verified": number(r["value"])
                + (" !" if disagrees(r["metric"], r["value"], r["reported"], r["n"]) else ""),
                "reported": number(r["reported"]),
                "status": r["status"] if r["status"] != "failed" else f"failed: {r['reason']}",
            }
            for r in rows
        ],
        [
            ("dataset", "EVAL SET"),
            ("split", "SPLIT"),
            ("metric", "METRIC"),
            ("verified", "VERIFIED"),
            ("reported", "REPORTED"),
            ("status", "STATUS"),
        ],
    )
    if any(disagrees(r["metric"], r["value"], r["reported"], r["n"]) for r in rows):
        click.echo("! the card's claim differs from the verified value by more than the eval set's sampling error")


@click.command("versions")
@click.argument("repo_id")
@client_options
@json_option
def versions(repo_id: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """List the versions of NS/NAME, newest first."""
    from ..refs import parse_repo_id

    parse_repo_id(repo_id)
    with make_client(endpoint, token) as client:
        items = client.versions(repo_id)
    if as_json:
        print_json(items)
        return
    rows = [
        {
            **v,
            "size": human_size(v.get("size")),
            "commit": (v.get("commit") or "")[:12],
            "yanked": (v.get("yank_reason") or "yes") if v.get("yanked") else "",
        }
        for v in items
    ]
    print_table(
        rows,
        [
            ("version", "VERSION"),
            ("commit", "COMMIT"),
            ("created_at", "CREATED"),
            ("author", "AUTHOR"),
            ("size", "SIZE"),
            ("yanked", "YANKED"),
        ],
    )


@click.command("yank")
@click.argument("reference")
@click.option("--reason", required=True, help="Why users should stop using this version.")
@client_options
@json_option
def yank(reference: str, reason: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Mark NS/NAME@VERSION as yanked: exact pins still pull (with a warning), main and ranges skip it."""
    from ..refs import parse_repo_ref

    ref = parse_repo_ref(reference)
    if not ref.ref:
        raise BadReference(f"say which version to yank: {reference}@VERSION")
    with make_client(endpoint, token) as client:
        summary = client.yank(ref.repo_id, ref.ref, reason)
    if as_json:
        print_json(summary)
    else:
        click.echo(f"{ref.repo_id}@{summary.get('version', ref.ref)} yanked: {reason}")
