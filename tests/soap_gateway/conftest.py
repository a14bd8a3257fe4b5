"""SOAP test kit: certificates, a WS-Security signer, zeep clients built from the OFFICIAL
WSDL, and validation of every response body against the OFFICIAL XSDs and ours.

The official files are not ours to redistribute, so they are not in the repository: they are
read from `settings.OFFICIAL_CONTRACT_DIR` (README, "Tests against the official contract").
Without them, the tests that need them (zeep from the official WSDL, the comparisons in
test_contract.py) are skipped with the reason, and response bodies are still validated against
our own XSDs, which test_contract.py proves equivalent whenever the official files are there."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import xmlsec
import zeep
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from lxml import etree
from zeep.wsse.signature import BinarySignature
from zeep.wsse.utils import WSU, get_security_header

from registrations.models import Client, ClientRole
from registrations.services.clients import client_register
from soap_gateway.schemas import ERRORS_XSD, LOCAL_XML_XSD, PROTOCOL_XSD, XML_XSD_URL, load_schema
from tests.factories import make_enterprise_number

BINDING = "{http://socialsecurity.be/presenceregistration/v1}PresenceRegistrationSOAPBinding"
ENDPOINT = "/PresenceRegistration/v1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
PR = "http://socialsecurity.be/presenceregistration/v1"
T = "http://socialsecurity.be/presenceregistration/schemas/v1"
ERR = "http://socialsecurity.be/errors/v1"


# --- the official contract ------------------------------------------------------------------

# The official files the tests read, relative to OFFICIAL_CONTRACT_DIR.
OFFICIAL_FILES = {
    "wsdl": Path("presenceregistration/v1/PresenceRegistration_v1.wsdl"),
    "protocol": Path("presenceregistration/v1/PresenceRegistration_protocol_v1.xsd"),
    "errors": Path("platformintegrationconsumertest/errors/v1/socsec-errors-schema-v1.xsd"),
}
OUR_FILES = {"our protocol": PROTOCOL_XSD, "our errors": ERRORS_XSD}


def official_contract_dir() -> Path:
    # A setting of config/settings/test.py only: mypy checks against the base settings.
    return Path(settings.OFFICIAL_CONTRACT_DIR)  # type: ignore[misc]


def official_contract_missing() -> str | None:
    """Why the official contract cannot be read (the skip reason), or None when it can."""
    directory = official_contract_dir()
    absent = [str(path) for path in OFFICIAL_FILES.values() if not (directory / path).is_file()]
    if not absent:
        return None
    return (
        f"needs the official PresenceRegistration v1.11 contract: OFFICIAL_CONTRACT_DIR={directory} "
        f"lacks {', '.join(absent)} (README: Tests against the official contract)"
    )


def official_file(which: str) -> Path:
    """The official "wsdl", "protocol" or "errors" file; skips the calling test without them."""
    reason = official_contract_missing()
    if reason:
        pytest.skip(reason)
    return official_contract_dir() / OFFICIAL_FILES[which]


_schemas: dict[Path, etree.XMLSchema] = {}


def official_schema(which: str) -> etree.XMLSchema:
    """The official "protocol" or "errors" schema (or "our protocol" / "our errors")."""
    path = OUR_FILES[which] if which in OUR_FILES else official_file(which)
    if path not in _schemas:
        _schemas[path] = load_schema(path)
    return _schemas[path]


def assert_valid_response(content: bytes) -> etree._Element:
    """The response body validates against our XSD and, when present, the official one: the
    message element against the protocol schema, a fault's detail against the errors schema.
    Returns the envelope."""
    envelope = etree.fromstring(content)
    assert envelope.tag == f"{{{SOAP_ENV}}}Envelope"
    (body,) = envelope.findall(f"{{{SOAP_ENV}}}Body")
    (payload,) = list(body)
    if payload.tag == f"{{{SOAP_ENV}}}Fault":
        (detail,) = payload.findall("detail")
        (error,) = list(detail)
        checked, kind = error, "errors"
    else:
        checked, kind = payload, "protocol"
    kinds = [f"our {kind}"] if official_contract_missing() else [kind, f"our {kind}"]
    for schema in map(official_schema, kinds):
        assert schema.validate(checked), schema.error_log
    return envelope


def fault_of(content: bytes) -> SimpleNamespace:
    """The platform fault in a response: faultcode, code, message, retry, ticket."""
    envelope = assert_valid_response(content)
    fault = envelope.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, content[:500]
    error = fault.find("detail")[0]
    return SimpleNamespace(
        faultcode=fault.findtext("faultcode"),
        faultstring=fault.findtext("faultstring"),
        kind=etree.QName(error).localname,
        code=error.findtext(f"{{{ERR}}}Code"),
        message=error.findtext(f"{{{ERR}}}Message"),
        retry=error.findtext(f"{{{ERR}}}Retry"),
        ticket=error.get("Id"),
    )


# --- certificates and signing ---------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    key_path: Path
    cert_path: Path
    cert_pem: str


def make_credentials(directory: Path, name: str, *, not_before: datetime | None = None, days: int = 365) -> Credentials:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = not_before or datetime.now(UTC) - timedelta(days=1)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    key_path = directory / f"{name}.key"
    cert_path = directory / f"{name}.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    cert_path.write_text(cert_pem)
    return Credentials(key_path, cert_path, cert_pem)


class TimestampedSignature(BinarySignature):
    """zeep's BinarySignature signing Body + Timestamp with RSA-SHA256/SHA-256.

    zeep signs the Timestamp only if it is in wsse:Security before apply() (trap T12), and
    verifies every response with the client's own certificate (T13): ours are unsigned.
    `created_offset` moves the Timestamp in time for the freshness tests.
    """

    def __init__(
        self, credentials: Credentials, *, created_offset: timedelta = timedelta(0), ttl: int = 300, **kw: Any
    ) -> None:
        kw.setdefault("signature_method", xmlsec.constants.TransformRsaSha256)
        kw.setdefault("digest_method", xmlsec.constants.TransformSha256)
        super().__init__(str(credentials.key_path), str(credentials.cert_path), **kw)
        self.created_offset = created_offset
        self.ttl = ttl

    def apply(self, envelope, headers):
        now = datetime.now(UTC).replace(microsecond=0) + self.created_offset
        get_security_header(envelope).append(
            WSU.Timestamp(
                WSU.Created(now.isoformat().replace("+00:00", "Z")),
                WSU.Expires((now + timedelta(seconds=self.ttl)).isoformat().replace("+00:00", "Z")),
            )
        )
        return super().apply(envelope, headers)

    def verify(self, envelope):
        return envelope


def sign(envelope: bytes, signer: BinarySignature) -> bytes:
    tree = etree.fromstring(envelope)
    signer.apply(tree, {})
    return etree.tostring(tree)


@pytest.fixture(scope="session")
def credentials_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("soap-credentials")


@pytest.fixture(scope="session")
def credentials_a(credentials_dir) -> Credentials:
    return make_credentials(credentials_dir, "enterprise-a")


@pytest.fixture(scope="session")
def credentials_b(credentials_dir) -> Credentials:
    return make_credentials(credentials_dir, "enterprise-b")


@pytest.fixture(scope="session")
def credentials_inspection(credentials_dir) -> Credentials:
    return make_credentials(credentials_dir, "inspection")


def register(
    credentials: Credentials, role: ClientRole = ClientRole.ENTERPRISE, enterprise: str | None = None
) -> Client:
    return client_register(
        name=credentials.cert_path.stem,
        enterprise_number=enterprise or make_enterprise_number(),
        role=role,
        certificate_pem=credentials.cert_pem,
    )


@pytest.fixture
def client_a(db, credentials_a) -> Client:
    """Enterprise A's integrator: registers, consults and cancels its own registrations."""
    return register(credentials_a)


