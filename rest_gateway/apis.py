"""The REST operations of spec §6: one thin APIView each, over the core services/selectors.

Reads are limited to cleaning events (sector 4, with their type and moment): construction and
meat live in the SOAP service. Another party's registration answers exactly like an unknown one (404).
Inspection's reads are recorded in the history of what it read.
"""

import logging
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, NotAuthenticated, NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registrations.domain.authorisation import Caller
from registrations.domain.exceptions import InvalidSearchError, NotAuthorisedError
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Channel, CleaningEventType
from registrations.selectors.addresses import DEFAULT_RADIUS_M, InvalidCoordinates, addresses_near
from registrations.selectors.lifecycle import PresenceStatus, Validity
from registrations.selectors.performances import PerformanceQuery, performances_for
from registrations.selectors.registrations import (
    SearchCriteria,
    SortKey,
    cleaning_event_get,
    registration_search,
    registration_window,
)
from registrations.selectors.timeline import registration_timeline
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.presences import CancelInput, registration_cancel_batch, registrations_consulted
from requestlog.recording import note_client, note_items
from rest_gateway import presenters
from rest_gateway import serializers as s
from rest_gateway.auth import CONSULT, REGISTER, Principal
from rest_gateway.errors import InputValidationError
from rest_gateway.filters import (
    PAGE_PARAMETERS,
    PAGE_SCHEMA_PARAMETERS,
    PageRequest,
    page_out,
    page_request,
    reject_bad_parameters,
)

if TYPE_CHECKING:
    from registrations.models import Registration

MAX_REGISTRATION_ID = 999_999_999_999_999
audit = logging.getLogger("rest_gateway.audit")
REST = Channel.REST


def _page_schema(name: str, item: type[Any]) -> type[serializers.Serializer[Any]]:
    """An OpenAPI component for a Belgif page of `item`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "items": item(many=True),
            "page": serializers.IntegerField(),
            "pageSize": serializers.IntegerField(),
            "total": serializers.IntegerField(),
            "totalPages": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
        },
    )


PresenceRegistrationPage = _page_schema("PresenceRegistrationPage", s.PresenceRegistrationOut)
PerformancePage = _page_schema("PerformancePage", s.PerformanceOut)


# The base of every operation: scopes per method, strict query parameters (none unless
# listed). A comment, not a docstring: drf-spectacular would copy it into every operation.
class GatewayApi(APIView):
    required_scopes: ClassVar[dict[str, frozenset[str]]] = {}
    query_parameters: ClassVar[tuple[str, ...]] = ()

    def perform_authentication(self, request: Request) -> None:
        super().perform_authentication(request)
        if isinstance(request.auth, Principal):  # its request log shows its refused calls too
            note_client(request, request.auth.client.pk)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        implemented = (request.method or "").upper() in self.allowed_methods
        if implemented:  # not implemented: 405 first
            errors = reject_bad_parameters(request, self.query_parameters)
            if errors:
                raise InputValidationError(errors, location="query")

    @property
    def caller(self) -> Caller:
        principal = self.request.auth
        if not isinstance(principal, Principal):  # defence in depth: never reach the core unauthenticated
            raise NotAuthenticated()
        return principal.caller

    def consulted(self, registrations: Sequence["Registration"]) -> None:
        registrations_consulted(caller=self.caller, registrations=registrations, channel=REST)

    def body(self, serializer_class: type[s.StrictSerializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data)
        if not serializer.is_valid():
            raise InputValidationError(serializer.errors, location="body")
        return dict(serializer.validated_data)

    def query(self, serializer_class: type[s.StrictSerializer]) -> dict[str, Any]:
        """The query parameters but paging, read by `serializer_class` (a 400 when they are bad)."""
        params = {name: value for name, value in self.request.query_params.items() if name not in PAGE_PARAMETERS}
        serializer = serializer_class(data=params)
        if not serializer.is_valid():
            raise InputValidationError(serializer.errors, location="query")
        return dict(serializer.validated_data)


def _audit_unknown(caller: Caller, registration_ids: Iterable[int], operation: str) -> None:
    """Record ids a caller asked for and may not see (or that do not exist): a trail for
    spotting a client probing other parties' ids. The caller is told only "not found"."""
    ids = sorted(set(registration_ids))
    if ids:
        audit.warning("%s by %s: registration(s) %s unknown or not visible", operation, caller.actor, ids)


