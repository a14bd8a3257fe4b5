"""Registering integrator clients (the senders)."""

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from registrations.domain.identifiers import normalise_enterprise_number
from registrations.domain.vocabulary import ClientRole
from registrations.models import Client, ClientMandate
from registrations.services.client_stamp import clients_changed


class ClientRegistrationError(ValueError):
    pass


def _enterprise(raw: str, what: str) -> str:
    value = normalise_enterprise_number(raw)
    if not isinstance(value, str):
        raise ClientRegistrationError(f"{what} {raw!r}: {value.description}")
    return value


def certificate_fingerprint(certificate_pem: str) -> str:
    """SHA-256 of the certificate's DER encoding, in lower-case hex."""
    try:
        certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    except ValueError as exc:
        raise ClientRegistrationError(f"not a PEM X.509 certificate: {exc}") from exc
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def check_public_key(public_key_pem: str) -> None:
    try:
        serialization.load_pem_public_key(public_key_pem.encode())
    except ValueError as exc:
        raise ClientRegistrationError(f"not a PEM public key: {exc}") from exc


@transaction.atomic
def client_register(
    *,
    name: str,
    enterprise_number: str,
    role: ClientRole,
    certificate_pem: str = "",
    public_key_pem: str = "",
    mandated_by: Sequence[str] = (),
    rate_limit: str = "",
) -> Client:
    """Create an integrator client. Raises ClientRegistrationError on any bad value."""
    if not name.strip():
        raise ClientRegistrationError("the name is empty")
    if mandated_by and role != ClientRole.PROFESSIONAL:
        raise ClientRegistrationError("only a professional client acts on mandates")
    fingerprint = certificate_fingerprint(certificate_pem) if certificate_pem else None
    if fingerprint and Client.objects.filter(certificate_fingerprint=fingerprint).exists():
        raise ClientRegistrationError("this certificate is already registered to another client")
    if public_key_pem:
        check_public_key(public_key_pem)
    check_rate_limit(rate_limit)
    client = Client.objects.create(
        name=name.strip(),
        enterprise_number=_enterprise(enterprise_number, "enterprise number"),
        role=role,
        certificate_pem=certificate_pem,
        certificate_fingerprint=fingerprint,
        public_key_pem=public_key_pem,
        rate_limit=rate_limit,
    )
    mandates = {_enterprise(number, "mandating enterprise") for number in mandated_by}
    ClientMandate.objects.bulk_create(
        [ClientMandate(client=client, enterprise_number=number) for number in sorted(mandates)]
    )
    return client


_RATE = re.compile(r"[1-9][0-9]{0,6}/(second|minute|hour|day)")


def check_rate_limit(rate_limit: str) -> None:
    """Raises ClientRegistrationError unless `rate_limit` is empty or "<n>/<period>"."""
    if rate_limit and not _RATE.fullmatch(rate_limit):
        raise ClientRegistrationError("a rate limit reads like 600/minute (second, minute, hour or day)")


def _end_issued_tokens(client: Client) -> None:
    """Bump the client's token generation: every bearer token issued before is refused from
    now on, whatever else happens to the client later (a reactivation brings none back).

    An UPDATE with F(), so two concurrent changes both count; the instance follows."""
    Client.objects.filter(pk=client.pk).update(token_generation=F("token_generation") + 1)
    client.refresh_from_db(fields=["token_generation"])
    clients_changed()  # what the gateways keep about the client's tokens goes too


@transaction.atomic
def client_rotate_certificate(*, client: Client, certificate_pem: str) -> Client:
    """Replace the client's certificate; its fingerprint follows, so SOAP calls signed with
    the old certificate stop matching at once, and every REST token issued so far ends.
    Raises ClientRegistrationError (not PEM, or registered to another client)."""
    fingerprint = certificate_fingerprint(certificate_pem)
    if Client.objects.filter(certificate_fingerprint=fingerprint).exclude(pk=client.pk).exists():
        raise ClientRegistrationError("this certificate is already registered to another client")
    client.certificate_pem = certificate_pem
    client.certificate_fingerprint = fingerprint
    client.save(update_fields=["certificate_pem", "certificate_fingerprint"])
    _end_issued_tokens(client)
    return client


