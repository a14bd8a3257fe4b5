"""The four operations of PresenceRegistration v1.11: thin adapters over the core.

Each method translates the (already schema-validated, already authenticated) request into
the core's inputs, calls one service or selector, and translates the answer back. Whole-call
errors become SocSecFaults in `GatewayService.call_wrapper`; per-item errors are answered in
the item's ErrorList and never fail the call.
"""

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.db import InterfaceError, OperationalError
from django.utils import timezone
from spyne import Fault, ServiceBase, rpc

from history.events import EventType
from registrations.domain.authorisation import Caller
from registrations.domain.exceptions import (
    BatchSizeError,
    InvalidSearchError,
    ItemError,
    NotAuthorisedError,
    RegistrationError,
)
from registrations.domain.limits import MAX_BATCH
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Channel, Sector, Status
from registrations.selectors.registrations import SearchCriteria, SortKey, registration_get, registration_search
from registrations.selectors.timeline import registration_timeline
from registrations.services.presences import (
    CancelInput,
    PresenceInput,
    registration_cancel_batch,
    registration_submit_batch,
    registrations_consulted,
)
from requestlog.recording import note_items
from soap_gateway import types as t
from soap_gateway.faults import PlatformCode, SocSecFault

if TYPE_CHECKING:
    from registrations.domain.rows import RegistrationRow
    from registrations.models import Registration

logger = logging.getLogger(__name__)

_STATUS_BY_LABEL = {str(status.label): status for status in Status}
_REMARK_BY_TEXT = {remark.text: number for number, remark in REMARKS.items()}
_MAX_ERRORS = 10  # RequestErrorType: at most 10 Error elements
_MAX_REMARKS = 10  # RemarkListType: at most 10 Remark elements
_SUBMITTED_FIELDS = (
    "RegistrationDate",
    "INSS",
    "CompanyID",
    "LimosaId",
    "WorkPlaceId",
    "ClientPresenceRegistrationReference",
)


# --- requests -> core -----------------------------------------------------------------------


def submitted_dict(item: t.PresenceRegistrationSubmitType) -> dict[str, Any]:
    """What the client sent, JSON-ready: the elements present, in contract order."""
    submitted: dict[str, Any] = {}
    for name in _SUBMITTED_FIELDS:
        value = getattr(item, name)
        if value is not None:
            submitted[name] = value.isoformat() if isinstance(value, date) else value
    return submitted


def presence_input(item: t.PresenceRegistrationSubmitType) -> PresenceInput:
    return PresenceInput(
        workplace_id=item.WorkPlaceId,
        registration_date=item.RegistrationDate,
        niss=item.INSS,
        enterprise_number=item.CompanyID,
        limosa_id=item.LimosaId,
        client_reference=item.ClientPresenceRegistrationReference or "",
        submitted=submitted_dict(item),
    )


def _aware(value: datetime | None) -> datetime | None:
    """xs:dateTime without a zone is read as Brussels time (spec §9)."""
    if value is None or timezone.is_aware(value):
        return value
    return timezone.make_aware(value)


def search_criteria(criteria: t.SearchPresenceRegistrationCriteria) -> SearchCriteria:
    """Raises InvalidSearchError for a sector the service does not know."""
    sectors: list[Sector] = []
    if criteria.Sector is not None:
        if criteria.Sector not in Sector.values:
            raise InvalidSearchError("Sector", "unknown sector")
        sectors = [Sector(criteria.Sector)]
    periods = criteria.RegistrationPeriodList.RegistrationPeriod
    return SearchCriteria(
        periods=[(p.RegistrationPeriodStartDate, p.RegistrationPeriodEndDate) for p in periods],
        niss=criteria.INSS,
        enterprise_number=criteria.CompanyID,
        workplace_id=criteria.WorkPlaceId,
        statuses=[_STATUS_BY_LABEL[s] for s in (criteria.StatusList.Status if criteria.StatusList else [])],
        remarks=[_REMARK_BY_TEXT[r] for r in (criteria.RemarkList.Remark if criteria.RemarkList else [])],
        created_from=_aware(criteria.CreationStartDate),
        created_to=_aware(criteria.CreationEndDate),
        sectors=sectors,
    )


