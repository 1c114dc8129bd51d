"""One exception tree for everything the client can raise.

HubError
 ├── TransportError      network failure, server unreachable
 ├── Unauthorized        401: missing or bad token
 ├── Forbidden           403: token lacks rights on the namespace
 ├── NotFound            404: repo / version / file missing (or private)
 ├── Conflict            409: version exists with other content
 ├── DigestMismatch      bytes do not match their sha256
 ├── InvalidRequest      400/422: the server refused the input
 ├── OfflineMiss         offline mode and the cache lacks it
 ├── BadServerAnswer     the server's answer breaks the rules (unsafe path, wrong commit,
 │                       more bytes than declared): refused before anything is stored
 ├── RefusedFile         a local file the server would refuse (pickle, bad path)
 ├── BadSignature        unsigned/foreign/changed-key/invalid signature where one is required
 └── BadReference        unparseable repo id, version or range

HubWarning (UserWarning): yanked pins, unpinned pushes, revoked signing keys; never an exception.
"""

from __future__ import annotations


class HubError(Exception):
    """Root of every client error. ``code`` is the server's error code when there is one."""

    code: str = "error"
    status: int | None = None

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code
        if status is not None:
            self.status = status


class TransportError(HubError):
    code = "transport"


class RateLimited(HubError):
    """The hub refused before doing anything (429); ``retry_after`` is its ``Retry-After`` in seconds."""

    code = "rate_limited"
    retry_after: float | None = None


class Unauthorized(HubError):
    code = "unauthorized"


class Forbidden(HubError):
    code = "forbidden"


class NotFound(HubError):
    code = "not_found"


class Conflict(HubError):
    code = "conflict"


class DigestMismatch(HubError):
    code = "digest_mismatch"


class InvalidRequest(HubError):
    code = "invalid"


class OfflineMiss(HubError):
    code = "offline"


class BadServerAnswer(HubError):
    """A server answered something the client refuses to act on (hostile or broken hub)."""

    code = "bad_answer"


class RefusedFile(HubError):
    """A local file the server would refuse anyway (pickle formats, unsafe paths)."""

    code = "refused"


class BadSignature(HubError):
    """A signature that does not verify, a signing key that changed, or no signature where one is required."""

    code = "signature"


class BadReference(HubError):
    """A repo id, version or range that cannot be parsed."""

    code = "invalid"


class HubWarning(UserWarning):
    """Something worth telling the user that does not stop the operation (yanked pin, unpinned push)."""
