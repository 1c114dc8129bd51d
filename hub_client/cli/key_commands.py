"""``hub keys generate|add|list|revoke|forget`` and ``hub verify DIR``: signing keys and offline checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import BadSignature
from ._output import client_options, json_option, make_client, print_json, print_table


@click.group("keys")
def keys() -> None:
    """Signing keys: make one, register it with the hub, list, revoke."""


@keys.command("generate")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Private key file (default: signing-key.pem in the client config dir).",
)
@click.option("--force", is_flag=True, help="Replace an existing key file.")
@json_option
def generate(out: Path | None, force: bool, as_json: bool) -> None:
    """Write a new EC P-256 key pair (private key readable by you only)."""
    from .. import signing

    pair = signing.generate_key(out, force=force)
    if as_json:
        print_json({"private": str(pair.private), "public": str(pair.public), "fingerprint": pair.fingerprint})
        return
    click.echo(f"private key {pair.private} (mode 0600)\npublic key  {pair.public}\nfingerprint {pair.fingerprint}")
    click.echo(f"register it with: hub keys add {pair.private}", err=True)


@keys.command("add")
@click.argument("private_key", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default="", help="A label, e.g. laptop or ci.")
@client_options
@json_option
def add(private_key: Path | None, name: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Register the public half of PRIVATE_KEY (default: the key `hub keys generate` wrote) for your
    account. The key signs a statement naming you, so the hub knows you hold it; only the public
    key and that signature are sent."""
    with make_client(endpoint, token) as client:
        key = client.add_key(private_key, name)
    if as_json:
        print_json(key)
    else:
        click.echo(f"registered {key['fingerprint']} for {key['user']}")


@keys.command("list")
@click.argument("user", required=False)
@client_options
@json_option
def list_(user: str | None, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """List USER's keys (default: yours), revoked ones included."""
    with make_client(endpoint, token) as client:
        user = user or client.whoami()["user"]
        items = client.keys(user)
    if as_json:
        print_json(items)
        return
    print_table(
        [{**k, "state": "revoked " + k["revoked_at"] if k["revoked"] else "active"} for k in items],
        [("fingerprint", "FINGERPRINT"), ("name", "NAME"), ("created_at", "ADDED"), ("state", "STATE")],
    )


@keys.command("revoke")
@click.argument("fingerprint")
@client_options
@json_option
def revoke(fingerprint: str, endpoint: str | None, token: str | None, as_json: bool) -> None:
    """Revoke one of your keys: no more publishing with it; pulls of what it signed warn."""
    with make_client(endpoint, token) as client:
        key = client.revoke_key(fingerprint)
    if as_json:
        print_json(key)
        return
    click.echo(f"revoked {key['fingerprint']} of {key['user']}")


@keys.command("forget")
@click.argument("user")
@click.option("--endpoint", default=None, help="Only the pins for this hub (default: every hub).")
@json_option
def forget(user: str, endpoint: str | None, as_json: bool) -> None:
    """Drop the keys pinned for USER, so the next pull trusts their current key (after a key change)."""
    from .. import config
    from .. import key_pins as trust

    dropped = trust.forget(user, config.resolve_endpoint(endpoint) if endpoint else None)
    if as_json:
        print_json({"user": user, "forgotten": dropped})
        return
    click.echo(f"forgot {dropped} pinned key(s) of {user}")


@click.command("verify")
@click.argument("directory", required=False, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--key",
    "key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="Public key PEM (default: the pinned key the signature names, or your own).",
)
@click.option(
    "--evaluations",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A version's evaluations (JSON list, as GET .../evaluations serves): check every verifyToken.",
)
@click.option(
    "--hub-key",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The hub's result-signing key PEM (GET /api/v1/evaluations/key), for --evaluations.",
)
@json_option
def verify(
    directory: Path | None, key: Path | None, evaluations: Path | None, hub_key: Path | None, as_json: bool
) -> None:
    """Check DIRECTORY against its model.sig offline: every file, byte for byte; with --evaluations and
    --hub-key, check that each verified result was signed by the hub's evaluator key, also offline."""
    if directory is None and evaluations is None:
        raise click.UsageError("give a DIRECTORY, --evaluations FILE, or both")
    report: dict[str, Any] = {}
    if directory is not None:
        report.update(_verify_directory(directory, key))
    if evaluations is not None:
        report["evaluations"] = _verify_evaluations(evaluations, hub_key)
    if as_json:
        print_json({**report, "verified": True})
        return
    if directory is not None:
        click.echo(
            f"verified {directory}: every file matches model.sig, signed by {report['signer']} "
            f"with key {report['fingerprint']}"
        )
    for row in report.get("evaluations", []):
        click.echo(
            f"verified {row['repo']}@{row['version']} {row['dataset']} {row['split']} {row['metric']} = "
            f"{row['value']:.4g}: signed by the hub's evaluator key"
        )


def _verify_evaluations(path: Path, hub_key: Path | None) -> list[dict[str, Any]]:
    import json

    from ..eval_tokens import check_evaluations

    if hub_key is None:
        raise click.UsageError("--evaluations needs --hub-key PEM (GET /api/v1/evaluations/key)")
    try:
        rows = json.loads(path.read_text())
    except (ValueError, UnicodeError):
        raise BadSignature(f"{path} is not JSON") from None
    if not isinstance(rows, list):
        raise BadSignature(f"{path} is not a JSON list of evaluations")
    checked = check_evaluations(rows, hub_key.read_text())
    if not checked:
        raise BadSignature(f"{path} has no verified result to check")
    return checked


def _verify_directory(directory: Path, key: Path | None) -> dict[str, Any]:
    from .. import key_pins as trust
    from .. import signing

    fingerprint = signing.read_bundle_key(directory)
    who = "you"
    if key is not None:
        pem = key.read_text()
        who = str(key)
    elif (found := trust.find(fingerprint)) is not None:
        who, pem = found
    else:
        own = signing.public_path_for(signing.default_key_path())
        if not own.is_file() or signing.key_fingerprint(own.read_text()) != fingerprint:
            raise BadSignature(
                f"{directory}/model.sig is signed with key {fingerprint}, which is neither pinned nor "
                f"yours; pass --key PUB.pem"
            )
        pem = own.read_text()
    signing.verify_dir(directory, pem)
    return {"directory": str(directory), "signer": who, "fingerprint": fingerprint}