def _visible_cleaning(caller: Caller, registration_id: int, operation: str) -> "Registration":
    registration = None
    if 1 <= registration_id <= MAX_REGISTRATION_ID:
        registration = cleaning_event_get(caller=caller, registration_id=registration_id)
    if registration is None:
        _audit_unknown(caller, [registration_id], operation)
        raise NotFound
    return registration


def _cleaning_input(item: dict[str, Any], raw: Any) -> CleaningInput:
    employer, place = item["employer"], item["placeOfWork"]
    coordinates = place.get("coordinates") or {}
    return CleaningInput(
        event_type=item["type"],
        event_at=item["registrationDate"],
        niss=item["ssin"],
        workplace_id=item["contractualRelationshipReference"],
        enterprise_number=employer.get("enterpriseNumber"),
        foreign_vat_number=employer.get("foreignVatNumber"),
        latitude=coordinates.get("latitude"),
        longitude=coordinates.get("longitude"),
        address=item["placeOfWork"].get("address"),
        activity=item.get("activity", ""),
        client_reference=item.get("customReference", ""),
        submitted=raw if isinstance(raw, dict) else {},
    )


class RegisterInBulkApi(GatewayApi):
    required_scopes = {"POST": REGISTER}

    @extend_schema(
        operation_id="registerInBulk",
        request=s.RegisterInBulkIn,
        responses={200: s.RegisterInBulkOut},
        summary="Register 1..200 real-time IN/OUT events; one result per item, in order",
    )
    def post(self, request: Request) -> Response:
        items = self.body(s.RegisterInBulkIn)["items"]
        raw_items = request.data["items"] if isinstance(request.data, dict) else []
        inputs = [_cleaning_input(item, raw) for item, raw in zip(items, raw_items, strict=True)]
        try:
            results = registration_submit_cleaning_batch(items=inputs, caller=self.caller, channel=REST)
        except NotAuthorisedError as exc:
            raise PermissionDenied(exc.message) from exc
        note_items(request, results, done="created")
        stored = [result.stored for result in results if result.stored is not None]
        shown = dict(zip((r.pk for r in stored), presenters.registrations_out(stored, self.caller), strict=True))
        answer = [
            {"createdPresenceRegistration": shown[result.stored.pk]}
            if result.stored is not None
            else {"notCreatedPresenceRegistration": {"errorList": presenters.errors_out(result.errors)}}
            for result in results
        ]
        return Response({"items": answer})


class PresenceRegistrationApi(GatewayApi):
    required_scopes = {"GET": CONSULT}

    @extend_schema(operation_id="getPresenceRegistration", responses={200: s.PresenceRegistrationOut})
    def get(self, request: Request, id: int) -> Response:
        registration = _visible_cleaning(self.caller, id, "getPresenceRegistration")
        self.consulted([registration])
        return Response(presenters.registrations_out([registration], self.caller)[0])


class PresenceRegistrationHistoryApi(GatewayApi):
    required_scopes = {"GET": CONSULT}

    @extend_schema(operation_id="getPresenceRegistrationHistory", responses={200: s.HistoryOut})
    def get(self, request: Request, id: int) -> Response:
        """Every history event, oldest first. Inspection's consultations are shown to
        inspection only."""
        registration = _visible_cleaning(self.caller, id, "getPresenceRegistrationHistory")
        self.consulted([registration])
        timeline = registration_timeline(caller=self.caller, registration_id=registration.pk)
        return Response({"items": [presenters.history_event_out(entry) for entry in timeline]})


