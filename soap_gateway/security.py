"""Who is calling: WS-Security X.509 signature verification, or a trusted TLS proxy.

`verify_envelope` checks, on the document as received, that the envelope carries one Body
and one Timestamp, both signed (exc-c14n, RSA-SHA256, SHA-256 digests) with the key of the
X.509 BinarySecurityToken it carries; that the Timestamp is fresh; and returns the token's
DER and the signature's bytes. The profile is the one mainstream stacks emit by default
(docs/adr/0012): an element is named by `wsu:Id` or by an unqualified `Id`, and a reference
may apply `enveloped-signature` before exc-c14n; no other transform is accepted. The
certificate is then mapped to a registered client by its SHA-256 fingerprint
(`register_client --certificate`), and the message is remembered by its certificate and
decoded signature bytes, so no other spelling of the same signature passes as new. Any
failure is `WsSecurityError`, whose reason is logged with the fault's ticket and never sent
to the caller.
"""

import base64
import binascii
import hashlib
import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import unquote

import xmlsec
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from lxml import etree

from registrations.domain.authorisation import Caller
from registrations.selectors.clients import active_client_with_certificate, caller_for_client
from registrations.services.clients import client_mark_used
from soap_gateway.models import SeenSignature

if TYPE_CHECKING:
    from registrations.models import Client

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
DS = "http://www.w3.org/2000/09/xmldsig#"
_NS = {"soap": SOAP_ENV, "wsse": WSSE, "wsu": WSU, "ds": DS}
_WSU_ID = f"{{{WSU}}}Id"
_PLAIN_ID = "Id"  # xml-crypto (node-soap) and some WCF bindings mark elements with it
_EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
_ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
# The transform chains a reference may name: none selects or rewrites content. An
# enveloped-signature transform removes the Signature from what it covers, which for the
# Body and the Timestamp (the Signature is in neither) changes nothing.
_TRANSFORM_CHAINS = {(_EXC_C14N,), (_ENVELOPED, _EXC_C14N)}
_INCLUSIVE_NAMESPACES = f"{{{_EXC_C14N}}}InclusiveNamespaces"  # WSS4J's PrefixList: allowed
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


def _text(element: etree._Element) -> str:
    """All the element's text, as the signature library reads it: a comment or processing
    instruction inside a value (kept until the signature is checked) splits `.text`."""
    return "".join(element.itertext())


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


def _check_algorithm_parameters(method: etree._Element) -> None:
    """A c14n method or transform carries no parameter but exc-c14n's InclusiveNamespaces."""
    for child in method:
        if not isinstance(child.tag, str):
            continue  # a comment or processing instruction is no parameter
        if child.tag != _INCLUSIVE_NAMESPACES or method.get("Algorithm") != _EXC_C14N:
            raise WsSecurityError(f"unexpected {etree.QName(child).localname} in an algorithm")


def _check_transforms(reference: etree._Element) -> None:
    """The reference's transforms are one of the accepted chains, with no extra parameter."""
    transforms = reference.xpath("ds:Transforms/ds:Transform", namespaces=_NS)
    chain = tuple(transform.get("Algorithm") for transform in transforms)
    if chain not in _TRANSFORM_CHAINS:
        # The count only: the algorithms are the caller's text, which our log does not echo.
        raise WsSecurityError(f"a reference's {len(chain)} transform(s) are not an accepted chain")
    for transform in transforms:
        _check_algorithm_parameters(transform)


def _signed_ids(signature: etree._Element) -> set[str]:
    """The ids the signature references, after checking every algorithm it names."""
    info = _one(signature, "ds:SignedInfo", "ds:SignedInfo")
    c14n = _one(info, "ds:CanonicalizationMethod", "c14n method")
    if c14n.get("Algorithm") != _EXC_C14N:
        raise WsSecurityError("canonicalization is not exc-c14n")
    _check_algorithm_parameters(c14n)
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
        _check_transforms(reference)
        if _one(reference, "ds:DigestMethod", "digest method").get("Algorithm") != _SHA256:
            raise WsSecurityError("a digest method is not sha256")
        ids.add(match.group(1))
    if len(ids) != len(references):
        raise WsSecurityError("two references name the same id")
    return ids


