"""Sandbox sign-up (docs/sandbox.md): a vendor's certificate or public key in, a client of a
demo enterprise out, with what that client can send and get back (its demo sheet)."""

from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from django.db import transaction

from registrations.domain.vocabulary import ClientRole
from registrations.models import Client
from registrations.selectors.demo_sheet import ClientSheet, client_sheet, demo_clients
from registrations.services.clients import ClientRegistrationError, client_register

NAME_MAX_LENGTH = 100


class SandboxSignupError(ValueError):
    """A sign-up refused; the message says why and is safe to show."""


@dataclass(frozen=True)
class SandboxSignup:
    client: Client
    sheet: ClientSheet


class _NothingCleanError(Exception):
    pass


def _credentials(pem: str) -> tuple[str, str]:
    """(certificate PEM, public key PEM) from a certificate (both: its key signs REST token
    requests too) or a public key alone (REST only). The key must be RSA: the token endpoint
    verifies RS256 and WS-Security RSA-SHA256 signatures. Raises SandboxSignupError."""
    text = pem.strip() + "\n"
    if "-----BEGIN CERTIFICATE-----" in text:
        try:
            key = x509.load_pem_x509_certificate(text.encode()).public_key()
        except ValueError as exc:
            raise SandboxSignupError("this is not a readable PEM certificate") from exc
        return text, _rsa_pem(key)
    if "-----BEGIN PUBLIC KEY-----" in text:
        try:
            public_key = serialization.load_pem_public_key(text.encode())
        except ValueError as exc:
            raise SandboxSignupError("this is not a readable PEM public key") from exc
        return "", _rsa_pem(public_key)
    raise SandboxSignupError("paste a PEM certificate (BEGIN CERTIFICATE) or public key (BEGIN PUBLIC KEY)")


def _rsa_pem(key: object) -> str:
    if not isinstance(key, rsa.RSAPublicKey):
        raise SandboxSignupError("the key must be an RSA key (RS256 token assertions, RSA-SHA256 signatures)")
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@transaction.atomic
def sandbox_client_register(*, name: str, pem: str) -> SandboxSignup:
    """Register an enterprise client for the first demo enterprise whose combinations validate
    cleanly for it, with the vendor's certificate (SOAP, and REST with the same key) or public
    key (REST), and return it with its demo sheet.

    Raises SandboxSignupError: sandbox mode off, an empty or long name, a PEM that is neither
    a certificate nor a public key, a certificate already registered, or no demo loaded
    (`manage.py seed_demo`).
    """
    if not settings.SANDBOX_MODE:
        raise SandboxSignupError("sign-up exists in sandbox mode only")
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise SandboxSignupError(f"give a name of 1 to {NAME_MAX_LENGTH} characters")
    certificate_pem, public_key_pem = _credentials(pem)
    for demo, _files in demo_clients():
        if demo.role != ClientRole.ENTERPRISE:
            continue
        try:
            return _signup_for(demo.enterprise_number, f"{name} (sandbox)", certificate_pem, public_key_pem)
        except _NothingCleanError:
            continue
        except ClientRegistrationError as exc:
            raise SandboxSignupError(str(exc)) from exc
    raise SandboxSignupError("no demo enterprise validates cleanly here: load the demo first (manage.py seed_demo)")


def _signup_for(enterprise_number: str, name: str, certificate_pem: str, public_key_pem: str) -> SandboxSignup:
    """Raises _NothingCleanError, having stored nothing, when this enterprise offers the client no
    combination that validates cleanly."""
    with transaction.atomic():
        client = client_register(
            name=name,
            enterprise_number=enterprise_number,
            role=ClientRole.ENTERPRISE,
            certificate_pem=certificate_pem,
            public_key_pem=public_key_pem,
        )
        sheet = client_sheet(client)
        if not sheet.clean:
            raise _NothingCleanError
    return SandboxSignup(client=client, sheet=sheet)
