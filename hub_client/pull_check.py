"""What a pull checks about a version's signature before and after its files reach the snapshot.

Before any blob is fetched: an unsigned version (or one signed by a key not registered to the
repo's namespace owner) is refused under require-signed; a signed one has its signer's key
fetched from the hub and pinned on first use (``key_pins``), and ``model.sig`` is verified against
the version's manifest. After the snapshot is built, ``model-signing`` re-hashes the directory.
A revoked key warns, or refuses under require-signed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub_rules.signatures import SIGNATURE_FILE, SignatureError, check_files, signed_files

from . import key_pins as trust
from ._http import HubHTTP
from .errors import BadSignature, HubWarning
from .signing import verify_dir


@dataclass(frozen=True)
class Verdict:
    """Outcome of a signed version's checks, for the caller to report."""

    label: str
    user: str
    fingerprint: str
    public_pem: str
    first_use: bool
    revoked: bool

    def describe(self) -> str:
        note = " (key pinned on first use)" if self.first_use else ""
        note += " (key REVOKED)" if self.revoked else ""
        return f"verified {self.label}: signed by {self.user}, key {self.fingerprint[:19]}...{note}"


class SignatureCheck:
    def __init__(self, http: HubHTTP, require_signed: bool) -> None:
        self.http = http
        self.require_signed = require_signed

    def before_download(
        self, namespace: str, name: str, detail: dict[str, Any], read_signature: Callable[[dict[str, Any]], bytes]
    ) -> Verdict | None:
        """Decide on the version from its metadata and its (small) ``model.sig``; None when unsigned."""
        label = f"{namespace}/{name}@{detail['version']}"
        signature = detail.get("signature")
        sig_file = next((f for f in detail["files"] if f["path"] == SIGNATURE_FILE), None)
        if not signature or sig_file is None:
            if self.require_signed:
                raise BadSignature(f"{label} is not signed; refusing it (signatures are required)")
            return None
        user, fingerprint = signature["signed_by"], signature["key"]
        if self.require_signed and not signature.get("owner_key"):
            raise BadSignature(
                f"{label} is signed by {user}, whose key is not registered to the namespace owner "
                f"{namespace}; refusing it (signatures are required)"
            )
        key = self.http.json("GET", f"/api/v1/keys/{fingerprint}")
        if key.get("user") != user:
            raise BadSignature(f"{label}: the hub says key {fingerprint} belongs to {key.get('user')}, not {user}")
        first_use = trust.check_and_pin(self.http.endpoint, user, fingerprint, key["public_key"])
        try:
            check_files(
                signed_files(read_signature(sig_file), key["public_key"]),
                {f["path"]: f["digest"] for f in detail["files"]},
            )
        except SignatureError as exc:
            raise BadSignature(f"{label}: {exc}") from None
        revoked = bool(key.get("revoked"))
        if revoked:
            message = f"{label} is signed with key {fingerprint} of {user}, which has since been revoked"
            if self.require_signed:
                raise BadSignature(message + "; refusing it (signatures are required)")
            warnings.warn(message, HubWarning, stacklevel=4)
        return Verdict(label, user, fingerprint, key["public_key"], first_use, revoked)

    def offline(self, namespace: str, name: str, version: str, entry: dict[str, Any], snapshot: Path) -> Verdict | None:
        """A cached signed version is re-verified with the key pinned when it was first pulled."""
        signature = entry.get("signature")
        if not signature:
            return None
        pem = trust.pinned(self.http.endpoint, signature["signed_by"]).get(signature["key"])
        if pem is None:
            if self.require_signed:
                raise BadSignature(f"{namespace}/{name}@{version}: no pinned key to verify it offline")
            return None
        verdict = Verdict(
            f"{namespace}/{name}@{version}",
            signature["signed_by"],
            signature["key"],
            pem,
            False,
            bool(signature.get("key_revoked")),
        )
        verify_dir(snapshot, pem)
        return verdict

    @staticmethod
    def after_snapshot(snapshot: Path, verdict: Verdict | None) -> None:
        """Hash the built snapshot against ``model.sig`` with the library itself."""
        if verdict is not None:
            verify_dir(snapshot, verdict.public_pem)