@transaction.atomic
def client_revoke_certificate(*, client: Client) -> Client:
    """Remove the client's certificate: no SOAP call authenticates as this client any more,
    and every REST token issued so far ends."""
    client.certificate_pem = ""
    client.certificate_fingerprint = None
    client.save(update_fields=["certificate_pem", "certificate_fingerprint"])
    _end_issued_tokens(client)
    return client


@transaction.atomic
def client_rotate_public_key(*, client: Client, public_key_pem: str) -> Client:
    """Replace the key that verifies the client's REST token requests (JWT assertions); every
    token issued under the old key ends. Raises ClientRegistrationError when it is not a PEM
    public key."""
    check_public_key(public_key_pem)
    client.public_key_pem = public_key_pem
    client.save(update_fields=["public_key_pem"])
    _end_issued_tokens(client)
    return client


@transaction.atomic
def client_revoke_public_key(*, client: Client) -> Client:
    """Remove the client's public key: it obtains no new REST token, and every token issued
    so far ends."""
    client.public_key_pem = ""
    client.save(update_fields=["public_key_pem"])
    _end_issued_tokens(client)
    return client


@transaction.atomic
def client_update(*, client: Client, name: str, is_active: bool, rate_limit: str) -> Client:
    """Change what an operator may change directly: name, active flag, rate limit.

    Deactivating or reactivating the client ends every bearer token issued so far, so a
    reactivated client starts with none. Raises ClientRegistrationError on a bad value."""
    if not name.strip():
        raise ClientRegistrationError("the name is empty")
    check_rate_limit(rate_limit)
    # The stored flag, not the instance's: the admin's form has already set the new one on it.
    was_active = Client.objects.select_for_update().values_list("is_active", flat=True).get(pk=client.pk)
    client.name, client.is_active, client.rate_limit = name.strip(), is_active, rate_limit
    client.save(update_fields=["name", "is_active", "rate_limit"])
    if was_active != is_active:
        _end_issued_tokens(client)
    return client


# A sandbox clock moves by days at most: a year either way covers every rule's window.
MAX_CLOCK_OFFSET = timedelta(days=366)


def check_clock_offset(offset: timedelta) -> None:
    """Raises ClientRegistrationError for an offset beyond a year either way."""
    if abs(offset) > MAX_CLOCK_OFFSET:
        raise ClientRegistrationError("a clock offset is at most a year either way")


@transaction.atomic
def client_set_clock_offset(*, client: Client, offset: timedelta) -> Client:
    """Sandbox mode only: move the client's "now" and "today" for admission and cancellation
    (registrations.domain.clock) by `offset`. Raises ClientRegistrationError outside sandbox
    mode, or for an offset beyond a year either way."""
    if not settings.SANDBOX_MODE:
        raise ClientRegistrationError("a clock offset exists in sandbox mode only (SANDBOX_MODE=1)")
    check_clock_offset(offset)
    client.clock_offset = offset
    client.save(update_fields=["clock_offset"])
    return client


# "Last used" is for operators, to the minute is plenty: at most one write per client per
# period, whatever the request rate.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def client_mark_used(*, client: Client, now: datetime | None = None) -> bool:
    """Record that the client just authenticated; True when a row was written.

    The gateways call it after authenticating a client. It writes only when the stored time
    is older than LAST_USED_RESOLUTION, and with a conditional UPDATE, so concurrent
    requests of one client write at most once per period.
    """
    now = now or timezone.now()
    if client.last_used_at is not None and now - client.last_used_at < LAST_USED_RESOLUTION:
        return False
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    written = Client.objects.filter(stale, pk=client.pk).update(last_used_at=now)
    client.last_used_at = now
    return written == 1
