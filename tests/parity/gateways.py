"""Adapters that call each gateway as a client would and translate its answer into one neutral
shape, so a parity test is written once and asserted for SOAP and for REST.

They are test code: they only translate the two contracts' vocabularies (SOAP status labels
and remark texts, REST status codes, validities and `CAW_nn` codes) and never decide anything
the services decide. Every SOAP call is signed with the party's certificate and its answer is
checked against the contract's XSD (tests/soap_gateway/conftest.py); every REST call carries a
Bearer token obtained with the party's own key through the token endpoint.

Neutral values:
- a status is "registered" or "cancelled"; a validity is "pending", "valid" or "invalid";
- a remark is its number, 1..17 (SOAP: the contract's text, REST: `CAW_nn`);
- an employer is the 10-digit enterprise number (SOAP's CompanyID drops the leading 0).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from django.test import Client as DjangoClient
from django.utils import timezone
from lxml import etree

from registrations.models import Client
from tests.rest_gateway.conftest import Api, token_for
from tests.soap_gateway.conftest import (
    ENDPOINT,
    SOAP_ENV,
    Credentials,
    TimestampedSignature,
    action,
    assert_valid_response,
    envelope,
    fault_of,
    register_item,
    register_request,
    sign,
)
from tests.soap_gateway.conftest import T as TYPES

# The contract's 17 remark texts, verbatim (spec §4.2), in the order that numbers them.
SOAP_REMARKS = (
    "RELATED DIMONA NOT OK",
    "GIVEN INSS IS NOT THE FOUNDER OF THE COMPANY",
    "EMPLOYER IS NOT KNOWN AS COMPANY FOUNDER",
    "THE COMPANY DOESN'T EXISTS",
    "INDEPENDANT IS NOT KNOWN AS COMPANY FOUNDER",
    "LIMOSA ID IS NOT KNOWN",
    "LIMOSA ID IS NOT ACTIVE AT DATE",
    "NISS-BIS IS NOT KNOWN IN LIMOSA",
    "NISS-BIS IS NOT ACTIVE AT THIS DATE IN LIMOSA",
    "DUC IS NOT EXISTING",
    "DUC IS NOT ACTIVE AT THIS DATE",
    "COMPANY IS NOT KNOWN  AS BUILDER OR  SUBCONTRACTOR IN THIS DUC",
    "SITE IS NOT SUBJECT TO PRESENCE REGISTRATION",
    "SAME DECLARATION HAS ALREADY BEEN REGISTERED",
    "NISS IS NOT KNOW IN THE NATIONAL REGISTER",
    "EMPLOYER NOT ACTIVE",
    "THE COMPANY ID ASSOCIATED AT A NOT ACTIVE CONTRACT",
)
# SOAP status label -> (neutral status, validity that label states; None: it states none).
SOAP_STATUSES = {
    "SUCCESSFULLY REGISTERED": ("registered", None),
    "VALIDATED": ("registered", "valid"),
    "FAILED": ("registered", "invalid"),
    "SUCCESSFULLY CANCELLED": ("cancelled", None),
}
SOAP_NOT_CANCELLED = ("SUCCESSFULLY REGISTERED", "VALIDATED", "FAILED")
SOAP_CRITERIA = {"INSS": "niss", "CompanyID": "employer", "WorkPlaceId": "workplace"}
SOAP_SORT_KEYS = {"employer": "COMPANY ID", "workplace": "PLACE OF WORK"}
CLEANING_SECTOR = 4  # what REST reads: the SOAP search asks for it explicitly


@dataclass(frozen=True)
class Party:
    """One integrator, the same client behind both gateways: its certificate signs SOAP
    calls, and the same certificate's private key (`key`) signs its REST token assertions."""

    client: Client
    credentials: Credentials
    key: Any


def private_key(credentials: Credentials) -> Any:
    return serialization.load_pem_private_key(credentials.key_path.read_bytes(), password=None)


@dataclass(frozen=True)
class Shown:
    """One registration's key facts as a gateway shows them."""

    id: int
    niss: str
    employer: str
    workplace: str
    registration_date: date
    status: str
    validity: str
    remarks: tuple[int, ...]


@dataclass(frozen=True)
class Missing:
    """Not found. `answer` is the whole answer minus what only echoes the request (the id,
    the problem's instance), so another party's id and an unknown id can be compared."""

    answer: Any


@dataclass(frozen=True)
class Step:
    """One entry of a registration's status timeline (SOAP ValidationHistory, REST history)."""

    status: str
    validity: str | None
    remarks: tuple[int, ...] = ()


@dataclass(frozen=True)
class Page:
    total: int
    ids: tuple[int, ...]