@pytest.fixture
def client_b(db, credentials_b) -> Client:
    """Enterprise B's integrator: must never see A's registrations."""
    return register(credentials_b)


@pytest.fixture
def inspection(db, credentials_inspection) -> Client:
    """Inspection: consults everything, every read is logged."""
    return register(credentials_inspection, ClientRole.INSPECTION)


# --- envelopes and raw posts ----------------------------------------------------------------


def envelope(body: str, header: str = "") -> bytes:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:pr="{PR}" xmlns:t="{T}">'
        f"<soapenv:Header>{header}</soapenv:Header><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"
    ).encode()


def register_item(
    *, niss: str, company: str | int, workplace: str, date: str | None = None, ref: str | None = None
) -> str:
    parts = [f"<t:RegistrationDate>{date}</t:RegistrationDate>" if date else ""]
    parts += [f"<t:INSS>{niss}</t:INSS>", f"<t:CompanyID>{int(company)}</t:CompanyID>"]
    parts += [f"<t:WorkPlaceId>{workplace}</t:WorkPlaceId>"]
    parts += [f"<t:ClientPresenceRegistrationReference>{ref}</t:ClientPresenceRegistrationReference>" if ref else ""]
    return "<pr:PresenceRegistrationRequest>" + "".join(parts) + "</pr:PresenceRegistrationRequest>"


