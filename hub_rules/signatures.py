"""What a version's signature is, checked the same way by the hub at publish and by the client on pull.

A signature is the file ``model.sig`` of the version: a Sigstore bundle written by OpenSSF
``model-signing`` with an elliptic-curve key, over the sha256 of every other file. Checking it
against a version's manifest needs no bytes but the bundle: the library verifies the bundle with
the public key and returns the signed (path, digest) list, which must equal the manifest exactly.
A key is named by its fingerprint, ``sha256:`` + the hex sha256 of its PEM SubjectPublicKeyInfo,
which is the key hint ``model-signing`` itself writes into every bundle.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from .errors import RuleError

SIGNATURE_FILE = "model.sig"
MAX_SIGNATURE_BYTES = 16 * 1024 * 1024
SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")
PREDICATE_TYPE = "https://model_signing/signature/v1.0"  # the in-toto predicate model-signing 1.x writes


class SignatureError(RuleError):
    """The bundle, the key or the signed file list is not acceptable; the message is one line."""


def load_public_key(pem: bytes | str) -> Any:
    """An EC public key from PEM, refusing anything ``model-signing`` cannot verify with."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    raw = pem.encode() if isinstance(pem, str) else pem
    try:
        key = serialization.load_pem_public_key(raw)
    except (ValueError, TypeError):
        raise SignatureError("not a PEM public key") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in SUPPORTED_CURVES:
        raise SignatureError(f"unsupported key: use an EC key on {', '.join(SUPPORTED_CURVES)}")
    return key


def normalized_pem(pem: bytes | str) -> str:
    """The key's PEM SubjectPublicKeyInfo exactly as ``model-signing`` hashes it."""
    from cryptography.hazmat.primitives import serialization

    key = load_public_key(pem)
    return str(key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())


def key_fingerprint(pem: bytes | str) -> str:
    """``sha256:<hex>`` of the normalised PEM: the hint ``model-signing`` records in a bundle."""
    return "sha256:" + hashlib.sha256(normalized_pem(pem).encode()).hexdigest()


def bundle_key_fingerprint(bundle: bytes) -> str:
    """The fingerprint of the key a bundle says it was made with (not yet verified)."""
    try:
        hint = json.loads(bundle)["verificationMaterial"]["publicKey"]["hint"]
    except (ValueError, KeyError, TypeError):
        raise SignatureError(f"{SIGNATURE_FILE} is not a key-signed model-signing bundle") from None
    if not isinstance(hint, str) or len(hint) != 64:
        raise SignatureError(f"{SIGNATURE_FILE} names no signing key")
    return "sha256:" + hint


class _Verified(Exception):
    """Raised by ``_StopAfterVerifying.hash``: the bundle's signature checked out, nothing is hashed."""


def _stop_after_verifying() -> Any:
    """A ``model_signing.hashing.Config`` whose ``hash`` stops verification once the bundle's signature has
    been checked: ``model_signing.verifying.Config.verify`` only hashes after the cryptography passed, and
    the hub compares the signed list with a version's manifest, not with bytes on disk."""
    from model_signing import hashing

    class StopAfterVerifying(hashing.Config):
        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]

        def add_ignored_paths(self, *, model_path: Any, paths: Any) -> None:
            return None

        def hash(self, model_path: Any, *, files_to_hash: Any = None) -> Any:
            raise _Verified

    return StopAfterVerifying()


def _signed_statement(bundle: bytes) -> dict[str, Any]:
    """The in-toto statement a (verified) bundle carries: model-signing's documented v1.0 predicate."""
    try:
        payload = json.loads(bundle)["dsseEnvelope"]["payload"]
        statement = json.loads(base64.b64decode(payload, validate=True))
    except (ValueError, KeyError, TypeError):
        raise SignatureError(f"{SIGNATURE_FILE} is not a key-signed model-signing bundle") from None
    if not isinstance(statement, dict) or statement.get("predicateType") != PREDICATE_TYPE:
        raise SignatureError(f"{SIGNATURE_FILE} is not a model-signing v1.0 signature")
    return statement


