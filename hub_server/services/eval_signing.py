"""The hub's own key for verified results: each ``done`` evaluation is given a ``verifyToken`` (a compact
JWS, EdDSA over Ed25519, as Hugging Face's evaluator signs its results) naming the repo, version, eval set,
split, metric and value, so anyone holding the hub's public key (``GET /api/v1/evaluations/key``) can check
a number offline.

One key per deployment: it lives in the database (``eval_signing_keys``, one row), made by whichever host
needs it first. The insert is "if absent": of two hosts racing, one row wins and both read it back, so
every host of a PostgreSQL + S3 deployment signs with, and publishes, the same key. A deployment that had a
key file in its data directory (``eval-signing-key.pem``, before keys moved to the database) keeps that key:
it is the one inserted. ``HUB_EVAL_SIGNING_KEY`` names a PEM file instead (made there if missing), for
operators who keep the key out of the database; every host then needs the same file."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..db.models import EvalSigningKey, utcnow
from .context import Hub

LEGACY_KEY_FILE = "eval-signing-key.pem"
KEY_ROW = 1
_lock = threading.Lock()
_from_files: dict[str, Any] = {}
_from_databases: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _new_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _load(pem: bytes) -> Any:
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, password=None)


def _file_key(path: Path) -> Any:
    """``HUB_EVAL_SIGNING_KEY``: the PEM file, made once (an exclusive link: of two makers, one file wins)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(_new_pem())
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            temp.unlink()
    return _load(path.read_bytes())


def _stored_pem(hub: Hub) -> str | None:
    with hub.db.read() as s:
        return s.scalar(select(EvalSigningKey.private_pem).where(EvalSigningKey.id == KEY_ROW))


def _first_pem(hub: Hub) -> bytes:
    """The key a deployment starts with: the data directory's old key file when a host kept one, else new."""
    legacy = hub.settings.data / LEGACY_KEY_FILE
    if hub.settings.uses_data_dir() and legacy.is_file():
        return legacy.read_bytes()
    return _new_pem()


def _database_key(hub: Hub) -> Any:
    pem = _stored_pem(hub)
    if pem is None:
        try:
            with hub.db.write() as s:
                s.add(EvalSigningKey(id=KEY_ROW, private_pem=_first_pem(hub).decode(), created_at=utcnow()))
        except IntegrityError:
            pass  # another host (or process) inserted first: its key is the deployment's
        pem = _stored_pem(hub)
        if pem is None:
            raise RuntimeError("the evaluation signing key could not be stored")
    return _load(pem.encode())


def _private_key(hub: Hub) -> Any:
    with _lock:
        if hub.settings.eval_signing_key:
            path = str(hub.settings.eval_signing_key)
            if path not in _from_files:
                _from_files[path] = _file_key(Path(path))
            return _from_files[path]
        key = _from_databases.get(hub.db)
        if key is None:
            key = _from_databases[hub.db] = _database_key(hub)
        return key


def public_key(hub: Hub) -> dict[str, str]:
    """``{"algorithm", "public_key" (PEM), "fingerprint"}`` of the hub's result-signing key."""
    from cryptography.hazmat.primitives import serialization

    pem = (
        _private_key(hub)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return {
        "algorithm": "EdDSA",
        "public_key": pem.decode(),
        "fingerprint": "sha256:" + hashlib.sha256(pem).hexdigest(),
    }


def sign(hub: Hub, claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "EdDSA", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = _private_key(hub).sign(f"{header}.{body}".encode())
    return f"{header}.{body}.{_b64(signature)}"


TOKEN_CLAIMS = ("repo", "version", "dataset", "split", "metric", "value", "n", "job_id")


def token_for(hub: Hub, row: dict[str, Any]) -> str:
    """The ``verifyToken`` of one ``done`` evaluation row (``evaluation_json``'s shape): the same token on
    the native list and in Hugging Face's ``evalResults`` (Ed25519 signs deterministically)."""
    return sign(hub, {k: row[k] for k in TOKEN_CLAIMS})
