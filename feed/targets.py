"""Webhook targets and the server-side request forgery guard (docs/feed.md, docs/adr/0017).

A target is an absolute https:// URL (http:// only where WEBHOOK_ALLOW_HTTP allows it) with a
host name or address, no credentials and no fragment. Its host is resolved once per attempt
and every address it resolves to must be public: no private, loopback, link-local, shared
(CGNAT), multicast, reserved or documentation address, and no IPv6 form of one (mapped,
6to4, NAT64), unless it lies in one of the networks an operator listed in
WEBHOOK_ALLOWED_NETWORKS. The connection then goes to the address that was checked (feed/
sender.py), never to a second resolution of the name, so a name that changes its answer
between the check and the connection (DNS rebinding) reaches nothing it should not.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2048

# Beyond what `is_global` excludes, or excluded only by recent Python releases: ranges that
# route to someone's inside (the list requests-hardened keeps, for the same reason).
_NEVER = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "100.64.0.0/10",  # shared address space (CGNAT)
        "192.0.0.0/24",  # IETF protocol assignments
        "192.88.99.0/24",  # 6to4 relay anycast
        "198.18.0.0/15",  # benchmarking
        "64:ff9b::/96",  # NAT64: an IPv4 address in disguise
        "64:ff9b:1::/48",
        "2002::/16",  # 6to4: same
        "2001:20::/28",  # ORCHIDv2
        "5f00::/16",  # segment routing
        "3fff::/20",  # documentation
    )
)


class TargetRefusedError(Exception):
    """A target that may not be used; `reason` is safe to show the client and to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# One answer for a name that does not resolve and for one that resolves to a forbidden
# address: the check tells nobody which internal names exist.
NOT_PUBLIC = "the target must resolve to public internet addresses only"


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # a name, or an address without brackets
    port: int
    path: str  # path and query, as sent in the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_target(url: str) -> Target:
    """The target of a URL; raises TargetRefusedError for a URL a webhook may not use."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise TargetRefusedError(f"the target must be a URL of at most {MAX_URL_LENGTH} characters")
    if not url.isascii() or any(character.isspace() or ord(character) < 32 for character in url):
        raise TargetRefusedError("the target URL must be ASCII, without spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefusedError("the target is not a valid URL") from exc
    schemes = ("https", "http") if settings.WEBHOOK_ALLOW_HTTP else ("https",)
    if parts.scheme not in schemes:
        allowed = " or ".join(f"{scheme}://" for scheme in reversed(schemes))
        raise TargetRefusedError(f"the target must be an {allowed} URL")
    if not parts.hostname:
        raise TargetRefusedError("the target URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefusedError("the target URL must not carry credentials")
    if parts.fragment or url.endswith("#"):
        raise TargetRefusedError("the target URL must not have a fragment")
    default = 443 if parts.scheme == "https" else 80
    path = parts.path or "/"
    return Target(
        url=url,
        scheme=parts.scheme,
        host=parts.hostname,
        port=default if port is None else port,
        path=f"{path}?{parts.query}" if parts.query else path,
    )


def _as_ipv4_if_mapped(address: IPAddress) -> IPAddress:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def address_allowed(address: IPAddress) -> bool:
    """Whether a webhook may be sent to this address."""
    address = _as_ipv4_if_mapped(address)
    if any(address in ipaddress.ip_network(network) for network in settings.WEBHOOK_ALLOWED_NETWORKS):
        return True
    if not address.is_global or address.is_multicast:
        return False
    return not any(address in network for network in _NEVER)


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (an address resolves to itself), once."""
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise TargetRefusedError(NOT_PUBLIC) from exc
    addresses: list[IPAddress] = []
    for family, _, _, _, socket_address in answers:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(str(socket_address[0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
    return addresses


def checked_address(target: Target) -> IPAddress:
    """The address to connect to: the host resolved once, every answer allowed. Raises
    TargetRefusedError when the name does not resolve or any of its addresses is forbidden."""
    addresses = resolve(target.host, target.port)
    if not addresses or not all(address_allowed(address) for address in addresses):
        raise TargetRefusedError(NOT_PUBLIC)
    return addresses[0]


def check_target(url: str) -> Target:
    """A URL a subscription may use now: well-formed, allowed scheme, public addresses."""
    target = parse_target(url)
    checked_address(target)
    return target