def _elements_by_id(envelope: etree._Element) -> dict[str, etree._Element]:
    """Every id in the document, `wsu:Id` and unqualified `Id` together, and its element.

    An id carried by two elements is refused whichever attribute each uses: the element
    we check must be the one the signature library resolves (signature wrapping).
    """
    found: dict[str, etree._Element] = {}
    for node in envelope.xpath("//*[@wsu:Id or @Id]", namespaces=_NS):
        for value in {node.get(_WSU_ID), node.get(_PLAIN_ID)} - {None}:
            if found.setdefault(value, node) is not node:
                raise WsSecurityError("an id is used by two elements")
    return found


def _signed_elements(envelope: etree._Element, ids: set[str]) -> dict[str, etree._Element]:
    """The element each signed id names; an id naming no element is refused."""
    by_id = _elements_by_id(envelope)
    missing = ids - by_id.keys()
    if missing:
        raise WsSecurityError(f"{len(missing)} reference(s) name no element")
    return {value: by_id[value] for value in ids}


def _token_der(security: etree._Element, signature: etree._Element) -> bytes:
    token = _one(security, "wsse:BinarySecurityToken", "BinarySecurityToken")
    if token.get("ValueType") != _X509V3 or token.get("EncodingType") != _BASE64:
        raise WsSecurityError("the token is not a base64 X509v3 certificate")
    uri = _one(signature, "ds:KeyInfo/wsse:SecurityTokenReference/wsse:Reference", "token reference")
    token_ids = {token.get(_WSU_ID), token.get(_PLAIN_ID)} - {None}  # ids are unique already
    if uri.get("URI") not in {f"#{value}" for value in token_ids}:
        raise WsSecurityError("KeyInfo does not point at the BinarySecurityToken")
    try:
        return base64.b64decode("".join(_text(token).split()), validate=True)
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
    created = _parse_instant(_text(_one(timestamp, "wsu:Created", "wsu:Created")), "Created")
    max_age = timedelta(seconds=settings.SOAP_TIMESTAMP_MAX_AGE_SECONDS)
    if created < now - max_age:
        raise WsSecurityError("the Timestamp is too old")
    if created > now + _FUTURE_SKEW:
        raise WsSecurityError("the Timestamp is in the future")
    expires = timestamp.xpath("wsu:Expires", namespaces=_NS)
    if expires and _parse_instant(_text(expires[0]), "Expires") < now - _FUTURE_SKEW:
        raise WsSecurityError("the Timestamp has expired")


def _register_ids(context: xmlsec.SignatureContext, signed: dict[str, etree._Element]) -> None:
    """Tell xmlsec which attribute carries each signed id (neither is a DTD ID), on exactly
    the elements we resolved, so it digests what we checked."""
    for value, node in signed.items():
        if node.get(_WSU_ID) == value:  # one registration per id, even if both attributes hold it
            context.register_id(node, "Id", WSU)
        else:
            context.register_id(node, _PLAIN_ID)


def _verify_signature(signature: etree._Element, signed: dict[str, etree._Element], der: bytes) -> None:
    context = xmlsec.SignatureContext()
    try:
        _register_ids(context, signed)
        context.key = xmlsec.Key.from_memory(der, xmlsec.constants.KeyDataFormatCertDer, None)
        context.verify(signature)
    except xmlsec.Error as exc:
        raise WsSecurityError(f"signature invalid ({exc})") from exc


def _signature_bytes(signature: etree._Element) -> bytes:
    """The SignatureValue decoded. Base64 has many spellings of the same bytes (whitespace,
    line breaks, unused low bits in the last digit) and xmlsec accepts them all: the
    replay cache must remember the bytes, never the text."""
    text = _text(_one(signature, "ds:SignatureValue", "SignatureValue"))
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WsSecurityError("the SignatureValue is not base64") from exc