# --- core -> responses ----------------------------------------------------------------------


def error_list(errors: Iterable[ItemError]) -> t.RequestErrorType:
    """The item's errors with their contract codes (at most 10, the contract's limit)."""
    return t.RequestErrorType(
        Error=[
            t.Error(ErrorCode=str(int(error.code)), ErrorDescription=error.description)
            for error in list(errors)[:_MAX_ERRORS]
        ]
    )


def _submitted_echo(
    registration: "Registration | RegistrationRow", item: t.PresenceRegistrationSubmitType | None = None
) -> dict[str, Any]:
    """One branch of the Submitted/ConsultSubmitted choice: the SOAP item exactly as sent,
    or, for a registration that did not come through SOAP, its consult form.

    `item` is the request item that has just created the registration: echoed as parsed. A
    registration read later (or answered to a resend) echoes what its own sender stored;
    its date is the registration's, which admission took from that item."""
    if item is not None:
        return {"PresenceRegistrationSubmitted": item}
    sent = registration.submitted or {}
    if registration.channel == Channel.WS and "WorkPlaceId" in sent:
        values = {name: sent[name] for name in _SUBMITTED_FIELDS if name in sent}
        if "RegistrationDate" in values:
            values["RegistrationDate"] = registration.registration_date
        return {"PresenceRegistrationSubmitted": t.PresenceRegistrationSubmitType(**values)}
    return {
        "PresenceRegistrationConsultSubmitted": t.PresenceRegistrationConsultSubmitType(
            RegistrationDate=registration.registration_date,
            INSS=registration.niss or None,
            CompanyID=int(registration.enterprise_number) if registration.enterprise_number else None,
            LimosaId=registration.limosa_id or None,
            VatNumber=registration.foreign_vat_number or None,
            WorkPlaceId=registration.workplace_id,
            ClientPresenceRegistrationReference=registration.client_reference[:24] or None,
        )
    }


def _remark_list(numbers: Iterable[int]) -> t.RemarkListType | None:
    texts = [REMARKS[number].text for number in numbers if number in REMARKS][:_MAX_REMARKS]
    return t.RemarkListType(Remark=texts) if texts else None


def last_validation(registration: "Registration | RegistrationRow") -> t.ValidationType:
    """The current status; the date of the last validation or of the cancellation."""
    status = Status(registration.status)
    when = registration.cancelled_at if status == Status.CANCELLED else registration.validated_at
    return t.ValidationType(
        Status=str(status.label),
        ValidationDate=when if status != Status.REGISTERED else None,
        RemarkList=_remark_list(registration.remarks),
    )


def validation_history(caller: Caller, registration_id: int) -> t.ValidationHistoryType | None:
    """One Validation per change of status or remarks, oldest first (spec §3.1); None when
    there is none (the contract's list needs at least one)."""
    validations = [
        t.ValidationType(
            Status=str(entry.stored_status.label),
            ValidationDate=None if entry.event_type == EventType.CREATED else entry.occurred_at,
            RemarkList=_remark_list(entry.remarks or ()),
        )
        for entry in registration_timeline(caller=caller, registration_id=registration_id)
        if entry.stored_status is not None
    ]
    return t.ValidationHistoryType(Validation=validations) if validations else None


def presence_registration(
    registration: "Registration | RegistrationRow",
    *,
    history_for: Caller | None = None,
    created_from: t.PresenceRegistrationSubmitType | None = None,
) -> t.PresenceRegistrationType:
    """A registration as the contract shows it; its ValidationHistory only when asked (get,
    with the caller reading it); `created_from`: the request item that has just created it."""
    sender = None
    if registration.sender_id or registration.sender_enterprise_number:
        sender = t.SenderType(
            SenderId=str(registration.sender_id) if registration.sender_id else None,
            SenderCompanyId=int(registration.sender_enterprise_number)
            if registration.sender_enterprise_number
            else None,
            SenderUserType=registration.sender_role or None,
        )
    return t.PresenceRegistrationType(
        **_submitted_echo(registration, created_from),
        Sector=registration.sector,
        INSS=registration.niss or None,
        PresenceRegistrationId=registration.pk,
        CreationDate=registration.created_at,
        Channel=registration.channel,
        LastValidation=last_validation(registration),
        ValidationHistory=validation_history(history_for, registration.pk) if history_for else None,
        Sender=sender,
    )


