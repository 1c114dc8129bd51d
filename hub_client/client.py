"""``HubClient``: the Python face of the hub. One httpx transport, one cache, thin methods that
delegate to the pusher / puller and return plain data (dicts as the server sends them).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Self

import httpx

from . import config, signing
from ._http import HubHTTP
from .cache import LocalCache
from .download import Puller
from .errors import BadReference, NotFound
from .manifest import check_data_files, list_files
from .not_found import explain_not_found
from .pinning import card_front, is_pinned, kind_of, pin_for, warn_unpinned, write_base_card, write_pinned_card
from .progress import progress_enabled
from .pull_check import Verdict
from .refs import check_message, parse_repo_id, parse_version
from .signing import SIGNATURE_FILE, sign_dir
from .upload import DEFAULT_CHUNK, Pusher, PushResult
from .webhooks import Webhooks


class HubClient:
    """Talk to an Adapter Hub server.

    ``endpoint``/``token`` default to ``HUB_ENDPOINT``/``HUB_TOKEN``, then to what ``hub login``
    saved, then to ``http://127.0.0.1:8000`` without a token. ``cache_dir`` defaults to
    ``HUB_CACHE`` or the user's cache dir. ``transport`` and ``event_hooks`` go to httpx (a seam
    for tests and proxies). ``progress=False`` hides progress bars; ``None`` shows them on a terminal.
    """

    def __init__(
        self,
        endpoint: str | None = None,
        token: str | None = None,
        *,
        cache_dir: str | Path | None = None,
        progress: bool | None = None,
        transport: httpx.BaseTransport | None = None,
        event_hooks: dict[str, Any] | None = None,
        chunk_size: int = DEFAULT_CHUNK,
        timeout: float = 60.0,
    ) -> None:
        self.endpoint = config.resolve_endpoint(endpoint)
        self._http = HubHTTP(
            self.endpoint,
            config.resolve_token(token, self.endpoint),
            transport=transport,
            timeout=timeout,
            event_hooks=event_hooks,
        )
        self.cache = LocalCache(Path(cache_dir) if cache_dir else config.cache_dir())
        self.progress = progress_enabled(progress)
        self._pusher = Pusher(self._http, self.progress, chunk_size)
        self._puller = Puller(self._http, self.cache, self.progress)
        self.webhooks = Webhooks(self._http)  # your webhooks: list, create, get, enable/disable, delete, log

    # --- lifecycle ---------------------------------------------------------------------------
    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- identity ----------------------------------------------------------------------------
    def whoami(self) -> dict[str, Any]:
        return self._http.json("GET", "/api/v1/whoami")

    # --- tokens ------------------------------------------------------------------------------
    def list_tokens(self) -> list[dict[str, Any]]:
        """The caller's tokens (never the secrets), with ``state`` and ``current``."""
        return self._http.json("GET", "/api/v1/tokens")["items"]

    def create_token(self, *, scope: str = "read", name: str = "", expires: str | None = None) -> dict[str, Any]:
        """A new token of the caller (``expires`` like ``30d``); the secret is in ``"token"``, shown once."""
        body: dict[str, Any] = {"scope": scope, "name": name}
        if expires is not None:
            body["expires_in"] = expires
        return self._http.json("POST", "/api/v1/tokens", json=body)

    def revoke_token(self, token_id: int) -> None:
        self._http.request("DELETE", f"/api/v1/tokens/{int(token_id)}")

    def audit(
        self, *, limit: int = 50, before: int | None = None, actor: str | None = None, action: str | None = None
    ) -> dict[str, Any]:
        """One page of the audit trail, newest first (admin tokens only)."""
        params = {
            k: v for k, v in dict(limit=limit, before=before, actor=actor, action=action).items() if v is not None
        }
        return self._http.json("GET", "/api/v1/admin/audit", params=params)

    # --- repos -------------------------------------------------------------------------------
    def create_repo(
        self, repo_id: str, *, kind: str = "adapter", private: bool = False, exist_ok: bool = False
    ) -> dict[str, Any]:
        ns, name = parse_repo_id(repo_id)
        if exist_ok:
            self._pusher.ensure_repo(ns, name, kind=kind, private=private)
            return self.repo(repo_id)
        return self._http.json(
            "POST",
            "/api/v1/repos",  # "private" only when asked: otherwise the namespace's default
            json={"namespace": ns, "name": name, "kind": kind, **({"private": True} if private else {})},
        )

    def repo(self, repo_id: str) -> dict[str, Any]:
        ns, name = parse_repo_id(repo_id)
        try:
            return self._http.json("GET", f"/api/v1/repos/{ns}/{name}")
        except NotFound as exc:
            raise explain_not_found(self._http, ns, name, None, exc) from None

    def delete_repo(self, repo_id: str) -> None:
        ns, name = parse_repo_id(repo_id)
        self._http.request("DELETE", f"/api/v1/repos/{ns}/{name}")

    # --- admin -------------------------------------------------------------------------------
    def quota(self, namespace: str) -> dict[str, Any]:
        """``{"namespace", "max_bytes", "used_bytes"}`` of a namespace (admin token)."""
        return self._http.json("GET", f"/api/v1/admin/quotas/{namespace}")

    def set_quota(self, namespace: str, max_bytes: int | None) -> dict[str, Any]:
        """Set a namespace's storage quota in bytes; ``None`` returns it to the server default."""
        return self._http.json("PUT", f"/api/v1/admin/quotas/{namespace}", json={"max_bytes": max_bytes})

    def versions(self, repo_id: str) -> list[dict[str, Any]]:
        ns, name = parse_repo_id(repo_id)
        try:
            return self._http.json("GET", f"/api/v1/repos/{ns}/{name}/versions")["items"]
        except NotFound as exc:
            raise explain_not_found(self._http, ns, name, None, exc) from None

    def resolve(self, repo_id: str, ref: str | None = None) -> dict[str, Any]:
        """Version detail for an exact version, ``main``, a commit id or a range."""
        ns, name = parse_repo_id(repo_id)
        try:
            return self._http.json("GET", f"/api/v1/repos/{ns}/{name}/resolve", params={"ref": ref or "main"})
        except NotFound as exc:
            raise explain_not_found(self._http, ns, name, ref, exc) from None

    def info(self, repo_id: str, version: str | None = None) -> dict[str, Any]:
        """The repo object, plus ``"version"`` (detail of ``version`` or of main) when there is one."""
        repo = self.repo(repo_id)
        if version is not None or repo.get("latest_version"):
            repo = {**repo, "version": self.resolve(repo_id, version)}
        return repo

    def yank(self, repo_id: str, version: str, reason: str) -> dict[str, Any]:
        ns, name = parse_repo_id(repo_id)
        return self._http.json("POST", f"/api/v1/repos/{ns}/{name}/versions/{version}/yank", json={"reason": reason})

    # --- evaluations -------------------------------------------------------------------------
    def evaluations(self, repo_id: str) -> list[dict[str, Any]]:
        """Verified evaluations of every version: ``value`` (null until done) beside the card's ``reported``."""
        ns, name = parse_repo_id(repo_id)
        try:
            return self._http.json("GET", f"/api/v1/repos/{ns}/{name}/evaluations")
        except NotFound as exc:
            raise explain_not_found(self._http, ns, name, None, exc) from None

    def evaluation_key(self) -> str:
        """The PEM of the hub's result-signing key: save it once, then ``check_evaluations`` works offline."""
        key: str = self._http.json("GET", "/api/v1/evaluations/key")["public_key"]
        return key

    def reevaluate(self, repo_id: str, version: str) -> list[str]:
        """Queue the declared evaluations of ``version`` again (owner or admin); the new job ids."""
        ns, name = parse_repo_id(repo_id)
        return self._http.json("POST", f"/api/v1/repos/{ns}/{name}/evaluations", json={"version": version})["jobs"]

    def leaderboard(self, base: str, dataset: str, metric: str | None = None) -> list[dict[str, Any]]:
        """Verified results on ``dataset`` of adapters pinned to base fingerprint ``base``, best first."""
        params = {"base": base, "dataset": dataset, **({"metric": metric} if metric else {})}
        return self._http.json("GET", "/api/v1/leaderboard", params=params)

    def claim_evaluation(self, job_id: str, worker: str, evaluator: dict[str, str]) -> dict[str, Any]:
        """A worker takes a job (token scope ``evaluate``); ``Conflict`` when it is done or taken."""
        body = {"worker": worker, "evaluator": evaluator}
        return self._http.json("POST", f"/api/v1/evaluations/{job_id}/claim", json=body)

    def evaluation_heartbeat(self, job_id: str, worker: str) -> None:
        self._http.json("POST", f"/api/v1/evaluations/{job_id}/heartbeat", json={"worker": worker})

    def report_evaluation(self, job_id: str, worker: str, **result: Any) -> dict[str, Any]:
        """``status="done", value=..., n=...`` or ``status="failed", reason=...``; idempotent per job."""
        body = {"worker": worker, **result}
        return self._http.json("POST", f"/api/v1/evaluations/{job_id}/result", json=body)

    def claim_delivery(self, delivery_id: str, worker: str) -> dict[str, Any]:
        """A worker takes one attempt of a webhook delivery (token scope ``evaluate``): the URL, the body
        and its signed headers; ``Conflict`` when it is finished, being sent or not due."""
        return self._http.json("POST", f"/api/v1/webhook-deliveries/{delivery_id}/claim", json={"worker": worker})

    def report_delivery(self, delivery_id: str, worker: str, **result: Any) -> dict[str, Any]:
        """``attempt=N, status_code=...`` (None: no answer), ``error=...``, ``duration_ms=...``."""
        body = {"worker": worker, **result}
        return self._http.json("POST", f"/api/v1/webhook-deliveries/{delivery_id}/result", json=body)

    def search(
        self,
        text: str | None = None,
        *,
        namespace: str | None = None,
        kind: str | None = None,
        base: str | None = None,
        fingerprint: str | None = None,
        model_fingerprint: str | None = None,
        method: str | None = None,
        task: str | None = None,
        tag: str | None = None,
        license: str | None = None,
        sort: str | None = None,
        limit: int = 20,
        verified: bool = False,
    ) -> list[dict[str, Any]]:
        """Repos matching every given filter, following cursors until ``limit`` items.

        ``verified``: only repos with a result the hub's evaluator measured; ``sort="verified:exact_match"``
        (any metric of ``hub_rules.METRICS``): best verified value first, each item's ``verified`` holding it.

        ``fingerprint``: adapters (and merges) pinned to that base; ``model_fingerprint``: base repos whose own
        weights have it."""
        params: dict[str, Any] = {
            k: v
            for k, v in dict(
                q=text,
                namespace=namespace,
                kind=kind,
                base=base,
                fingerprint=fingerprint,
                model_fingerprint=model_fingerprint,
                method=method,
                task=task,
                tag=tag,
                license=license,
                sort=sort,
                verified="true" if verified else None,
            ).items()
            if v is not None
        }
        items: list[dict[str, Any]] = []
        cursor = None
        while len(items) < limit:
            page = dict(params, limit=min(100, limit - len(items)))
            if cursor:
                page["cursor"] = cursor
            body = self._http.json("GET", "/api/v1/search", params=page)
            items.extend(body.get("items", []))
            cursor = body.get("next_cursor")
            if not cursor or not body.get("items"):
                break
        return items[:limit]

    # --- artifacts ---------------------------------------------------------------------------
    def push(
        self,
        path: str | Path,
        repo_id: str,
        version: str,
        *,
        private: bool = False,
        kind: str | None = None,
        base: str | None = None,
        message: str = "",
        sign: bool = False,
        key: str | Path | None = None,
        make_private: bool = False,
    ) -> PushResult:
        """Upload a directory as an immutable version (creating the repo if needed).

        ``base``: a local base model dir or ``hub://NS/NAME[@V]``; writes the base pin into the
        card first. Without a pin in the card, the adapter is pushed unpinned with a HubWarning.
        ``sign``: upload a ``model.sig`` made with ``key`` (default: ``hub keys generate``'s key) over
        the directory's files (the directory is not changed); the hub refuses it unless that key is
        registered to the caller (``add_key``).
        ``private`` creates a missing repo private; into an existing public repo it is refused
        (``InvalidRequest``) before anything is uploaded. ``make_private`` makes the repo private
        (creating it so if missing) before publishing.
        """
        root = Path(path).expanduser()
        if not root.is_dir():
            raise BadReference(f"{root} is not a directory")
        ns, name = parse_repo_id(repo_id)
        parse_version(version)
        check_message(message)
        list_files(root)  # refuse pickles and unsafe paths before anything else happens
        front = card_front(root)
        if base is not None:
            write_pinned_card(root, pin_for(base, lambda r, v: self.pull(r, v)))
            front = card_front(root)
        resolved_kind = kind or kind_of(front)
        if resolved_kind == "dataset":
            check_data_files(list_files(root))  # data files only, checked before any byte is sent
        if resolved_kind == "base" and not (front.get("adapter_hub") or {}).get("fingerprint"):
            write_base_card(root)
        if resolved_kind == "adapter" and not is_pinned(front):
            warn_unpinned(root)
        if not sign:
            return self._pusher.push(
                root, ns, name, version, kind=resolved_kind, private=private, message=message, make_private=make_private
            )
        with tempfile.TemporaryDirectory(prefix="hub-sign-") as tmp:  # the directory itself is left as it is
            signature = Path(tmp) / SIGNATURE_FILE
            sign_dir(root, key, signature)
            return self._pusher.push(
                root,
                ns,
                name,
                version,
                kind=resolved_kind,
                private=private,
                message=message,
                extra={SIGNATURE_FILE: signature},
                make_private=make_private,
            )

    def pull(
        self,
        repo_id: str,
        version: str | None = None,
        *,
        to: str | Path | None = None,
        offline: bool = False,
        require_signed: bool | None = None,
    ) -> Path:
        """Local path of the version's files (exact, ``main``/None, commit id, or a range like ``^1.2``).

        A ``base`` repo is remembered in the local base index, so adapters pinned to it find it by fingerprint.
        A signed version is verified (its signer's key pinned on first use); ``require_signed``
        (default: ``HUB_REQUIRE_SIGNED`` / ``require_signed`` in config.yaml) refuses unsigned ones."""
        return self.pull_verified(repo_id, version, to=to, offline=offline, require_signed=require_signed)[0]

    def pull_verified(
        self,
        repo_id: str,
        version: str | None = None,
        *,
        to: str | Path | None = None,
        offline: bool = False,
        require_signed: bool | None = None,
    ) -> tuple[Path, Verdict | None]:
        """``pull``, also returning who signed it (None for an unsigned version)."""
        from .pulled_bases import remember_pulled_base

        ns, name = parse_repo_id(repo_id)
        path = self._puller.pull(
            ns,
            name,
            version,
            to=Path(to) if to else None,
            offline=offline,
            require_signed=config.require_signed(require_signed),
        )
        remember_pulled_base(path, f"hub {ns}/{name}@{path.name if to is None else version or 'main'}")
        return path, self._puller.last_verdict

    # --- signing keys --------------------------------------------------------------------------
    def add_key(self, private_key: str | Path | None = None, name: str = "") -> dict[str, Any]:
        """Register the public half of ``private_key`` (default: ``hub keys generate``'s key) for
        verifying the caller's signatures; the key signs a statement naming the caller, so the hub
        knows the caller holds it (nobody can register someone else's public key)."""
        path = Path(private_key).expanduser() if private_key else signing.default_key_path()
        user = self.whoami()["user"]
        body = {
            "public_key": signing.public_key_of(path),
            "name": name,
            "proof": signing.registration_proof(path, user),
        }
        return self._http.json("POST", "/api/v1/keys", json=body)

    def keys(self, user: str) -> list[dict[str, Any]]:
        """Every key of ``user`` (revoked ones too)."""
        return self._http.json("GET", f"/api/v1/users/{user}/keys")["items"]

    def revoke_key(self, fingerprint: str) -> dict[str, Any]:
        return self._http.json("DELETE", f"/api/v1/keys/{fingerprint}")