@dataclass(frozen=True)
class Refused:
    """A search refused as a whole: the neutral name of the criterion and the reason given."""

    criterion: str
    reason: str


@dataclass(frozen=True)
class CancelAnswer:
    """One cancel item: `code` None when cancelled; `errors` the (code, description) list."""

    code: int | None
    errors: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class Criteria:
    """A search within the window (yesterday..tomorrow, Brussels); None means any."""

    niss: str | None = None
    employer: str | None = None
    workplace: str | None = None
    status: str | None = None
    validity: str | None = None
    remarks: tuple[int, ...] = ()


@dataclass(frozen=True)
class Sort:
    """A sort key ("employer" or "workplace"), descending or not; ties go by id the same way."""

    key: str
    descending: bool = False


def window() -> tuple[date, date]:
    today = timezone.localdate()
    return today - timedelta(days=1), today + timedelta(days=1)


# --- SOAP -------------------------------------------------------------------------------------


def _t(name: str) -> str:
    return f"{{{TYPES}}}{name}"


def _remarks(parent: etree._Element | None) -> tuple[int, ...]:
    if parent is None:
        return ()
    texts = [remark.text or "" for remark in parent.findall(f"{_t('RemarkList')}/{_t('Remark')}")]
    assert set(texts) <= set(SOAP_REMARKS), texts  # the world raises none of our own (18)
    return tuple(sorted(SOAP_REMARKS.index(text) + 1 for text in texts))


def _soap_step(validation: etree._Element) -> Step:
    status, validity = SOAP_STATUSES[validation.findtext(_t("Status")) or ""]
    return Step(status, validity, _remarks(validation))


