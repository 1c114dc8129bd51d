"""Where a webhook may send its events: an ``http(s)`` URL whose host resolves to public addresses only.

The hub checks a URL when a webhook is created or changed; the worker checks it again right before each
delivery (a name may resolve elsewhere by then: DNS rebinding) and connects to the very address it checked
(``pinned_url``), never resolving the name a second time. Loopback, private, link-local, shared (CGNAT),
reserved, unspecified and multicast addresses, and IPv6 forms that embed them, are refused unless the
operator allows private targets (the hub's ``HUB_WEBHOOK_ALLOW_PRIVATE``). Pure standard library."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from .errors import TargetRefused

MAX_URL_CHARS = 2000
SCHEMES = ("http", "https")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    """A checked webhook URL: its parts, and the ``Host`` header a request to a pinned address carries."""

    url: str
    scheme: str
    host: str  # without IPv6 brackets
    port: int
    host_header: str

    @property
    def is_https(self) -> bool:
        return self.scheme == "https"


def check_url(url: object) -> Target:
    """The URL's shape: ``http``/``https``, a host, no credentials, at most ``MAX_URL_CHARS`` characters."""
    if not isinstance(url, str) or not url.strip():
        raise TargetRefused("a webhook needs a url (http:// or https://)")
    if len(url) > MAX_URL_CHARS:
        raise TargetRefused(f"the webhook url is longer than {MAX_URL_CHARS} characters")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise TargetRefused("the webhook url may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"the webhook url is not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise TargetRefused(f"a webhook url must start with http:// or https://, not {scheme[:20] or 'nothing'}")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("a webhook url may not carry a user name or password; use the webhook's secret")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise TargetRefused("the webhook url has no host")
    port = port or (443 if scheme == "https" else 80)
    shown = f"[{host}]" if ":" in host else host
    explicit = parts.port is not None
    return Target(url, scheme, host, port, f"{shown}:{parts.port}" if explicit else shown)


def _judged(ip: Address) -> set[Address]:
    """The addresses that decide: an IPv4-mapped one (``::ffff:a.b.c.d``) is its IPv4 address; 6to4 and
    Teredo ones are themselves and the IPv4 address they carry."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return {ip.ipv4_mapped}
        if ip.sixtofour is not None:
            return {ip, ip.sixtofour}
        if ip.teredo is not None:
            return {ip, ip.teredo[1]}
    return {ip}


def is_public(address: str) -> bool:
    """Whether ``address`` (an IP literal) is a globally routed unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return all(a.is_global and not a.is_multicast for a in _judged(ip))


def resolve(target: Target, *, allow_private: bool) -> list[str]:
    """The addresses ``target``'s host resolves to, all of them public unless ``allow_private``;
    ``TargetRefused`` (one line) when it does not resolve or any address is not public."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(f"the webhook host {target.host[:200]} does not resolve") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise TargetRefused(f"the webhook host {target.host[:200]} does not resolve")
    if not allow_private:
        refused = [a for a in addresses if not is_public(a)]
        if refused:
            raise TargetRefused(
                f"the webhook host {target.host[:200]} resolves to {refused[0]}, a loopback, private or "
                "link-local address; this hub does not send webhooks there"
            )
    return addresses


def pinned_url(target: Target, address: str) -> str:
    """``target``'s URL with its host replaced by ``address`` (send it with ``Host: target.host_header``
    and, for https, the TLS server name ``target.host``), so the connection goes where the check said."""
    parts = urlsplit(target.url)
    host = f"[{address}]" if ":" in address else address
    return urlunsplit((target.scheme, f"{host}:{target.port}", parts.path or "/", parts.query, ""))


def check_target(url: object, *, allow_private: bool) -> Target:
    """Shape and addresses in one call (what the hub does when a webhook is created or changed)."""
    target = check_url(url)
    resolve(target, allow_private=allow_private)
    return target
