"""Sign a directory into ``model.sig`` and verify one, with OpenSSF ``model-signing`` and an EC key.

Signing is key-based and offline: the bundle covers the sha256 of exactly the files ``hub push``
would upload (everything else in the directory is listed as ignored in the bundle), so the hub and
every puller can check it against the version's manifest. Keys are EC P-256 PEM files; the private
key is written readable by its owner only, by default in the client config directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub_rules import write_atomically
from hub_rules.signatures import (
    SIGNATURE_FILE,
    SignatureError,
    bundle_key_fingerprint,
    key_fingerprint,
    prove_possession,
)

from . import config
from .errors import BadSignature, HubError
from .manifest import list_files

__all__ = [
    "SIGNATURE_FILE",
    "KeyPair",
    "bundle_key_fingerprint",
    "default_key_path",
    "generate_key",
    "key_fingerprint",
    "public_key_of",
    "sign_dir",
    "verify_dir",
]


@dataclass(frozen=True)
class KeyPair:
    private: Path
    public: Path
    fingerprint: str


def default_key_path() -> Path:
    """``signing-key.pem`` in the client config directory (``HUB_CONFIG_DIR`` overrides it)."""
    return config.config_dir() / "signing-key.pem"


def public_path_for(private: Path) -> Path:
    return private.with_name(private.name + ".pub") if private.suffix != ".pem" else private.with_suffix(".pub.pem")


def generate_key(path: str | Path | None = None, *, force: bool = False) -> KeyPair:
    """Write a new EC P-256 key pair: ``PATH`` (mode 0600) and ``PATH`` with ``.pub.pem``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = Path(path).expanduser() if path else default_key_path()
    public = public_path_for(private)
    if private.exists() and not force:
        raise HubError(
            f"{private} already exists; pass --force to replace it (its signatures stay valid "
            f"only while its public key stays registered)"
        )
    key = ec.generate_private_key(ec.SECP256R1())
    write_atomically(
        private,
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        mode=0o600,
    )
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    public.write_bytes(pem)
    return KeyPair(private, public, key_fingerprint(pem))


def _private_key(private: str | Path) -> Any:
    from cryptography.hazmat.primitives import serialization

    path = Path(private).expanduser()
    try:
        return serialization.load_pem_private_key(path.read_bytes(), None)
    except FileNotFoundError:
        raise HubError(f"no signing key at {path}; create one with `hub keys generate`") from None
    except (ValueError, TypeError) as exc:
        raise HubError(f"{path} is not an unencrypted PEM private key: {exc}") from None


def public_key_of(private: str | Path) -> str:
    """The PEM public key of a private key file."""
    from cryptography.hazmat.primitives import serialization

    return (
        _private_key(private)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def registration_proof(private: str | Path, user: str) -> str:
    """The proof of possession the hub asks for when ``user`` registers this key's public half."""
    from cryptography.hazmat.primitives.asymmetric import ec

    key = _private_key(private)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise HubError(f"{private} is not an EC private key")
    return prove_possession(key, user)


def sign_dir(root: str | Path, key: str | Path | None = None, out: str | Path | None = None) -> str:
    """Write ``model.sig`` (to ``out``, default ``root/model.sig``) over the files a push of ``root``
    uploads, any old ``model.sig`` excepted; returns the key fingerprint."""
    from model_signing import hashing, signing

    root = Path(root)
    key_path = Path(key).expanduser() if key else default_key_path()
    fingerprint = key_fingerprint(public_key_of(key_path))
    pushed = {rel for rel, _ in list_files(root)} - {SIGNATURE_FILE}
    ignored = [SIGNATURE_FILE] + sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).as_posix() not in pushed
    )
    hashing_config = hashing.Config().set_ignored_paths(paths=ignored, ignore_git_paths=True).set_allow_symlinks(True)
    try:
        signing.Config().use_elliptic_key_signer(private_key=key_path).set_hashing_config(hashing_config).sign(
            root, Path(out) if out else root / SIGNATURE_FILE
        )
    except ValueError as exc:
        raise HubError(f"cannot sign {root}: {' '.join(str(exc).split())}") from None
    return fingerprint


def verify_dir(root: str | Path, public_pem: str | bytes) -> str:
    """Check every file of ``root`` against ``root/model.sig`` with the key; returns its fingerprint.

    Raises BadSignature naming the first file that differs, is missing, or was not signed."""
    import tempfile

    from model_signing import hashing, verifying

    root = Path(root)
    sig = root / SIGNATURE_FILE
    if not sig.is_file():
        raise BadSignature(f"{root} has no {SIGNATURE_FILE}")
    fingerprint = key_fingerprint(public_pem)
    with tempfile.TemporaryDirectory(prefix="hub-verify-") as tmp:
        key_file = Path(tmp) / "key.pub"
        key_file.write_bytes(public_pem.encode() if isinstance(public_pem, str) else public_pem)
        # whole files, sha256, symlinks followed (huggingface_hub snapshots link into its blob store); the
        # library's guess from the bundle would drop allow_symlinks, so the config is given
        files = hashing.Config().use_file_serialization(hashing_algorithm="sha256").set_allow_symlinks(True)
        try:
            verifying.Config().use_elliptic_key_verifier(public_key=key_file).set_hashing_config(files).verify(
                root, sig
            )
        except Exception as exc:  # noqa: BLE001 - ValueError, InvalidSignature, KeyError from a broken bundle
            raise BadSignature(f"{root}: signature check failed: {_first_problem(exc)}") from None
    return fingerprint


def read_bundle_key(root: str | Path) -> str:
    """The fingerprint the directory's ``model.sig`` names (before any verification)."""
    sig = Path(root) / SIGNATURE_FILE
    if not sig.is_file():
        raise BadSignature(f"{root} has no {SIGNATURE_FILE}")
    try:
        return bundle_key_fingerprint(sig.read_bytes())
    except SignatureError as exc:
        raise BadSignature(str(exc)) from None


def _first_problem(exc: BaseException) -> str:
    """model-signing lists every difference; one line names the first file."""
    text = str(exc)
    if text.startswith("Signature mismatch: [") and text.endswith("]"):
        import ast

        try:
            diffs = ast.literal_eval(text[len("Signature mismatch: ") :])
            if diffs:
                text = str(diffs[0])
        except (ValueError, SyntaxError):
            pass
    text = " ".join(text.split()) or type(exc).__name__
    return text[:300]