class SoapGateway:
    def __init__(self, http: DjangoClient, party: Party) -> None:
        self.http = http
        self.party = party

    def post(self, operation: str, body: str) -> Any:
        signed = sign(envelope(body), TimestampedSignature(self.party.credentials))
        return self.http.generic(
            "POST", ENDPOINT, data=signed, content_type="text/xml; charset=utf-8", HTTP_SOAPACTION=action(operation)
        )

    def call(self, operation: str, body: str) -> etree._Element:
        """The operation's answer element, after checking HTTP 200 and the contract's XSD."""
        response = self.post(operation, body)
        assert response.status_code == 200, response.content[:500]
        (answer,) = assert_valid_response(response.content).find(f"{{{SOAP_ENV}}}Body")
        return answer

    def register(self, *, employer: str, when: date, presences: list[tuple[str, str]]) -> list[int]:
        """Construction presences (SOAP's own sector), one per (NISS, workplace); their ids."""
        items = [
            register_item(niss=niss, company=employer, workplace=workplace, date=when.isoformat())
            for niss, workplace in presences
        ]
        answer = self.call("registerPresences", register_request(items))
        ids = answer.findall(f".//{_t('PresenceRegistration')}/{_t('PresenceRegistrationId')}")
        assert len(ids) == len(presences), etree.tostring(answer)[:500]
        return [int(identifier.text or 0) for identifier in ids]

    def _get(self, registration_id: int) -> etree._Element:
        request = f"<t:PresenceRegistrationId>{registration_id}</t:PresenceRegistrationId>"
        body = (
            "<pr:GetPresenceRegistrationRequest><pr:GetPresenceRegistrationRequest>"
            f"{request}</pr:GetPresenceRegistrationRequest></pr:GetPresenceRegistrationRequest>"
        )
        found = self.call("getPresenceRegistration", body).find(f".//{_t('GetPresenceRegistrationType')}")
        assert found is not None
        return found

    def get(self, registration_id: int) -> Shown | Missing:
        found = self._get(registration_id)
        registration = found.find(_t("PresenceRegistrationType"))
        if registration is None:  # the rest of the answer only echoes the request's id
            return Missing(etree.tostring(found, method="c14n"))
        submitted = registration.find(_t("PresenceRegistrationSubmitted"))
        if submitted is None:
            submitted = registration.find(_t("PresenceRegistrationConsultSubmitted"))
        last = registration.find(_t("LastValidation"))
        status, validity = SOAP_STATUSES[last.findtext(_t("Status")) or ""]
        if validity is None:  # registered or cancelled: its last validation tells the validity
            stated = [step.validity for step in self._timeline(registration) if step.validity]
            validity = stated[-1] if stated else "pending"
        return Shown(
            id=int(registration.findtext(_t("PresenceRegistrationId")) or 0),
            niss=registration.findtext(_t("INSS")) or "",
            employer=f"{int(submitted.findtext(_t('CompanyID')) or 0):010d}",
            workplace=submitted.findtext(_t("WorkPlaceId")) or "",
            registration_date=date.fromisoformat(submitted.findtext(_t("RegistrationDate")) or ""),
            status=status,
            validity=validity,
            remarks=_remarks(last),
        )

    @staticmethod
    def _timeline(registration: etree._Element) -> list[Step]:
        return [_soap_step(v) for v in registration.findall(f"{_t('ValidationHistory')}/{_t('Validation')}")]

    def history(self, registration_id: int) -> list[Step] | Missing:
        """SOAP's history is the ValidationHistory of getPresenceRegistration."""
        found = self._get(registration_id)
        registration = found.find(_t("PresenceRegistrationType"))
        if registration is None:
            return Missing(etree.tostring(found, method="c14n"))
        return self._timeline(registration)

    def supports(self, criteria: Criteria) -> bool:
        """SOAP has no validity criterion: "invalid" is "has a remark" (RemarkList), and the
        others only exist for a not-cancelled registration (its status label)."""
        return criteria.validity in (None, "invalid") or criteria.status == "registered"

    def search(
        self, criteria: Criteria, *, page: int = 1, page_size: int = 50, sort: Sort | None = None
    ) -> Page | Refused:
        assert self.supports(criteria), criteria
        start, end = window()
        parts = []
        if criteria.niss:
            parts.append(f"<t:INSS>{criteria.niss}</t:INSS>")
        if criteria.employer:
            parts.append(f"<t:CompanyID>{int(criteria.employer)}</t:CompanyID>")
        if criteria.workplace:
            parts.append(f"<t:WorkPlaceId>{criteria.workplace}</t:WorkPlaceId>")
        statuses = _soap_statuses(criteria)
        if statuses:
            parts.append("<t:StatusList>" + "".join(f"<t:Status>{s}</t:Status>" for s in statuses) + "</t:StatusList>")
        remarks = criteria.remarks or (tuple(range(1, 18)) if criteria.validity == "invalid" else ())
        if remarks:
            texts = "".join(f"<t:Remark>{SOAP_REMARKS[number - 1]}</t:Remark>" for number in remarks)
            parts.append(f"<t:RemarkList>{texts}</t:RemarkList>")
        parts.append(
            "<t:RegistrationPeriodList><t:RegistrationPeriod>"
            f"<t:RegistrationPeriodStartDate>{start}</t:RegistrationPeriodStartDate>"
            f"<t:RegistrationPeriodEndDate>{end}</t:RegistrationPeriodEndDate>"
            "</t:RegistrationPeriod></t:RegistrationPeriodList>"
        )
        parts.append(f"<t:Sector>{CLEANING_SECTOR}</t:Sector>")
        paging = f"<t:FirstRow>{(page - 1) * page_size}</t:FirstRow><t:FetchSize>{page_size}</t:FetchSize>"
        sorting = ""
        if sort is not None:
            direction = "DESCENDING" if sort.descending else "ASCENDING"
            sorting = (
                f"<t:SortingProperties><t:SortDirection>{direction}</t:SortDirection>"
                f"<t:SortCriteria>{SOAP_SORT_KEYS[sort.key]}</t:SortCriteria></t:SortingProperties>"
            )
        body = (
            "<pr:SearchPresencesRequest><pr:SearchPresenceRequest>"
            f"<t:SearchPresenceRegistrationCriteria>{''.join(parts)}</t:SearchPresenceRegistrationCriteria>"
            f"<t:PaginationProperties>{paging}</t:PaginationProperties>{sorting}"
            "</pr:SearchPresenceRequest></pr:SearchPresencesRequest>"
        )
        response = self.post("searchPresences", body)
        if response.status_code != 200:
            return _soap_refusal(response.content)
        (answer,) = assert_valid_response(response.content).find(f"{{{SOAP_ENV}}}Body")
        listing = answer.find(f".//{_t('PresenceRegistrationList')}")
        assert listing is not None
        ids = [int(r.findtext(_t("PresenceRegistrationId")) or 0) for r in listing.findall(_t("PresenceRegistration"))]
        return Page(int(listing.findtext(_t("PresenceRegistrationResultCount")) or -1), tuple(ids))

    def cancel(self, registration_ids: list[int], reason: str = "HOLIDAY") -> list[CancelAnswer]:
        items = "".join(
            f"<pr:CancelPresenceRequest><t:PresenceRegistrationId>{registration_id}</t:PresenceRegistrationId>"
            f"<t:CancellationReason>{reason}</t:CancellationReason></pr:CancelPresenceRequest>"
            for registration_id in registration_ids
        )
        answer = self.call("cancelPresences", f"<pr:CancelPresencesRequest>{items}</pr:CancelPresencesRequest>")
        answers = []
        for item in answer:
            error_list = item.find(f"{_t('PresenceRegistrationError')}/{_t('ErrorList')}")
            if error_list is None:
                answers.append(CancelAnswer(None))
                continue
            errors = tuple(
                (int(error.findtext(_t("ErrorCode")) or 0), error.findtext(_t("ErrorDescription")) or "")
                for error in error_list.findall(_t("Error"))
            )
            answers.append(CancelAnswer(errors[0][0], errors))
        return answers