def signed_files(bundle: bytes, public_pem: bytes | str) -> dict[str, str]:
    """Verify ``bundle`` with the key (``model_signing.verifying``); return the signed ``{path: "sha256:<hex>"}``."""
    from model_signing import verifying

    if len(bundle) > MAX_SIGNATURE_BYTES:
        raise SignatureError(f"{SIGNATURE_FILE} is larger than {MAX_SIGNATURE_BYTES} bytes")
    with tempfile.TemporaryDirectory(prefix="hub-sig-") as tmp:
        key_path, sig_path = Path(tmp) / "key.pub", Path(tmp) / SIGNATURE_FILE
        key_path.write_text(normalized_pem(public_pem))
        sig_path.write_bytes(bundle)
        config = (
            verifying.Config()
            .use_elliptic_key_verifier(public_key=key_path)
            .set_hashing_config(_stop_after_verifying())
            .set_ignore_unsigned_files(True)
        )
        try:
            config.verify(Path(tmp) / "model", sig_path)
        except _Verified:
            pass
        except Exception as exc:  # noqa: BLE001 - the library raises ValueError, KeyError, InvalidSignature...
            raise SignatureError(
                f"{SIGNATURE_FILE} does not verify with key {key_fingerprint(public_pem)}: {_one_line(exc)}"
            ) from None
        else:
            raise SignatureError(f"{SIGNATURE_FILE} was not verified")  # verify() returned without hashing
    predicate = _signed_statement(bundle).get("predicate") or {}
    if (predicate.get("serialization") or {}).get("method") != "files":
        raise SignatureError(f"{SIGNATURE_FILE} must sign whole files (model-signing file serialization)")
    found = {}
    for item in predicate.get("resources") or []:
        if item.get("algorithm") != "sha256":
            raise SignatureError(f"{SIGNATURE_FILE} must use sha256 digests, not {item.get('algorithm')}")
        found[str(item["name"])] = "sha256:" + str(item["digest"]).lower()
    return found


def check_files(signed: dict[str, str], files: dict[str, str]) -> None:
    """``files`` (path -> digest, without model.sig) must be exactly what was signed; names the first difference."""
    for path in sorted(set(signed) | set(files)):
        if path == SIGNATURE_FILE:
            continue
        if path not in signed:
            raise SignatureError(f"{path}: not covered by the signature")
        if path not in files:
            raise SignatureError(f"{path}: signed but missing from the version")
        if signed[path] != files[path]:
            raise SignatureError(f"{path}: content differs from what was signed")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


REGISTRATION_PREFIX = b"adapter-hub signing key registration\n"


def registration_statement(user: str, fingerprint: str) -> bytes:
    """What a key's holder signs to register it for ``user``: binding the key to that one account,
    so a public key copied from someone else cannot be registered by anybody but its holder."""
    return REGISTRATION_PREFIX + f"user: {user}\nkey: {fingerprint}\n".encode()


def check_possession(public_pem: bytes | str, user: str, proof: object) -> str:
    """The key's fingerprint when ``proof`` (base64 DER ECDSA-SHA256) signs ``registration_statement``
    for ``user`` with this key; ``SignatureError`` otherwise."""
    import base64
    import binascii

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = load_public_key(public_pem)
    fingerprint = key_fingerprint(public_pem)
    if not isinstance(proof, str) or not proof or len(proof) > 1024:
        raise SignatureError(
            "a key registration needs 'proof': the key's signature over the registration "
            "statement (hub keys add makes it)"
        )
    try:
        signature = base64.b64decode(proof, validate=True)
        key.verify(signature, registration_statement(user, fingerprint), ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature):
        raise SignatureError(f"'proof' is not a signature by this key over the registration of {user}") from None
    return fingerprint


def prove_possession(private_key: Any, user: str) -> str:
    """``proof`` for ``check_possession``: ``private_key`` (a cryptography EC private key) signs the statement."""
    import base64

    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    statement = registration_statement(user, key_fingerprint(pem))
    return base64.b64encode(private_key.sign(statement, ec.ECDSA(hashes.SHA256()))).decode()
