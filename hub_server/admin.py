"""Administration without a running server, straight on the database and store of a data dir
(or of ``HUB_DATABASE_URL`` / ``HUB_STORAGE_URL``): tokens, the audit trail and garbage
collection, and accounts (end their web sessions, disable, enable, display names, an org's
private-by-default). Used by ``hub admin ...`` and the test fixtures."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta

from .db import Database, upgrade
from .services import account_admin, audit, tokens
from .services.context import Hub
from .settings import Settings


@contextmanager
def _database(settings: Settings) -> Iterator[Database]:
    if settings.uses_data_dir():
        settings.data.mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url(), settings.query_timeout_seconds)
    try:
        upgrade(db)
        yield db
    finally:
        db.dispose()


def create_user_token(
    settings: Settings,
    user: str,
    scope: str = "write",
    orgs: Iterable[str] = (),
    *,
    expires_in: timedelta | str | None = None,
    name: str = "",
) -> str:
    with _database(settings) as db:
        return tokens.issue_token(db, user, scope, tuple(orgs), expires_in=expires_in, name=name, actor="admin")[1]


def list_user_tokens(settings: Settings, user: str | None = None) -> list[dict]:
    with _database(settings) as db:
        return tokens.list_tokens(db, user) if user else tokens.list_all_tokens(db)


def revoke_user_token(settings: Settings, token_id: int) -> dict:
    with _database(settings) as db:
        return tokens.revoke_token(db, None, token_id, actor="admin")


def end_user_sessions(settings: Settings, user: str) -> dict:
    with _database(settings) as db:
        return account_admin.end_sessions(db, user)


def set_user_disabled(settings: Settings, user: str, disabled: bool) -> dict:
    with _database(settings) as db:
        return account_admin.set_disabled(db, user, disabled)


def set_account_fullname(settings: Settings, name: str, fullname: str) -> dict:
    with _database(settings) as db:
        return account_admin.set_fullname(db, name, fullname)


def set_org_private_by_default(settings: Settings, org: str, private: bool) -> dict:
    with _database(settings) as db:
        return account_admin.set_private_by_default(db, org, private)


def audit_events(settings: Settings, **filters) -> dict:
    with _database(settings) as db:
        return audit.list_events(db, **filters)


def garbage_collect(settings: Settings, grace: timedelta, *, dry_run: bool = False, progress=None):
    from .app import build_hub
    from .services.gc import collect_garbage

    hub: Hub = build_hub(settings)
    try:
        return collect_garbage(hub, grace, dry_run=dry_run, progress=progress)
    finally:
        hub.db.dispose()
