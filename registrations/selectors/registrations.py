"""Reading registrations, always through the caller's visibility (spec §8)."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from django.db.models import F, Q, QuerySet

from config.routers import replica_reads
from registrations.domain.authorisation import Caller, CallerRole
from registrations.domain.exceptions import InvalidSearchError
from registrations.domain.identifiers import normalise_enterprise_number, normalise_niss
from registrations.domain.vocabulary import Sector, Status
from registrations.models import DeclarationParty, Registration

MAX_FETCH_SIZE = 500
MAX_PERIODS = 31


def registrations_visible_to(caller: Caller) -> QuerySet[Registration]:
    """The registrations a caller may see; anything else is reported as unknown.

    Enterprise: what it sent, what it employs, and, as builder of a Declaration of Works,
    what is registered on that workplace. Professional: its mandating enterprises'.
    Inspection and operators: everything.
    """
    registrations = Registration.objects.all()
    if caller.sees_everything:
        return registrations
    if caller.role == CallerRole.PROFESSIONAL:
        return registrations.filter(enterprise_number__in=caller.mandates)
    own_workplaces = DeclarationParty.objects.filter(
        enterprise_number=caller.enterprise_number, role=DeclarationParty.Role.BUILDER
    ).values("declaration_id")
    return registrations.filter(
        Q(sender_id=caller.client_id)
        | Q(enterprise_number=caller.enterprise_number)
        | Q(workplace_id__in=own_workplaces)
    )


# `speaks_for_employer` (registrations.domain.authorisation) as a database filter: sent by an
# operator (no sender) or by a client of the employer itself.
SENT_FOR_EMPLOYER = Q(sender__isnull=True) | (
    ~Q(enterprise_number="") & Q(sender_enterprise_number=F("enterprise_number"))
)

# A cleaning event has its type and moment. A sector-4 row without them is no event (a SOAP
# presence stored there before presences on cleaning workplaces kept their own sector) and
# is never shown as one.
CLEANING_EVENT = Q(sector=Sector.CLEANING, event_at__isnull=False) & ~Q(event_type="")


def is_cleaning_event(registration: Registration) -> bool:
    has_event = bool(registration.event_type) and registration.event_at is not None
    return registration.sector == Sector.CLEANING and has_event


def cleaning_events_visible_to(caller: Caller) -> QuerySet[Registration]:
    """The cleaning events a caller may see (what the REST service reads, spec §6)."""
    return registrations_visible_to(caller).filter(CLEANING_EVENT)


def no_registrations() -> QuerySet[Registration]:
    """An empty list of registrations: what an API lists when no caller asks (its schema)."""
    return Registration.objects.none()


@replica_reads
def cleaning_event_get(*, caller: Caller, registration_id: int) -> Registration | None:
    """One cleaning event, or None when it does not exist, is no cleaning event, or the
    caller may not see it."""
    return cleaning_events_visible_to(caller).select_related("sender").filter(id=registration_id).first()


@replica_reads  # may read a replica (config/routers.py); never used to decide a write
def registration_get(*, caller: Caller, registration_id: int) -> Registration | None:
    """One registration, or None when it does not exist or the caller may not see it."""
    return registrations_visible_to(caller).select_related("sender").filter(id=registration_id).first()


class SortKey(StrEnum):
    """The contract's eight sort criteria (SortCriteriaType)."""

    ID = "ID"
    REGISTRATION_DATE = "REGISTRATION DATE"
    CREATION_DATE = "CREATION DATE"
    STATUS = "STATUS"
    PLACE_OF_WORK = "PLACE OF WORK"
    COMPANY_ID = "COMPANY ID"
    CHANNEL = "CHANNEL"
    SENDER_ID = "SENDER ID"


_SORT_FIELDS = {
    SortKey.ID: "id",
    SortKey.REGISTRATION_DATE: "registration_date",
    SortKey.CREATION_DATE: "created_at",
    SortKey.STATUS: "status",
    SortKey.PLACE_OF_WORK: "workplace_id",
    SortKey.COMPANY_ID: "enterprise_number",
    SortKey.CHANNEL: "channel",
    SortKey.SENDER_ID: "sender_id",
}


@dataclass(frozen=True)
class SearchCriteria:
    """The criteria of `searchPresences` (spec §5). `periods` is mandatory (1..31).

    `cleaning_events_only`: the REST service's view, cleaning events with type and moment.
    """

    periods: list[tuple[date, date]]
    niss: str | None = None
    enterprise_number: str | int | None = None
    workplace_id: str | None = None
    statuses: list[Status] = field(default_factory=list)
    remarks: list[int] = field(default_factory=list)
    created_from: datetime | None = None
    created_to: datetime | None = None
    sectors: list[Sector] = field(default_factory=list)
    cleaning_events_only: bool = False


