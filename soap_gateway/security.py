"""Who is calling: WS-Security X.509 signature verification, or a trusted TLS proxy.

`verify_envelope` checks, on the very tree Spyne dispatches, that the envelope carries one
Body and one Timestamp, both signed (exc-c14n, RSA-SHA256, SHA-256 digests) with the key of
the X.509 BinarySecurityToken it carries; that the Timestamp is fresh; and returns the
token's DER. The certificate is then mapped to a registered client by its SHA-256
fingerprint (`register_client --certificate`). Any failure is `WsSecurityError`, whose
reason is logged with the fault's ticket and never sent to the caller.
"""

import base64
import binascii
import hashlib
import itertools
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from lxml import etree

from registrations.authz import Caller
from registrations.clients import client_mark_used
from registrations.models import Client

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
_NS = {"soap": SOAP_ENV, "wsse": WSSE, "wsu": WSU, "ds": DS}
_WSU_ID = f"{{{WSU}}}Id"
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
_X509V3 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"
_BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
_LOCAL_REF = re.compile(r"#([A-Za-z_][\w.-]*)")
_MAX_REFERENCES = 8
_PURGE_EVERY = 100
_remembered = itertools.count(1)
_FUTURE_SKEW = timedelta(seconds=60)


class WsSecurityError(Exception):
    """The message is not authenticated; the text says why (for our log only)."""


def _one(parent: etree._Element, path: str, what: str) -> etree._Element:
    found = parent.xpath(path, namespaces=_NS)
    if len(found) != 1:
        raise WsSecurityError(f"expected exactly one {what}, found {len(found)}")
    return found[0]


def _check_structure(envelope: etree._Element) -> tuple[etree._Element, etree._Element]:
    """Envelope/Header + Envelope/Body exactly once, and no other Body anywhere (wrapping)."""
    if envelope.tag != f"{{{SOAP_ENV}}}Envelope":
        raise WsSecurityError("root is not a SOAP 1.1 Envelope")
    header = _one(envelope, "soap:Header", "soap:Header")
    body = _one(envelope, "soap:Body", "soap:Body")
    if len(envelope.xpath("//soap:Body", namespaces=_NS)) != 1:
        raise WsSecurityError("more than one soap:Body in the document")
    if len(envelope.xpath("//wsse:Security", namespaces=_NS)) != 1:
        raise WsSecurityError("expected exactly one wsse:Security in the document")
    return header, body


def _signed_ids(signature: etree._Element) -> set[str]:
    """The ids the signature references, after checking every algorithm it names."""
    info = _one(signature, "ds:SignedInfo", "ds:SignedInfo")
    if _one(info, "ds:CanonicalizationMethod", "c14n method").get("Algorithm") != _EXC_C14N:
        raise WsSecurityError("canonicalization is not exc-c14n")
    if _one(info, "ds:SignatureMethod", "signature method").get("Algorithm") != _RSA_SHA256:
        raise WsSecurityError("signature method is not rsa-sha256")
    references = info.xpath("ds:Reference", namespaces=_NS)
    if not 1 <= len(references) <= _MAX_REFERENCES:
        raise WsSecurityError(f"{len(references)} references")
    ids: set[str] = set()
    for reference in references:
        match = _LOCAL_REF.fullmatch(reference.get("URI", ""))
        if match is None:
            raise WsSecurityError("a reference URI is not a local #id")
        transforms = reference.xpath("ds:Transforms/ds:Transform/@Algorithm", namespaces=_NS)
        if any(algorithm != _EXC_C14N for algorithm in transforms):
            raise WsSecurityError("a reference uses a transform other than exc-c14n")
        if _one(reference, "ds:DigestMethod", "digest method").get("Algorithm") != _SHA256:
            raise WsSecurityError("a digest method is not sha256")
        ids.add(match.group(1))
    return ids