def _soap_refusal(content: bytes) -> Refused:
    """A search SOAP cannot run is the fault SOA-03007 whose message is "<element>: <reason>"."""
    fault = fault_of(content)
    assert fault.code == "SOA-03007", fault
    element, reason = fault.message.split(": ", 1)
    return Refused(SOAP_CRITERIA[element], reason)


def _soap_statuses(criteria: Criteria) -> list[str]:
    if criteria.status == "cancelled":
        return ["SUCCESSFULLY CANCELLED"]
    if criteria.status != "registered":
        return []
    by_validity = {"pending": "SUCCESSFULLY REGISTERED", "valid": "VALIDATED", "invalid": "FAILED"}
    return [by_validity[criteria.validity]] if criteria.validity else list(SOAP_NOT_CANCELLED)


# --- REST -------------------------------------------------------------------------------------

NOT_FOUND = "urn:problem-type:belgif:resourceNotFound"
MISSING_SCOPE = "urn:problem-type:belgif:missingScope"
BAD_REQUEST = "urn:problem-type:belgif:badRequest"
REST_CRITERIA = {
    "criteria.ssin": "niss",
    "criteria.employer.enterpriseNumber": "employer",
    "enterpriseNumber": "employer",
    "criteria.contractualRelationshipReference": "workplace",
    "contractualRelationshipReference": "workplace",
}
REST_SORT_KEYS = {"employer": "employer", "workplace": "contractualRelationshipReference"}


def _rest_remarks(codes: list[Any]) -> tuple[int, ...]:
    return tuple(sorted(int(str(code).removeprefix("CAW_")) for code in codes))


def _missing(response: Any) -> Missing:
    assert response.status_code == 404, response.content[:500]
    problem = response.json()
    assert problem["type"] == NOT_FOUND
    return Missing((response.status_code, {k: v for k, v in problem.items() if k != "instance"}))


