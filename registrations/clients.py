"""Registering integrator clients (the senders)."""

import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.db import transaction

from registrations.identifiers import normalise_enterprise_number
from registrations.models import Client, ClientMandate, ClientRole


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
    client = Client.objects.create(
        name=name.strip(),
        enterprise_number=_enterprise(enterprise_number, "enterprise number"),
        role=role,
        certificate_pem=certificate_pem,
        certificate_fingerprint=fingerprint,
        public_key_pem=public_key_pem,
    )
    mandates = {_enterprise(number, "mandating enterprise") for number in mandated_by}
    ClientMandate.objects.bulk_create(
        [ClientMandate(client=client, enterprise_number=number) for number in sorted(mandates)]
    )
    return client