_SORT_KEYS = {
    "id": SortKey.ID,
    "registrationDate": SortKey.REGISTRATION_DATE,
    "creationDate": SortKey.CREATION_DATE,
    "status": SortKey.STATUS,
    "contractualRelationshipReference": SortKey.PLACE_OF_WORK,
    "employer": SortKey.COMPANY_ID,
}
_REMARK_NUMBERS = {remark.rest_code: number for number, remark in REMARKS.items()}
# Where the core's search errors point, in each form of the search.
_CRITERION_NAMES = {
    "body": {
        "INSS": "criteria.ssin",
        "CompanyID": "criteria.employer.enterpriseNumber",
        "VatNumber": "criteria.employer.foreignVatNumber",
        "RegistrationPeriod": "criteria.registrationDate",
    },
    "query": {
        "CompanyID": "enterpriseNumber",
        "VatNumber": "foreignVatNumber",
        "RegistrationPeriod": "registrationDateTo",
    },
}


def _search_criteria(criteria: dict[str, Any]) -> SearchCriteria:
    """The body's criteria (already checked for structure) as the core's. Raises
    InvalidSearchError for a window that ends before it starts."""
    period, employer = criteria["registrationDate"], criteria.get("employer", {})
    window = registration_window(period["startDate"], period["endDate"])
    return SearchCriteria(
        periods=[window.days],
        moments=window.moments,
        niss=criteria.get("ssin"),
        enterprise_number=employer.get("enterpriseNumber"),
        foreign_vat_number=employer.get("foreignVatNumber"),
        workplace_id=criteria.get("contractualRelationshipReference"),
        client_reference=criteria.get("customReference"),
        event_types=[CleaningEventType(kind.upper()) for kind in criteria.get("type", [])],
        channels=[Channel(channel) for channel in criteria.get("channel", [])],
        activities=list(criteria.get("activity", [])),
        presence_statuses=[PresenceStatus(status) for status in criteria.get("status", [])],
        validities=[Validity(validity) for validity in criteria.get("validity", [])],
        remarks=[_REMARK_NUMBERS[code] for code in criteria.get("remarks", [])],
        cleaning_events_only=True,
    )


def _query_as_body(query: dict[str, Any]) -> dict[str, Any]:
    """The GET parameters in the shape of the body's criteria: one search, two spellings."""
    criteria: dict[str, Any] = {
        "registrationDate": {"startDate": query["registrationDateFrom"], "endDate": query["registrationDateTo"]}
    }
    employer = {name: query[name] for name in ("enterpriseNumber", "foreignVatNumber") if name in query}
    if employer:
        criteria["employer"] = employer
    for name in ("contractualRelationshipReference", "customReference"):
        if name in query:
            criteria[name] = query[name]
    for name in ("type", "channel", "activity", "status", "validity"):
        if name in query:
            criteria[name] = [query[name]]
    remark = query.get("remarks", query.get("remark"))
    if remark is not None:
        criteria["remarks"] = [remark]
    return criteria


def _search_error(exc: InvalidSearchError, location: str) -> InputValidationError:
    name = _CRITERION_NAMES[location].get(exc.field, "criteria" if location == "body" else "")
    code = "invalid_period" if exc.field == "RegistrationPeriod" else "invalid_input"
    detail = [ErrorDetail(exc.message.split(": ", 1)[-1], code=code)]
    return InputValidationError({name: detail} if name else detail, location)


# Both searches: the same criteria for the same core selector, paged the same way.
class _SearchBase(GatewayApi):
    def search_page(
        self, criteria: dict[str, Any], sort: dict[str, Any], paging: PageRequest, location: str
    ) -> Response:
        try:
            found = registration_search(
                caller=self.caller,
                criteria=_search_criteria(criteria),
                first_row=paging.first_row,
                fetch_size=paging.page_size,
                sort=_SORT_KEYS[sort.get("field", "id")],
                descending=sort.get("order") == "desc",
            )
        except InvalidSearchError as exc:
            raise _search_error(exc, location) from exc
        self.consulted(found.registrations)
        items = presenters.registrations_out(found.registrations, self.caller)
        return Response(page_out(self.request, items, paging, found.total))


