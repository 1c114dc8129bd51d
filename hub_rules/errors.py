"""One error tree for the shared rules; every message is one line, ready to show a user.

    RuleError (ValueError)
     ├── PathRefused        a file path outside the path rule
     ├── VersionInvalid     a version name or range outside the semver grammar
     ├── CardInvalid        model-card front matter refused by the safe loader
     ├── MessageTooLong     a version's message over the one length limit
     ├── NameInvalid        a user, org or repo name (or repo id) outside the name rule
     ├── DigestInvalid      a blob digest that is not sha256:<64 lowercase hex>
     ├── BearerInvalid      an Authorization header that is not ``Bearer <token>``
     ├── RangeNotSatisfiable  a well-formed HTTP Range outside the file (416)
     ├── SignatureError     a signature bundle, key or signed file list that is not acceptable
     ├── SettingInvalid     an environment variable whose value does not parse
     ├── ModelIndexInvalid  a card's declared evaluations (``eval_index``) the hub cannot run as written
     └── TargetRefused      a webhook URL the hub will not send to (``webhook_targets``)

Servers map these to 4xx answers and clients to their own error types; both keep the text.
"""

from __future__ import annotations


class RuleError(ValueError):
    """Root of every refusal raised by ``hub_rules``."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))  # one line, whatever was interpolated

    @property
    def message(self) -> str:
        return str(self)


class PathRefused(RuleError):
    pass


class VersionInvalid(RuleError):
    pass


class CardInvalid(RuleError):
    pass


class MessageTooLong(RuleError):
    pass


class NameInvalid(RuleError):
    """A user, org or repository name (or a ``namespace/name`` id) outside the name rule."""


class DigestInvalid(RuleError):
    """A blob digest that is not ``sha256:<64 lowercase hex>``."""


class BearerInvalid(RuleError):
    """An ``Authorization`` header that is not ``Bearer <token>``."""


class SettingInvalid(RuleError):
    pass


class TargetRefused(RuleError):
    """A webhook URL the hub will not send to: not http(s), unresolvable, or resolving to a private,
    loopback or link-local address (``webhook_targets``)."""