def _token_der(security: etree._Element, signature: etree._Element) -> bytes:
    token = _one(security, "wsse:BinarySecurityToken", "BinarySecurityToken")
    if token.get("ValueType") != _X509V3 or token.get("EncodingType") != _BASE64:
        raise WsSecurityError("the token is not a base64 X509v3 certificate")
    uri = _one(signature, "ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference", "token reference")
    if token.get(_WSU_ID) is None or uri.get("URI") != f"#{token.get(_WSU_ID)}":
        raise WsSecurityError("KeyInfo does not point at the BinarySecurityToken")
    try:
        return base64.b64decode("".join((token.text or "").split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WsSecurityError("the token is not base64") from exc


def _parse_instant(text: str | None, what: str) -> datetime:
    try:
        instant = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise WsSecurityError(f"{what} is not a timestamp") from exc
    if instant.tzinfo is None:
        raise WsSecurityError(f"{what} has no time zone")
    return instant


def _check_timestamp(timestamp: etree._Element, now: datetime) -> None:
    created = _parse_instant(_one(timestamp, "wsu:Created", "wsu:Created").text, "Created")
    max_age = timedelta(seconds=settings.SOAP_TIMESTAMP_MAX_AGE_SECONDS)
    if created < now - max_age:
        raise WsSecurityError("the Timestamp is too old")
    if created > now + _FUTURE_SKEW:
        raise WsSecurityError("the Timestamp is in the future")
    expires = timestamp.xpath("wsu:Expires", namespaces=_NS)
    if expires and _parse_instant(expires[0].text, "Expires") < now - _FUTURE_SKEW:
        raise WsSecurityError("the Timestamp has expired")


def _verify_signature(envelope: etree._Element, signature: etree._Element, ids: set[str], der: bytes) -> None:
    context = xmlsec.SignatureContext()
    for node in envelope.xpath("//*[@wsu:Id]", namespaces=_NS):
        if node.get(_WSU_ID) in ids:
            context.register_id(node, "Id", WSU)  # wsu:Id is no DTD ID: xmlsec must be told
    try:
        context.key = xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer, None)
        context.verify(signature)
    except xmlsec.Error as exc:
        raise WsSecurityError(f"signature invalid ({exc})") from exc


def verify_envelope(envelope: etree._Element, now: datetime | None = None) -> tuple[bytes, bytes]:
    """Check the WS-Security of `envelope`; return (certificate DER, signature value).

    Raises WsSecurityError on anything short of a fresh, valid signature over both the Body
    and the Timestamp by the key of the message's own certificate.
    """
    now = now or datetime.now(UTC)
    header, body = _check_structure(envelope)
    security = _one(header, "wsse:Security", "wsse:Security")
    signature = _one(security, "ds:Signature", "ds:Signature")
    timestamp = _one(security, "wsu:Timestamp", "wsu:Timestamp")
    all_ids = envelope.xpath("//@wsu:Id", namespaces=_NS)
    if len(all_ids) != len(set(all_ids)):
        raise WsSecurityError("duplicate wsu:Id values")
    ids = _signed_ids(signature)
    if body.get(_WSU_ID) not in ids or timestamp.get(_WSU_ID) not in ids:
        raise WsSecurityError("the signature does not cover both the Body and the Timestamp")
    _check_timestamp(timestamp, now)
    der = _token_der(security, signature)
    _verify_signature(envelope, signature, ids, der)
    value = _one(signature, "ds:SignatureValue", "SignatureValue").text or ""
    return der, "".join(value.split()).encode()


def _client_for_der(der: bytes, now: datetime) -> Client:
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise WsSecurityError("the certificate cannot be read") from exc
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise WsSecurityError("the certificate is outside its validity period")
    fingerprint = hashlib.sha256(der).hexdigest()
    client = Client.objects.filter(certificate_fingerprint=fingerprint, is_active=True).first()
    if client is None:
        raise WsSecurityError(f"no active client has certificate sha256:{fingerprint[:16]}")
    client_mark_used(client=client, now=now)  # "last used" in the operators' console
    return client


def _remember_signature(signature_value: bytes, now: datetime) -> None:
    """Refuse a message seen before: each signature value is accepted once (bad input 14).

    A database row, so every web process shares it; kept as long as a Timestamp is fresh.
    """
    from soap_gateway.models import SeenSignature

    digest = hashlib.sha256(signature_value).hexdigest()
    keep = timedelta(seconds=settings.SOAP_TIMESTAMP_MAX_AGE_SECONDS) + 2 * _FUTURE_SKEW
    try:
        with transaction.atomic():
            SeenSignature.objects.create(digest=digest, expires_at=now + keep)
    except IntegrityError as exc:
        raise WsSecurityError("replayed message (signature already seen)") from exc
    if next(_remembered) % _PURGE_EVERY == 0:  # expired digests go in batches, not per call
        SeenSignature.objects.filter(expires_at__lt=now).delete()


def authenticate_signed(envelope: etree._Element) -> Caller:
    """The caller of a WS-Security signed envelope. Raises WsSecurityError."""
    now = timezone.now()
    der, signature_value = verify_envelope(envelope, now)
    client = _client_for_der(der, now)
    _remember_signature(signature_value, now)
    return Caller.for_client(client)


def proxy_certificate(meta: dict[str, object]) -> bytes | None:
    """The client certificate a trusted TLS proxy passed, as DER, or None when this request
    did not come through a trusted proxy with that header.

    The header holds the PEM, URL-escaped (nginx `$ssl_client_escaped_cert`). A header from
    any other address is ignored here and refused by the caller (it is a forgery attempt).
    """
    header = settings.SOAP_PROXY_CERT_HEADER
    raw = meta.get(f"HTTP_{header.upper().replace('-', '_')}") if header else None
    if not raw or meta.get("REMOTE_ADDR") not in settings.SOAP_TRUSTED_PROXIES:
        return None
    try:
        certificate = x509.load_pem_x509_certificate(unquote(str(raw)).encode())
    except ValueError as exc:
        raise WsSecurityError("the proxy's certificate header cannot be read") from exc
    return certificate.public_bytes(serialization.Encoding.DER)


def forged_proxy_header(meta: dict[str, object]) -> bool:
    """A certificate header from an address that is not a trusted proxy."""
    header = settings.SOAP_PROXY_CERT_HEADER
    present = bool(header) and bool(meta.get(f"HTTP_{header.upper().replace('-', '_')}"))
    return present and meta.get("REMOTE_ADDR") not in settings.SOAP_TRUSTED_PROXIES


def authenticate_proxied(der: bytes) -> Caller:
    """The caller whose certificate a trusted proxy verified. Raises WsSecurityError."""
    client = _client_for_der(der, timezone.now())
    return Caller.for_client(client)
