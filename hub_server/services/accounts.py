"""Accounts with passwords for the web site: sign up (when the hub is open) and sign in.
Passwords are hashed with argon2 (argon2-cffi); the API keeps using tokens."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select

from ..db import Database
from ..db.models import Org, Repo, User
from ..errors import Conflict, Forbidden, Invalid, Unauthorized
from .names import check_name

_HASHER = PasswordHasher()
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
# Names the site's own pages use at the top level (``/search``, ``/settings`` ...).
RESERVED = frozenset(
    {
        "api",
        "bases",
        "search",
        "settings",
        "signin",
        "signout",
        "signup",
        "static",
        "healthz",
        "docs",
        "redoc",
        "openapi.json",
        "admin",
        "new",
        "datasets",
        "collections",
        "xet",
    }
)
# Verifying against a real hash when the user is unknown keeps both answers equally slow.
_DUMMY_HASH = _HASHER.hash("not a real password")


def sign_up(db: Database, name: str, password: str, *, open_signup: bool) -> int:
    """Create a user with a password; return the user id."""
    if not open_signup:
        raise Forbidden("sign-up is closed on this hub; ask an administrator for an account")
    check_name(name, "user name")
    if name.lower() in RESERVED:
        raise Invalid(f"the name {name!r} is reserved")
    _check_password(password)
    hashed = _HASHER.hash(password)
    with db.write() as s:
        taken = s.scalar(select(User.id).where(func.lower(User.name) == name.lower())) is not None
        if taken or s.scalar(select(Org.id).where(func.lower(Org.name) == name.lower())) is not None:
            raise Conflict(f"the name {name!r} is taken")
        if namespace_has_repos(s, name):
            raise Conflict(f"the name {name!r} is taken: repositories already live in that namespace")
        user = User(name=name, password_hash=hashed)
        s.add(user)
        s.flush()
        return user.id


def namespace_has_repos(session, name: str) -> bool:
    """Whether any repository (in any case) lives in namespace ``name``: such a namespace is
    reserved, so nobody can sign up as an admin's mirror and publish or yank there."""
    return session.scalar(select(Repo.id).where(func.lower(Repo.namespace) == name.lower()).limit(1)) is not None


def sign_in(db: Database, name: str, password: str) -> int:
    """The user's id when the password matches; one message for every failure."""
    with db.read() as s:
        user = s.scalar(select(User).where(User.name == name))
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        _HASHER.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong user name or password") from None
    if user is None or not user.password_hash:
        raise Unauthorized("wrong user name or password")
    if user.disabled_at is not None:
        raise Forbidden(f"the account {user.name} is disabled; ask an administrator")
    if _HASHER.check_needs_rehash(stored):
        with db.write() as s:
            s.get(User, user.id).password_hash = _HASHER.hash(password)
    return user.id


def _check_password(password: str) -> None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise Invalid(f"the password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise Invalid(f"the password may have at most {MAX_PASSWORD} characters")


def display_names(session, names: list[str]) -> dict[str, str]:
    """Name -> display name of the users and orgs among ``names`` that have one (``hub admin
    set-fullname``); the others are left out and shown by their name."""
    lowered = [n.lower() for n in names]
    out: dict[str, str] = {}
    for model in (User, Org):
        for name, fullname in session.execute(
            select(model.name, model.fullname).where(func.lower(model.name).in_(lowered), model.fullname.is_not(None))
        ):
            out[name] = fullname
    return out
