"""How the client and the ML core read their environment variables: one frozen dataclass per package,
each field naming its variable with a default and a docstring-like ``doc``, read afresh on every call
(nothing is frozen at import, so a test or a long-lived process that changes the environment is seen).

The server does the same with pydantic-settings; this is the stdlib version for the two sides that must
start fast and must not need pydantic. ``tools/settings_table.py`` writes the README's configuration
table from these fields, so a variable without a ``doc`` cannot be declared.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from .errors import SettingInvalid

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})

T = TypeVar("T")


def env_field(env: str, default: Any, doc: str) -> Any:
    """A settings field read from ``env`` (unset or blank: ``default``); ``doc`` is its README line."""
    if not doc.strip():
        raise ValueError(f"{env} needs a doc")
    return dataclasses.field(default=default, metadata={"env": env, "doc": " ".join(doc.split())})


def parse_bool(env: str, raw: str) -> bool:
    """``1/true/yes/on`` or ``0/false/no/off`` (any case); anything else is refused with one line."""
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingInvalid(f"{env} must be one of 1/true/yes/on or 0/false/no/off, got {raw[:40]!r}")


def _scalar(annotation: Any) -> Any:
    """``X`` for ``X`` or ``X | None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kinds = [kind for kind in typing.get_args(annotation) if kind is not type(None)]
        if len(kinds) == 1:
            return kinds[0]
    return annotation


def _parse(env: str, annotation: Any, raw: str) -> Any:
    kind = _scalar(annotation)
    if kind is bool:
        return parse_bool(env, raw)
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise SettingInvalid(f"{env} must be a whole number, got {raw[:40]!r}") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise SettingInvalid(f"{env} must be a number, got {raw[:40]!r}") from None
    if kind is Path:
        return Path(raw).expanduser()
    if kind is str:
        return raw
    raise TypeError(f"{env}: settings of type {annotation!r} are not supported")


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, str, Any], ...]:
    """``(attribute, variable, annotation)`` per field; the class's declaration, read once."""
    hints = typing.get_type_hints(cls)
    return tuple((f.name, f.metadata["env"], hints[f.name]) for f in dataclasses.fields(cls))


def read_env(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    """An instance of the settings dataclass ``cls`` from ``environ`` (default: ``os.environ`` now).

    A variable that is unset or blank keeps the field's default; a value that does not parse raises
    ``SettingInvalid`` naming the variable."""
    source = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, env, annotation in _fields(typing.cast(type, cls)):
        raw = source.get(env)
        if raw is None or not raw.strip():
            continue
        values[name] = _parse(env, annotation, raw.strip())
    return cls(**values)