def verify_envelope(envelope: etree._Element, now: datetime | None = None) -> tuple[bytes, bytes]:
    """Check the WS-Security of `envelope`; return (certificate DER, signature bytes).

    Raises WsSecurityError on anything short of a fresh, valid signature over both the Body
    and the Timestamp by the key of the message's own certificate.
    """
    now = now or datetime.now(UTC)
    header, body = _check_structure(envelope)
    security = _one(header, "wsse:Security", "wsse:Security")
    signature = _one(security, "ds:Signature", "ds:Signature")
    timestamp = _one(security, "wsu:Timestamp", "wsu:Timestamp")
    signed = _signed_elements(envelope, _signed_ids(signature))
    if not all(any(node is part for node in signed.values()) for part in (body, timestamp)):
        raise WsSecurityError("the signature does not cover both the Body and the Timestamp")
    _check_timestamp(timestamp, now)
    der = _token_der(security, signature)
    _verify_signature(signature, signed, der)
    return der, _signature_bytes(signature)


def _client_for_der(der: bytes, now: datetime) -> "Client":
    try:
        certificate = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise WsSecurityError("the certificate cannot be read") from exc
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise WsSecurityError("the certificate is outside its validity period")
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()  # as registered
    client = active_client_with_certificate(fingerprint=fingerprint)
    if client is None:
        raise WsSecurityError(f"no active client has certificate sha256:{fingerprint[:16]}")
    client_mark_used(client=client, now=now)  # "last used" in the operators' console
    return client


def replay_key(der: bytes, signature: bytes) -> str:
    """What identifies a signed message: its certificate and its decoded signature bytes
    (RSA PKCS#1 v1.5 is deterministic: one SignedInfo, one signature)."""
    return hashlib.sha256(hashlib.sha256(der).digest() + signature).hexdigest()


def _remember_signature(der: bytes, signature: bytes, now: datetime) -> None:
    """Refuse a message seen before: each signature is accepted once (bad input 14).

    A database row, so every web process shares it; kept as long as a Timestamp is fresh.
    """
    digest = replay_key(der, signature)
    keep = timedelta(seconds=settings.SOAP_TIMESTAMP_MAX_AGE_SECONDS) + 2 * _FUTURE_SKEW
    try:
        with transaction.atomic():
            SeenSignature.objects.create(digest=digest, expires_at=now + keep)
    except IntegrityError as exc:
        raise WsSecurityError("replayed message (signature already seen)") from exc
    if next(_remembered) % _PURGE_EVERY == 0:  # expired digests go in batches, not per call
        SeenSignature.objects.filter(expires_at__lt=now).delete()


def commit_without_waiting() -> None:
    """On PostgreSQL, the current transaction's commit does not wait for the WAL flush.

    For authentication's own transaction only (the seen signature, "last used"): its flush cost
    as much as the rest of a small call (ADR 0016 measured 4 to 6 ms). Safe for the replay
    check: the unique digest refuses a replay when the INSERT runs, whether or not the first
    commit has reached the disk, so two copies sent at once still get one acceptance. The
    call's registrations then commit synchronously, and a synchronous commit flushes the whole
    WAL before it, this row included: a message whose registrations are durable has its
    signature durable too. Only a crash of the database server within a fraction of a second
    of the commit loses the row, and then only of a call that wrote nothing durable since.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")


def authenticate_signed(envelope: etree._Element) -> Caller:
    """The caller of a WS-Security signed envelope. Raises WsSecurityError."""
    now = timezone.now()
    der, signature = verify_envelope(envelope, now)
    client = _client_for_der(der, now)
    _remember_signature(der, signature, now)
    return caller_for_client(client)


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
    return caller_for_client(client)