def register_request(items: list[str]) -> str:
    return "<pr:RegisterPresencesRequest>" + "".join(items) + "</pr:RegisterPresencesRequest>"


def action(operation: str) -> str:
    return f'"{PR}/{operation}"'


@pytest.fixture
def post_soap(client) -> Callable[..., Any]:
    """POST raw bytes to the endpoint with Django's test client; XML answers are checked
    against the official XSD before the test sees them."""

    def post(
        data: bytes, *, operation: str = "registerPresences", content_type: str = "text/xml; charset=utf-8", **meta: Any
    ):
        meta.setdefault("HTTP_SOAPACTION", action(operation))
        response = client.generic("POST", ENDPOINT, data=data, content_type=content_type, **meta)
        assert response["Content-Type"].startswith("text/xml"), response.content[:300]
        assert_valid_response(response.content)
        return response

    return post


@pytest.fixture
def signed_post(post_soap, credentials_a) -> Callable[..., Any]:
    """post_soap with enterprise A's WS-Security signature."""

    def post(data: bytes, signer: BinarySignature | None = None, **kw: Any):
        return post_soap(sign(data, signer or TimestampedSignature(credentials_a)), **kw)

    return post


# --- zeep from the official WSDL ------------------------------------------------------------


class _Response:
    def __init__(self, django_response) -> None:
        self.status_code = django_response.status_code
        self.content = django_response.content
        self.headers = dict(django_response.items())
        self.encoding = "utf-8"


class OfficialContractTransport(zeep.Transport):
    """Loads the official contract offline (xml.xsd -> our stand-in) and checks every
    response body against the official XSD. With `django_client`, posts in-process."""

    def __init__(self, django_client=None) -> None:
        super().__init__()  # its own session, which zeep closes when the transport goes
        self.django_client = django_client
        self.responses: list[bytes] = []

    def close(self) -> None:
        """Closes the HTTP connections (zeep.Client's `with` block calls this)."""
        self.session.close()

    def load(self, url):
        if url == XML_XSD_URL:
            return LOCAL_XML_XSD.read_bytes()
        return super().load(url)

    def post(self, address, message, headers):
        if self.django_client is None:
            response = super().post(address, message, headers)
        else:
            response = _Response(
                self.django_client.generic(
                    "POST",
                    ENDPOINT,
                    data=message,
                    content_type=headers["Content-Type"],
                    HTTP_SOAPACTION=headers.get("SOAPAction", ""),
                )
            )
        assert_valid_response(response.content)
        self.responses.append(response.content)
        return response


def official_service(transport: OfficialContractTransport, signer: BinarySignature | None, base_url: str):
    client = zeep.Client(
        str(official_file("wsdl")), transport=transport, settings=zeep.Settings(strict=False), wsse=signer
    )
    return client, client.create_service(BINDING, base_url + ENDPOINT)


@pytest.fixture
def zeep_as(client) -> Iterator[Callable[[Credentials], Any]]:
    """A zeep service proxy from the official WSDL, signing as the given credentials,
    talking to the app in-process (Django test client)."""
    transports: list[OfficialContractTransport] = []

    def build(credentials: Credentials):
        transport = OfficialContractTransport(django_client=client)
        transports.append(transport)
        _, service = official_service(transport, TimestampedSignature(credentials), "http://testserver")
        return service

    yield build
    for transport in transports:
        transport.session.close()


def read_fault(exc: zeep.exceptions.Fault) -> SimpleNamespace:
    (error,) = list(exc.detail)
    return SimpleNamespace(
        faultstring=exc.message,
        kind=etree.QName(error).localname,
        code=error.findtext(f"{{{ERR}}}Code"),
        ticket=error.get("Id"),
        retry=error.findtext(f"{{{ERR}}}Retry"),
    )


def zeep_register_envelope(items: list[dict[str, Any]], signer: BinarySignature) -> bytes:
    """A signed registerPresences request exactly as a zeep client built from the official
    WSDL writes it (a namespace declaration on every element)."""
    wsdl = official_file("wsdl")
    transport = OfficialContractTransport()
    try:
        client = zeep.Client(str(wsdl), transport=transport)
        message = client.create_message(
            client.create_service(BINDING, "http://localhost"), "registerPresences", PresenceRegistrationRequest=items
        )
    finally:
        transport.session.close()
    signer.apply(message, {})
    return bytes(etree.tostring(message))