# --- the service ------------------------------------------------------------------------------


def _caller(ctx: Any) -> Caller:
    """The authenticated caller; ContractSoap11 refuses any call without one."""
    caller = getattr(ctx, "udc", None)
    if not isinstance(caller, Caller):  # defence in depth: never reach the core unauthenticated
        raise SocSecFault(PlatformCode.NOT_AUTHENTICATED, log_reason="no caller on the context")
    return caller


class GatewayService(ServiceBase):  # type: ignore[misc]  # Spyne has no type information
    """Maps the core's whole-call errors and infrastructure failures to platform faults."""

    @classmethod
    def call_wrapper(cls, ctx: Any, args: Any = None) -> Any:
        try:
            return super().call_wrapper(ctx, args)
        except Fault:
            raise
        except NotAuthorisedError as exc:
            raise SocSecFault(PlatformCode.NOT_AUTHORISED, kind="BusinessError", log_reason=exc.message) from exc
        except BatchSizeError as exc:
            raise SocSecFault(PlatformCode.SCHEMA_VIOLATION, exc.message) from exc
        except RegistrationError as exc:
            raise SocSecFault(PlatformCode.CONTENT_INVALID, exc.message, kind="BusinessError") from exc
        except (OperationalError, InterfaceError) as exc:  # the database is down or unreachable
            raise SocSecFault(PlatformCode.UNAVAILABLE, log_reason=type(exc).__name__) from exc
        except Exception as exc:
            fault = SocSecFault(PlatformCode.PROVIDER_ERROR)
            logger.exception("unexpected error in %s, ticket=%s", ctx.method_name, fault.ticket)
            raise fault from exc