@dataclass(frozen=True)
class SearchPage:
    total: int
    registrations: list[Registration]


def _sees_all_of_employer(caller: Caller, enterprise: str) -> bool:
    """True when every registration of this employer is visible to the caller anyway: its own
    enterprise, or one of a professional's mandating enterprises."""
    if caller.sees_everything:
        return True
    if caller.role == CallerRole.PROFESSIONAL:
        return enterprise in caller.mandates
    return enterprise == caller.enterprise_number


def _in_utc(moment: datetime) -> datetime:
    """`moment` in UTC, the zone the database compares in. A client's moment on the first
    or last day of the calendar can fall outside it in UTC (0001-01-01T00:00+14:00 is in
    year 0): the calendar's edge then bounds the same rows, since none is beyond it."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if moment.year == datetime.min.year else datetime.max  # noqa: DTZ901 - given UTC below
        return edge.replace(tzinfo=UTC)


def _filtered(caller: Caller, criteria: SearchCriteria) -> QuerySet[Registration]:
    if not 1 <= len(criteria.periods) <= MAX_PERIODS:
        raise InvalidSearchError("RegistrationPeriodList", f"give 1 to {MAX_PERIODS} periods")
    period_filter = Q()
    for start, end in criteria.periods:
        if start > end:
            raise InvalidSearchError("RegistrationPeriod", "the start date is after the end date")
        period_filter |= Q(registration_date__range=(start, end))
    niss = None
    if criteria.niss is not None:
        checked_niss = normalise_niss(criteria.niss)
        if not isinstance(checked_niss, str):
            raise InvalidSearchError("INSS", checked_niss.description)
        niss = checked_niss
    enterprise = None
    if criteria.enterprise_number is not None:
        checked_enterprise = normalise_enterprise_number(criteria.enterprise_number)
        if not isinstance(checked_enterprise, str):
            raise InvalidSearchError("CompanyID", checked_enterprise.description)
        enterprise = checked_enterprise
    # An employer criterion the caller may see all of already implies visibility: without
    # the visibility OR, PostgreSQL answers a large employer's page and COUNT from the
    # (employer, date) index alone (docs/performance.md).
    if enterprise is not None and _sees_all_of_employer(caller, enterprise):
        registrations = Registration.objects.filter(period_filter)
    else:
        registrations = registrations_visible_to(caller).filter(period_filter)
    if niss is not None:
        registrations = registrations.filter(niss=niss)
    if enterprise is not None:
        registrations = registrations.filter(enterprise_number=enterprise)
    if criteria.workplace_id is not None:
        registrations = registrations.filter(workplace_id=criteria.workplace_id.strip())
    if criteria.statuses:
        registrations = registrations.filter(status__in=criteria.statuses)
    if criteria.remarks:
        wanted = sum(1 << (number - 1) for number in set(criteria.remarks))
        registrations = registrations.alias(matched=F("remark_mask").bitand(wanted)).exclude(matched=0)
    if criteria.created_from is not None:
        registrations = registrations.filter(created_at__gte=_in_utc(criteria.created_from))
    if criteria.created_to is not None:
        registrations = registrations.filter(created_at__lte=_in_utc(criteria.created_to))
    if criteria.sectors:
        registrations = registrations.filter(sector__in=criteria.sectors)
    if criteria.cleaning_events_only:
        registrations = registrations.filter(CLEANING_EVENT)
    return registrations


@replica_reads
def registration_search(
    *,
    caller: Caller,
    criteria: SearchCriteria,
    first_row: int = 0,
    fetch_size: int = 50,
    sort: SortKey = SortKey.ID,
    descending: bool = False,
) -> SearchPage:
    """A page of the registrations matching `criteria` that the caller may see, with the
    total count. At most 500 per page; ties are broken by id so paging is stable.

    Raises InvalidSearchError for a missing or bad period list, bad identifiers, a negative
    first row or a fetch size outside 1..500.
    """
    if first_row < 0:
        raise InvalidSearchError("FirstRow", "must be 0 or more")
    if not 1 <= fetch_size <= MAX_FETCH_SIZE:
        raise InvalidSearchError("FetchSize", f"must be between 1 and {MAX_FETCH_SIZE}")
    registrations = _filtered(caller, criteria)
    field_name = _SORT_FIELDS[sort]
    prefix = "-" if descending else ""
    ordering = [f"{prefix}{field_name}"] + ([] if field_name == "id" else [f"{prefix}id"])
    page = list(registrations.select_related("sender").order_by(*ordering)[first_row : first_row + fetch_size])
    # A short page tells the total without a COUNT over a possibly large match.
    short_page = len(page) < fetch_size and (page or first_row == 0)
    total = first_row + len(page) if short_page else registrations.count()
    return SearchPage(total=total, registrations=page)
