"""Signing keys and version signatures.

Keys belong to users (never to repos): a user registers public keys, lists them, revokes them.
At publish, a version carrying ``model.sig`` must be signed by one of the publisher's registered,
unrevoked keys over exactly the version's files (checked with ``model-signing`` against the
manifest digests: the blobs themselves were hashed when they were uploaded). Anything else is a
422 and nothing is published. Imports only ``model-signing``'s key verifier, never torch.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub_rules.signatures import (
    MAX_SIGNATURE_BYTES,
    SIGNATURE_FILE,
    SignatureError,
    bundle_key_fingerprint,
    check_files,
    check_possession,
    key_fingerprint,
    normalized_pem,
    signed_files,
)

from ..db.models import Org, OrgMember, SigningKey, User, Version, utcnow
from ..errors import Conflict, Forbidden, NotFound, Unprocessable
from .auth import Principal, require_write
from .context import Hub
from .names import check_name
from .views import iso


@dataclass(frozen=True)
class Signer:
    """Who signed a version: the publisher and the fingerprint of the key used."""

    user: str
    fingerprint: str


def key_json(key: SigningKey, user: str, *, with_pem: bool = True) -> dict:
    out = {
        "fingerprint": key.fingerprint,
        "user": user,
        "name": key.name,
        "created_at": iso(key.created_at),
        "revoked": key.revoked_at is not None,
        "revoked_at": iso(key.revoked_at),
    }
    if with_pem:
        out["public_key"] = key.public_pem
    return out


def register_key(hub: Hub, who: Principal | None, public_key: object, name: object = "", proof: object = None) -> dict:
    """Add a public key to the caller's account; 422 for anything but an EC PEM key or without a
    proof of possession (the key's signature over ``registration_statement`` for the caller), 409 if known."""
    who = require_write(who)
    if not isinstance(public_key, str) or len(public_key) > 20_000:
        raise Unprocessable("'public_key' must be a PEM public key")
    try:
        pem, fingerprint = normalized_pem(public_key), key_fingerprint(public_key)
        check_possession(public_key, who.name, proof)
    except SignatureError as exc:
        raise Unprocessable(f"public_key: {exc}") from None
    label = str(name or "")[:100]
    try:
        with hub.db.write() as s:
            user = _user(s, who.name)
            if s.scalar(select(SigningKey.id).where(SigningKey.fingerprint == fingerprint)) is not None:
                raise Conflict(f"key {fingerprint} is already registered")
            key = SigningKey(user_id=user.id, fingerprint=fingerprint, name=label, public_pem=pem, created_at=utcnow())
            s.add(key)
            s.flush()
            return key_json(key, who.name)
    except IntegrityError:
        raise Conflict(f"key {fingerprint} is already registered") from None


def list_keys(hub: Hub, user: str) -> list[dict]:
    """Every key of ``user``, revoked ones included (so old signatures stay explainable)."""
    check_name(user, "user name")
    with hub.db.read() as s:
        account = s.scalar(select(User).where(User.name == user))
        if account is None:
            raise NotFound(f"user {user} not found")
        keys = s.scalars(select(SigningKey).where(SigningKey.user_id == account.id).order_by(SigningKey.id)).all()
        return [key_json(k, user) for k in keys]


def get_key(hub: Hub, fingerprint: str) -> dict:
    with hub.db.read() as s:
        row = _key(s, fingerprint)
        if row is None:
            raise NotFound(f"key {fingerprint} not found")
        return key_json(*row)


def revoke_key(hub: Hub, who: Principal | None, fingerprint: str) -> dict:
    """Mark the key revoked: publishing with it stops, pulls of what it signed warn."""
    who = require_write(who)
    with hub.db.write() as s:
        row = _key(s, fingerprint)
        if row is None:
            raise NotFound(f"key {fingerprint} not found")
        key, owner = row
        if owner != who.name and not who.is_admin:
            raise Forbidden(f"key {fingerprint} belongs to {owner}")
        if key.revoked_at is None:
            key.revoked_at = utcnow()
        s.flush()
        return key_json(key, owner)


def check_signature(hub: Hub, who: Principal, files: list) -> Signer | None:
    """The signer of a version being published, or None when it has no ``model.sig``; 422 when bad."""
    entry = next((f for f in files if f.path == SIGNATURE_FILE), None)
    if entry is None:
        return None
    if entry.size > MAX_SIGNATURE_BYTES:
        raise Unprocessable(f"{SIGNATURE_FILE} is larger than {MAX_SIGNATURE_BYTES} bytes")
    bundle = b"".join(hub.store.open(entry.digest, 0, entry.size - 1)) if entry.size else b""
    try:
        fingerprint = bundle_key_fingerprint(bundle)
        with hub.db.read() as s:
            row = _key(s, fingerprint)
        if row is None or row[1] != who.name:
            raise SignatureError(
                f"{SIGNATURE_FILE}: signed with key {fingerprint}, which is not registered to "
                f"{who.name} (register it with `hub keys add`)"
            )
        key, _ = row
        if key.revoked_at is not None:
            raise SignatureError(f"{SIGNATURE_FILE}: key {fingerprint} of {who.name} is revoked")
        check_files(signed_files(bundle, key.public_pem), {f.path: f.digest for f in files})
    except SignatureError as exc:
        raise Unprocessable(f"bad signature: {exc}") from None
    return Signer(who.name, fingerprint)


def signature_json(session: Session, version: Version, namespace: str) -> dict | None:
    """``{"signed_by", "key", "key_revoked", "owner_key"}`` of a version, or None when unsigned.

    ``owner_key``: the signer is the namespace's owner (the user, or a member of the org)."""
    if not version.signing_key:
        return None
    row = _key(session, version.signing_key)
    revoked = row is None or row[0].revoked_at is not None
    owner = (
        version.signed_by == namespace
        or session.scalar(
            select(OrgMember.user_id)
            .join(Org, Org.id == OrgMember.org_id)
            .join(User, User.id == OrgMember.user_id)
            .where(Org.name == namespace, User.name == version.signed_by)
        )
        is not None
    )
    return {"signed_by": version.signed_by, "key": version.signing_key, "key_revoked": revoked, "owner_key": owner}


def _user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        user = User(name=name)
        session.add(user)
        session.flush()
    return user


def _key(session: Session, fingerprint: str) -> tuple[SigningKey, str] | None:
    row = session.execute(
        select(SigningKey, User.name)
        .join(User, User.id == SigningKey.user_id)
        .where(SigningKey.fingerprint == fingerprint)
    ).first()
    return None if row is None else (row[0], row[1])


def signature_status(hub: Hub, version: Version, namespace: str) -> dict | None:
    with hub.db.read() as s:
        return signature_json(s, version, namespace)
