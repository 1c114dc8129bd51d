"""What a version's signature is, checked the same way by the hub at publish and by the client on pull.

A signature is the file ``model.sig`` of the version: a Sigstore bundle written by OpenSSF
``model-signing`` with an elliptic-curve key, over the sha256 of every other file. Checking it
against a version's manifest needs no bytes but the bundle: the library verifies the bundle with
the public key and returns the signed (path, digest) list, which must equal the manifest exactly.
A key is named by its fingerprint, ``sha256:`` + the hex sha256 of its PEM SubjectPublicKeyInfo,
which is the key hint ``model-signing`` itself writes into every bundle.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from pathlib import Path

from .errors import RuleError

SIGNATURE_FILE = "model.sig"
MAX_SIGNATURE_BYTES = 16 * 1024 * 1024
SUPPORTED_CURVES = ("secp256r1", "secp384r1", "secp521r1")


class SignatureError(RuleError):
    """The bundle, the key or the signed file list is not acceptable; the message is one line."""


def load_public_key(pem: bytes | str):
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
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


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


def signed_files(bundle: bytes, public_pem: bytes | str) -> dict[str, str]:
    """Verify ``bundle`` with the key; return the signed ``{path: "sha256:<hex>"}``."""
    from model_signing._signing import sign_ec_key, sign_sigstore_pb

    if len(bundle) > MAX_SIGNATURE_BYTES:
        raise SignatureError(f"{SIGNATURE_FILE} is larger than {MAX_SIGNATURE_BYTES} bytes")
    with tempfile.TemporaryDirectory(prefix="hub-sig-") as tmp:
        key_path, sig_path = Path(tmp) / "key.pub", Path(tmp) / SIGNATURE_FILE
        key_path.write_text(normalized_pem(public_pem))
        sig_path.write_bytes(bundle)
        try:
            manifest = sign_ec_key.Verifier(key_path).verify(sign_sigstore_pb.Signature.read(sig_path))
        except Exception as exc:  # noqa: BLE001 - the library raises ValueError, KeyError, InvalidSignature...
            raise SignatureError(f"{SIGNATURE_FILE} does not verify with key {key_fingerprint(public_pem)}: "
                                 f"{_one_line(exc)}") from None
    if manifest.serialization_type.get("method") != "files":
        raise SignatureError(f"{SIGNATURE_FILE} must sign whole files (model-signing file serialization)")
    found = {}
    for item in manifest.resource_descriptors():
        if item.digest.algorithm != "sha256":
            raise SignatureError(f"{SIGNATURE_FILE} must use sha256 digests, not {item.digest.algorithm}")
        found[str(item.identifier)] = "sha256:" + item.digest.digest_hex
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