class RestGateway:
    """REST; `route` chooses the search: "post" (POST …/search) or "get" (GET …?query)."""

    def __init__(self, http: DjangoClient, party: Party, route: str = "post") -> None:
        self.http = http
        self.party = party
        self.route = route
        self._api: Api | None = None

    @property
    def api(self) -> Api:
        if self._api is None:
            self._api = Api(self.http, token_for(self.http, self.party.client, self.party.key))
        return self._api

    def register(self, *, employer: str, at: datetime, presences: list[tuple[str, str]]) -> list[int]:
        """Real-time cleaning INs (REST's own sector), one per (NISS, workplace); their ids."""
        items = [
            {
                "registrationDate": at.isoformat(),
                "ssin": niss,
                "type": "in",
                "employer": {"enterpriseNumber": employer},
                "placeOfWork": {"coordinates": {"latitude": 50.846557, "longitude": 4.351697}},
                "contractualRelationshipReference": workplace,
            }
            for niss, workplace in presences
        ]
        response = self.api.register(*items)
        assert response.status_code == 200, response.content[:500]
        answers = response.json()["items"]
        assert all("createdPresenceRegistration" in answer for answer in answers), answers
        return [int(answer["createdPresenceRegistration"]["id"]) for answer in answers]

    def get(self, registration_id: int) -> Shown | Missing:
        response = self.api.get(f"/presenceRegistrations/{registration_id}")
        if response.status_code != 200:
            return _missing(response)
        shown = response.json()
        return Shown(
            id=shown["id"],
            niss=shown["ssin"],
            employer=shown["employer"]["enterpriseNumber"],
            workplace=shown["contractualRelationshipReference"],
            # The moment of the event, in Brussels time: its date is the registration date.
            registration_date=datetime.fromisoformat(shown["registrationDate"]).date(),
            status=shown["status"]["code"],
            validity=shown["validity"],
            remarks=_rest_remarks([remark["code"] for remark in shown["remarks"]]),
        )

    def history(self, registration_id: int) -> list[Step] | Missing:
        """The status timeline of GET …/history: events without a status (inspection's
        consultations) are reads, not steps, as in SOAP's ValidationHistory."""
        response = self.api.get(f"/presenceRegistrations/{registration_id}/history")
        if response.status_code != 200:
            return _missing(response)
        return [
            Step(event["status"], event.get("validity"), _rest_remarks(event.get("remarks", [])))
            for event in response.json()["items"]
            if "status" in event
        ]

    def supports(self, criteria: Criteria) -> bool:
        """GET has no NISS (it never travels in a URL) and one `remark` at most."""
        return self.route == "post" or (criteria.niss is None and len(criteria.remarks) <= 1)

    def search(
        self, criteria: Criteria, *, page: int = 1, page_size: int = 50, sort: Sort | None = None
    ) -> Page | Refused:
        assert self.supports(criteria), criteria
        assert sort is None or self.route == "post", "GET sorts by id only"
        start, end = window()
        paging = f"page={page}&pageSize={page_size}"
        if self.route == "post":
            body: dict[str, Any] = {"criteria": _post_criteria(criteria)}
            if sort is not None:
                body["sort"] = {"field": REST_SORT_KEYS[sort.key], "order": "desc" if sort.descending else "asc"}
            response = self.api.post(f"/presenceRegistrations/search?{paging}", body)
        else:
            params = {"registrationDateFrom": start.isoformat(), "registrationDateTo": end.isoformat()}
            params |= {"page": str(page), "pageSize": str(page_size)} | _get_criteria(criteria)
            response = self.api.get("/presenceRegistrations", params)
        if response.status_code == 400:
            return _rest_refusal(response.json())
        assert response.status_code == 200, response.content[:500]
        found = response.json()
        return Page(found["total"], tuple(item["id"] for item in found["items"]))

    def cancel(self, registration_ids: list[int], reason: str = "HOLIDAY") -> list[CancelAnswer]:
        items = [{"id": registration_id, "reason": reason} for registration_id in registration_ids]
        response = self.api.post("/presenceRegistrations/cancelInBulk", {"items": items})
        if response.status_code == 403 and response.json()["type"] == MISSING_SCOPE:
            # REST refuses a consult-only scope (professional, inspection) the whole call, before
            # reading any id: its way of saying code 1, "you may consult but not cancel".
            return [CancelAnswer(1, ((1, MISSING_SCOPE),)) for _ in registration_ids]
        assert response.status_code == 200, response.content[:500]
        answers = []
        for item in response.json()["items"]:
            if "cancelledPresenceRegistration" in item:
                answers.append(CancelAnswer(None))
                continue
            errors = tuple(
                (e["errorCode"], e["errorDescription"]) for e in item["notCancelledPresenceRegistration"]["errorList"]
            )
            answers.append(CancelAnswer(errors[0][0], errors))
        return answers


def _rest_refusal(problem: dict[str, Any]) -> Refused:
    """A search REST cannot run is a badRequest problem with one issue naming the input."""
    assert problem["type"] == BAD_REQUEST, problem
    (issue,) = problem["issues"]
    return Refused(REST_CRITERIA[issue["name"]], issue["detail"])


def _post_criteria(criteria: Criteria) -> dict[str, Any]:
    start, end = window()
    body: dict[str, Any] = {"registrationDate": {"startDate": start.isoformat(), "endDate": end.isoformat()}}
    if criteria.niss:
        body["ssin"] = criteria.niss
    if criteria.employer:
        body["employer"] = {"enterpriseNumber": criteria.employer}
    if criteria.workplace:
        body["contractualRelationshipReference"] = criteria.workplace
    if criteria.status:
        body["status"] = [criteria.status]
    if criteria.validity:
        body["validity"] = [criteria.validity]
    if criteria.remarks:
        body["remarks"] = [f"CAW_{number:02d}" for number in criteria.remarks]
    return body


def _get_criteria(criteria: Criteria) -> dict[str, str]:
    params = {
        "enterpriseNumber": criteria.employer,
        "contractualRelationshipReference": criteria.workplace,
        "status": criteria.status,
        "validity": criteria.validity,
        "remark": f"CAW_{criteria.remarks[0]:02d}" if criteria.remarks else None,
    }
    return {name: value for name, value in params.items() if value is not None}


Gateway = SoapGateway | RestGateway
SEARCH_ROUTES = ("soap", "rest", "rest-get")


def gateway(kind: str, http: DjangoClient, party: Party) -> Gateway:
    """The gateway of `kind`: "soap", "rest" (searching with POST) or "rest-get" (with GET)."""
    if kind == "soap":
        return SoapGateway(http, party)
    return RestGateway(http, party, route="get" if kind == "rest-get" else "post")
