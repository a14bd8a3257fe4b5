"""Typed readers for environment variables that fail loudly on bad values.

Every variable the service reads is listed in `.env.example` and in the README.
"""

import ipaddress
import os
import re

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """A string, or the contents of the file named by NAME_FILE (for container secrets)."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            with open(file_name, encoding="utf-8") as handle:
                return handle.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_name!r}: {exc}") from exc
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0/true/false/yes/no/on/off, got {raw!r}")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from exc
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_url(name: str, schemes: tuple[str, ...]) -> str:
    """An optional URL whose scheme must be one of `schemes`; empty means "not configured"."""
    value = env_str(name).strip()
    if value and not value.startswith(tuple(f"{scheme}://" for scheme in schemes)):
        allowed = ", ".join(f"{scheme}://" for scheme in schemes)
        raise ImproperlyConfigured(f"{name} must start with one of {allowed}")
    return value


def env_origins(name: str) -> list[str]:
    """Comma-separated origins (`https://host[:port]`), as CSRF_TRUSTED_ORIGINS wants them."""
    origins = env_list(name, [])
    for origin in origins:
        if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
            raise ImproperlyConfigured(f"{name}: each origin must look like https://host[:port], got {origin!r}")
    return origins


def env_proxy_ssl_header(name: str) -> tuple[str, str] | None:
    """`Header-Name` or `Header-Name=value` (value `https` if omitted): the header a TLS proxy
    sets on requests it received over HTTPS, as Django's SECURE_PROXY_SSL_HEADER wants it."""
    raw = env_str(name).strip()
    if not raw:
        return None
    header, _, value = raw.partition("=")
    header, value = header.strip(), value.strip() or "https"
    if not header or not all(part.isalnum() for part in header.split("-")):
        raise ImproperlyConfigured(f"{name} must be a header name like X-Forwarded-Proto, got {raw!r}")
    return "HTTP_" + header.upper().replace("-", "_"), value


_RATE = re.compile(r"[1-9][0-9]*/(second|minute|hour|day)")


def env_rate(name: str, default: str) -> str:
    """A rate limit "<n>/<second|minute|hour|day>" with n >= 1, as DRF's throttles read it."""
    value = os.environ.get(name, default).strip()
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(f"{name} must look like 600/minute, got {value!r}")
    return value


def env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or networks (`10.0.0.5`, `10.0.0.0/24`, `::1`)."""
    networks = []
    for item in env_list(name, []):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {item!r} is not an IP address or network") from exc
    return networks


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).strip().lower() or default
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_int_list(name: str, default: list[int], *, minimum: int) -> list[int]:
    """Comma-separated integers, each at least `minimum`, at least one."""
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        values = [int(item) for item in raw.split(",")]
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be comma-separated integers, got {raw!r}") from exc
    if any(value < minimum for value in values):
        raise ImproperlyConfigured(f"{name}: every value must be at least {minimum}, got {raw!r}")
    return values
