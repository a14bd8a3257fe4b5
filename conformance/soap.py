"""A SOAP client of PresenceRegistration v1.11 written from the contract: raw envelopes
(so a scenario can break them on purpose), signed with WS-Security by zeep's signer,
posted with requests, answers read by element name."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import xmlsec
from lxml import etree
from lxml.builder import ElementMaker
from zeep.wsse.signature import BinarySignature
from zeep.wsse.utils import WSU, get_security_header

from conformance.contract import ERR, PR, SOAP_ENV, T, remark_number, resolve_day

ENV = ElementMaker(namespace=SOAP_ENV, nsmap={"soapenv": SOAP_ENV})
M = ElementMaker(namespace=PR, nsmap={"pr": PR, "t": T})  # the messages and their direct children
C = ElementMaker(namespace=T, nsmap={"t": T})  # everything below them
_ITEM_ORDER = (
    "RegistrationDate",
    "INSS",
    "CompanyID",
    "LimosaId",
    "WorkPlaceId",
    "ClientPresenceRegistrationReference",
)


class TimestampedSignature(BinarySignature):
    """WS-Security as the service asks: Body and Timestamp signed, RSA-SHA256 and SHA-256.

    zeep signs the Timestamp only when it is already in the header, and defaults to SHA-1.
    `created_offset` moves the Timestamp in time (the expired-timestamp scenario).
    """

    def __init__(self, key_file: Path, cert_file: Path, *, created_offset: timedelta = timedelta(0)) -> None:
        super().__init__(
            str(key_file),
            str(cert_file),
            signature_method=xmlsec.constants.TransformRsaSha256,
            digest_method=xmlsec.constants.TransformSha256,
        )
        self.created_offset = created_offset

    def apply(self, envelope: Any, headers: Any) -> Any:
        now = datetime.now(UTC).replace(microsecond=0) + self.created_offset
        get_security_header(envelope).append(
            WSU.Timestamp(
                WSU.Created(now.isoformat().replace("+00:00", "Z")),
                WSU.Expires((now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")),
            )
        )
        return super().apply(envelope, headers)


class SoapFault(Exception):  # noqa: N818 - the contract calls it a fault
    """A whole-call fault: `code` is the platform code (SOA-xxxxx) of its detail."""

    def __init__(self, code: str, message: str, http_status: int) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.http_status = code, message, http_status


@dataclass
class Presence:
    """One registration as an answer shows it, or the errors of a refused item."""

    registration_id: int | None = None
    status: str = ""
    remarks: list[int] = field(default_factory=list)
    errors: list[int] = field(default_factory=list)


def _text(element: Any, path: str) -> str:
    return str(element.findtext(path) or "")


def read_presence(element: Any) -> Presence:
    """A PresenceRegistration (or PresenceRegistrationType), or a PresenceRegistrationError."""
    errors = [int(code) for code in element.xpath(".//*[local-name()='ErrorCode']/text()")]
    if errors:
        return Presence(errors=errors)
    identifier = _text(element, "{*}PresenceRegistrationId")
    last = element.find("{*}LastValidation")
    remarks = [remark_number(text) for text in last.xpath("./*[local-name()='RemarkList']/*/text()")]
    return Presence(int(identifier) if identifier else None, _text(last, "{*}Status"), remarks)


def presence_item(item: dict[str, Any]) -> Any:
    """One registerPresences item from a data-file item (date rules resolved)."""
    children = []
    for name in _ITEM_ORDER:
        if name not in item:
            continue
        value = item[name]
        if name == "RegistrationDate":
            value = resolve_day(str(value)).isoformat()
        elif name == "CompanyID":
            value = str(int(value))  # xs:long: the leading zero is dropped
        children.append(getattr(C, name)(str(value)))
    return M.PresenceRegistrationRequest(*children)


class SoapClient:
    def __init__(self, url: str, key_file: Path, cert_file: Path, *, timeout: float = 30) -> None:
        self.url, self.key_file, self.cert_file, self.timeout = url, key_file, cert_file, timeout
        self.session = requests.Session()

    def envelope(self, body: Any, *, sign: bool = True, created_offset: timedelta = timedelta(0)) -> bytes:
        envelope = ENV.Envelope(ENV.Header(), ENV.Body(body))
        if sign:
            TimestampedSignature(self.key_file, self.cert_file, created_offset=created_offset).apply(envelope, {})
        return bytes(etree.tostring(envelope))

    def post(self, operation: str, data: bytes, content_type: str = "text/xml; charset=utf-8") -> requests.Response:
        headers = {"Content-Type": content_type, "SOAPAction": f'"{PR}/{operation}"'}
        return self.session.post(self.url, data=data, headers=headers, timeout=self.timeout)

    def call(self, operation: str, body: Any, **envelope: Any) -> Any:
        """The answer's payload element; raises SoapFault for a fault."""
        return read_answer(self.post(operation, self.envelope(body, **envelope)))

    def register(self, items: list[dict[str, Any]], **envelope: Any) -> list[Presence]:
        answer = self.call("registerPresences", M.RegisterPresencesRequest(*map(presence_item, items)), **envelope)
        return [read_presence(response[0]) for response in answer]

    def cancel(self, items: list[tuple[int, str]]) -> list[Presence]:
        requests_ = [
            M.CancelPresenceRequest(C.PresenceRegistrationId(str(i)), C.CancellationReason(reason))
            for i, reason in items
        ]
        answer = self.call("cancelPresences", M.CancelPresencesRequest(*requests_))
        return [read_presence(response[0]) for response in answer]

    def get(self, registration_id: int) -> Presence | None:
        body = M.GetPresenceRegistrationRequest(
            M.GetPresenceRegistrationRequest(C.PresenceRegistrationId(str(registration_id)))
        )
        found = self.call("getPresenceRegistration", body).find(".//{*}PresenceRegistrationType")
        return None if found is None else read_presence(found)

    def search(
        self,
        start: date,
        end: date,
        *,
        first_row: int | None = None,
        fetch_size: int | None = None,
        sort: tuple[str, str] | None = None,
    ) -> tuple[int, list[Presence]]:
        period = C.RegistrationPeriod(
            C.RegistrationPeriodStartDate(start.isoformat()), C.RegistrationPeriodEndDate(end.isoformat())
        )
        request = [C.SearchPresenceRegistrationCriteria(C.RegistrationPeriodList(period))]
        if first_row is not None or fetch_size is not None:
            request.append(C.PaginationProperties(C.FirstRow(str(first_row or 0)), C.FetchSize(str(fetch_size or 50))))
        if sort:
            request.append(C.SortingProperties(C.SortDirection(sort[1]), C.SortCriteria(sort[0])))
        answer = self.call("searchPresences", M.SearchPresencesRequest(M.SearchPresenceRequest(*request)))
        found = answer.find(".//{*}PresenceRegistrationList")
        rows = [read_presence(row) for row in found.findall("{*}PresenceRegistration")]
        return int(_text(found, "{*}PresenceRegistrationResultCount")), rows


def read_answer(response: requests.Response) -> Any:
    """The first element of the Body, or SoapFault when the answer is a fault (or not SOAP)."""
    try:
        envelope = etree.fromstring(response.content, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise SoapFault("not-soap", f"HTTP {response.status_code}, not XML: {exc}", response.status_code) from exc
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    if body is None or not len(body):
        raise SoapFault("not-soap", f"HTTP {response.status_code}, no SOAP Body", response.status_code)
    payload = body[0]
    if payload.tag == f"{{{SOAP_ENV}}}Fault":
        code = payload.findtext(f"detail/*/{{{ERR}}}Code") or payload.findtext("faultstring") or ""
        message = payload.findtext(f"detail/*/{{{ERR}}}Message") or ""
        raise SoapFault(code, message, response.status_code)
    return payload