class PresenceRegistrationService(GatewayService):
    @rpc(  # type: ignore[untyped-decorator]  # Spyne has no type information; the body is checked
        t.PresenceRegistrationSubmitType.customize(min_occurs=1, max_occurs=MAX_BATCH, nillable=False),
        _in_message_name="RegisterPresencesRequest",
        _returns=t.RegisterPresenceRegistrationResponse.customize(min_occurs=1, max_occurs=MAX_BATCH, nillable=False),
        _out_message_name="RegisterPresencesResponse",
        _out_variable_name="PresenceRegistrationResponse",
    )
    def registerPresences(  # noqa: N802
        ctx: Any,  # noqa: N805
        PresenceRegistrationRequest: list[t.PresenceRegistrationSubmitType],  # noqa: N803
    ) -> list[t.RegisterPresenceRegistrationResponse]:
        """Register 1..200 presences; one response per item, in order."""
        items = PresenceRegistrationRequest
        results = registration_submit_batch(
            items=[presence_input(item) for item in items], caller=_caller(ctx), channel=Channel.WS
        )
        note_items(ctx.transport.req, results, done="created")
        return [
            t.RegisterPresenceRegistrationResponse(
                PresenceRegistration=presence_registration(
                    result.stored, created_from=None if result.replayed else item
                )
            )
            if result.stored is not None and not result.errors
            else t.RegisterPresenceRegistrationResponse(
                PresenceRegistrationError=t.RegisterPresenceRegistrationErrorType(
                    PresenceRegistrationSubmitted=item, ErrorList=error_list(result.errors)
                )
            )
            for item, result in zip(items, results, strict=True)
        ]

    @rpc(  # type: ignore[untyped-decorator]  # Spyne has no type information; the body is checked
        t.CancelPresenceRequestType.customize(min_occurs=1, max_occurs=MAX_BATCH, nillable=False),
        _in_message_name="CancelPresencesRequest",
        _returns=t.CancelPresenceRegistrationResponse.customize(min_occurs=1, max_occurs=MAX_BATCH, nillable=False),
        _out_message_name="CancelPresencesResponse",
        _out_variable_name="CancelPresenceResponse",
    )
    def cancelPresences(  # noqa: N802
        ctx: Any,  # noqa: N805
        CancelPresenceRequest: list[t.CancelPresenceRequestType],  # noqa: N803
    ) -> list[t.CancelPresenceRegistrationResponse]:
        """Cancel 1..200 registrations; the cancelled registration or the request with its errors."""
        items = CancelPresenceRequest
        results = registration_cancel_batch(
            items=[CancelInput(item.PresenceRegistrationId, item.CancellationReason) for item in items],
            caller=_caller(ctx),
            channel=Channel.WS,
        )
        note_items(ctx.transport.req, results, done="cancelled")
        return [
            t.CancelPresenceRegistrationResponse(
                PresenceRegistrationError=t.CancelPresenceRegistrationErrorType(
                    CancelPresenceRequest=item, ErrorList=error_list(result.errors)
                )
            )
            if result.errors or result.stored is None
            else t.CancelPresenceRegistrationResponse(PresenceRegistration=presence_registration(result.stored))
            for item, result in zip(items, results, strict=True)
        ]

    @rpc(  # type: ignore[untyped-decorator]  # Spyne has no type information; the body is checked
        t.SearchPresencesRequestType.customize(min_occurs=1, nillable=False),
        _in_message_name="SearchPresencesRequest",
        _in_arg_names={"request": "SearchPresenceRequest"},
        _returns=t.SearchPresencesResponseType.customize(min_occurs=1, nillable=False),
        _out_message_name="SearchPresencesResponse",
        _out_variable_name="SearchPresencesResponseType",
    )
    def searchPresences(ctx: Any, request: t.SearchPresencesRequestType) -> t.SearchPresencesResponseType:  # noqa: N802, N805
        """A page (default 50, at most 500) of what the caller may see, with the total count."""
        caller = _caller(ctx)
        paging = request.PaginationProperties
        sorting = request.SortingProperties
        page = registration_search(
            caller=caller,
            criteria=search_criteria(request.SearchPresenceRegistrationCriteria),
            first_row=paging.FirstRow if paging else 0,
            fetch_size=paging.FetchSize if paging else 50,
            sort=SortKey(sorting.SortCriteria) if sorting else SortKey.ID,
            descending=bool(sorting and sorting.SortDirection == "DESCENDING"),
        )
        registrations_consulted(caller=caller, registrations=page.registrations, channel=Channel.WS)
        return t.SearchPresencesResponseType(
            SearchPresencesRequest=request,
            PresenceRegistrationList=t.PresenceRegistrationList(
                PresenceRegistrationResultCount=page.total,
                PresenceRegistration=[presence_registration(r) for r in page.registrations],
            ),
        )

    @rpc(  # type: ignore[untyped-decorator]  # Spyne has no type information; the body is checked
        t.GetPresenceRegistrationRequestType.customize(min_occurs=1, nillable=False),
        _in_message_name="GetPresenceRegistrationRequest",
        _in_arg_names={"request": "GetPresenceRegistrationRequest"},
        _returns=t.GetPresenceRegistrationResponseType.customize(min_occurs=1, nillable=False),
        _out_message_name="GetPresenceRegistrationResponse",
        _out_variable_name="GetPresenceRegistrationResponseType",
    )
    def getPresenceRegistration(  # noqa: N802
        ctx: Any,  # noqa: N805
        request: t.GetPresenceRegistrationRequestType,
    ) -> t.GetPresenceRegistrationResponseType:
        """One registration with its ValidationHistory; unknown or invisible: the empty element."""
        caller = _caller(ctx)
        registration = registration_get(caller=caller, registration_id=request.PresenceRegistrationId)
        found = None
        if registration is not None:
            registrations_consulted(caller=caller, registrations=[registration], channel=Channel.WS)
            found = presence_registration(registration, history_for=caller)
        return t.GetPresenceRegistrationResponseType(
            GetPresenceRegistrationRequest=request,
            GetPresenceRegistrationType=t.GetPresenceRegistrationType(PresenceRegistrationType=found),
        )