class PresenceRegistrationListApi(_SearchBase):
    required_scopes = {"GET": CONSULT}
    query_parameters = (*s.PresenceRegistrationQueryIn().fields, *PAGE_PARAMETERS)

    @extend_schema(
        operation_id="listPresenceRegistrations",
        parameters=[s.PresenceRegistrationQueryIn, *PAGE_SCHEMA_PARAMETERS],
        responses={200: PresenceRegistrationPage},
        summary="Search by query parameters (never by NISS: use POST search)",
    )
    def get(self, request: Request) -> Response:
        criteria = _query_as_body(self.query(s.PresenceRegistrationQueryIn))
        return self.search_page(criteria, {}, page_request(request), "query")


class SearchApi(_SearchBase):
    required_scopes = {"POST": CONSULT}
    query_parameters = PAGE_PARAMETERS

    @extend_schema(
        operation_id="searchPresenceRegistrations",
        request=s.SearchIn,
        parameters=PAGE_SCHEMA_PARAMETERS,
        responses={200: PresenceRegistrationPage},
        summary="Search by body (the way to search by person: a NISS never goes in a URL)",
    )
    def post(self, request: Request) -> Response:
        paging = page_request(request)
        body = self.body(s.SearchIn)
        return self.search_page(body["criteria"], body.get("sort", {}), paging, "body")


class CancelInBulkApi(GatewayApi):
    required_scopes = {"POST": REGISTER}

    @extend_schema(
        operation_id="cancelInBulk",
        request=s.CancelInBulkIn,
        responses={200: s.CancelInBulkOut},
        summary="Cancel 1..200 registrations, within 30 days of their date; one result per item",
    )
    def post(self, request: Request) -> Response:
        items = self.body(s.CancelInBulkIn)["items"]
        inputs = [CancelInput(registration_id=item["id"], reason=item["reason"]) for item in items]
        results = registration_cancel_batch(items=inputs, caller=self.caller, channel=REST)
        note_items(request, results, done="cancelled")
        unknown = [i.registration_id for i, r in zip(inputs, results, strict=True) if r.registration is None]
        _audit_unknown(self.caller, unknown, "cancelInBulk")
        cancelled = [r.registration for r in results if not r.errors and r.registration is not None]
        shown = dict(zip((r.pk for r in cancelled), presenters.registrations_out(cancelled, self.caller), strict=True))
        answer = [
            {"cancelledPresenceRegistration": shown[result.registration.pk]}
            if not result.errors and result.registration is not None
            else {
                "notCancelledPresenceRegistration": {
                    "id": item.registration_id,
                    "errorList": presenters.errors_out(result.errors),
                }
            }
            for item, result in zip(inputs, results, strict=True)
        ]
        return Response({"items": answer})


def _performance_query(data: dict[str, Any]) -> PerformanceQuery:
    return PerformanceQuery(
        start_date=data["startDate"],
        end_date=data["endDate"],
        workplace_id=data.get("contractualRelationshipReference"),
        enterprise_number=data.get("enterpriseNumber"),
        niss=data.get("ssin"),
    )


# Shared by the GET (query parameters) and POST (body, the way to ask about one person).
class _PerformancesBase(GatewayApi):
    def performances_page(self, request: Request, query: PerformanceQuery, location: str) -> Response:
        paging = page_request(request)
        try:
            performances, used = performances_for(caller=self.caller, query=query)
        except InvalidSearchError as exc:
            message = exc.message.split(": ", 1)[-1]
            raise InputValidationError({exc.field: [ErrorDetail(message, code="invalid_input")]}, location) from exc
        self.consulted(used)
        page = performances[paging.first_row : paging.first_row + paging.page_size]
        items = [presenters.performance_out(performance) for performance in page]
        return Response(page_out(request, items, paging, len(performances)))


