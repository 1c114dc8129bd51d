"""Native routes for signing keys: register, list a user's keys, look one up, revoke."""

from __future__ import annotations

from fastapi import APIRouter

from ..services import signatures
from .bodies import NewKey
from .deps import Caller, HubDep

router = APIRouter(prefix="/api/v1", tags=["keys"])


@router.post("/keys", status_code=201)
def add_key(hub: HubDep, who: Caller, body: NewKey) -> dict:
    return signatures.register_key(hub, who, body.public_key, body.name, body.proof)


@router.get("/users/{user}/keys")
def user_keys(hub: HubDep, user: str) -> dict:
    return {"items": signatures.list_keys(hub, user)}


@router.get("/keys/{fingerprint}")
def get_key(hub: HubDep, fingerprint: str) -> dict:
    return signatures.get_key(hub, fingerprint)


@router.delete("/keys/{fingerprint}")
def revoke_key(hub: HubDep, who: Caller, fingerprint: str) -> dict:
    return signatures.revoke_key(hub, who, fingerprint)