class PerformancesApi(_PerformancesBase):
    required_scopes = {"GET": CONSULT}
    query_parameters = (
        "startDate",
        "endDate",
        "contractualRelationshipReference",
        "enterpriseNumber",
        *PAGE_PARAMETERS,
    )

    @extend_schema(
        operation_id="listPerformances",
        parameters=[
            OpenApiParameter("startDate", date, OpenApiParameter.QUERY, required=True),
            OpenApiParameter("endDate", date, OpenApiParameter.QUERY, required=True, description="at most 31 days"),
            OpenApiParameter("contractualRelationshipReference", str, OpenApiParameter.QUERY),
            OpenApiParameter("enterpriseNumber", str, OpenApiParameter.QUERY),
            *PAGE_SCHEMA_PARAMETERS,
        ],
        responses={200: PerformancePage},
        summary="IN/OUT pairs per person, place of work and day, with worked time; open INs shown open",
    )
    def get(self, request: Request) -> Response:
        return self.performances_page(request, _performance_query(self.query(s.PerformanceSearchIn)), "query")


class PerformanceSearchApi(_PerformancesBase):
    required_scopes = {"POST": CONSULT}
    query_parameters = PAGE_PARAMETERS

    @extend_schema(
        operation_id="searchPerformances",
        request=s.PerformanceSearchIn,
        parameters=PAGE_SCHEMA_PARAMETERS,
        responses={200: PerformancePage},
        summary="The same by body, which may name the person (a NISS never goes in a URL)",
    )
    def post(self, request: Request) -> Response:
        return self.performances_page(request, _performance_query(self.body(s.PerformanceSearchIn)), "body")


class AddressesNearApi(GatewayApi):
    required_scopes = {"POST": CONSULT}

    @extend_schema(
        operation_id="findAddressesNear",
        request=s.AddressesNearIn,
        responses={200: s.NearbyAddressesOut},
        summary="The known addresses nearest to WGS84 coordinates (default within 150 m, at most 10)",
    )
    def post(self, request: Request) -> Response:
        body = self.body(s.AddressesNearIn)
        coordinates = body["coordinates"]
        try:
            found = addresses_near(
                coordinates["latitude"],
                coordinates["longitude"],
                radius_m=body.get("radiusMeters", DEFAULT_RADIUS_M),
                limit=body.get("limit", 10),
            )
        except InvalidCoordinates as exc:
            name = exc.field if exc.field in ("coordinates", "radiusMeters", "limit") else f"coordinates.{exc.field}"
            raise InputValidationError({name: [ErrorDetail(exc.message, code="invalid_input")]}) from exc
        return Response({"items": [presenters.nearby_address_out(nearby) for nearby in found]})


class _CatalogueApi(GatewayApi):
    required_scopes = {"GET": CONSULT}

    def entries(self) -> Iterable[dict[str, Any]]:
        raise NotImplementedError

    def list_or_one(self, code: str | None) -> Response:
        entries = list(self.entries())
        if code is None:
            return Response({"items": entries})
        for entry in entries:
            if entry["code"] == code:
                return Response(entry)
        raise NotFound


class _Remarks(_CatalogueApi):
    def entries(self) -> Iterable[dict[str, Any]]:
        return presenters.remark_catalogue()


class RemarksApi(_Remarks):
    @extend_schema(operation_id="listRemarks", responses={200: s.CatalogueOut})
    def get(self, request: Request) -> Response:
        return self.list_or_one(None)


class RemarkApi(_Remarks):
    @extend_schema(operation_id="getRemark", responses={200: s.CatalogueEntryOut})
    def get(self, request: Request, code: str) -> Response:
        return self.list_or_one(code)


class _Activities(_CatalogueApi):
    def entries(self) -> Iterable[dict[str, Any]]:
        return presenters.activity_catalogue()


class ActivitiesApi(_Activities):
    @extend_schema(operation_id="listActivities", responses={200: s.CatalogueOut})
    def get(self, request: Request) -> Response:
        return self.list_or_one(None)


class ActivityApi(_Activities):
    @extend_schema(operation_id="getActivity", responses={200: s.CatalogueEntryOut})
    def get(self, request: Request, code: str) -> Response:
        return self.list_or_one(code)
