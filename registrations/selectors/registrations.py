"""Reading registrations, always through the caller's visibility (spec §8)."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum

from django.db.models import F, Min, Q, QuerySet
from django.utils import timezone

from config.partitioning import months_of_ids
from config.routers import replica_reads
from registrations.domain.authorisation import Caller, CallerRole
from registrations.domain.exceptions import InvalidSearchError, ItemError
from registrations.domain.identifiers import normalise_enterprise_number, normalise_foreign_vat_number, normalise_niss
from registrations.domain.vocabulary import Channel, CleaningEventType, Sector, Status
from registrations.models import Registration
from registrations.selectors.lifecycle import (
    PresenceStatus,
    StatusAt,
    Validity,
    presence_status_filter,
    presence_status_of,
    validity_filter,
)
from registrations.selectors.visibility import visible_registrations

MAX_FETCH_SIZE = 500
MAX_PERIODS = 31


def registrations_visible_to(caller: Caller) -> QuerySet[Registration]:
    """The registrations a caller may see; anything else is reported as unknown.

    Enterprise: what it sent, what it employs, and, as builder of a Declaration of Works,
    what is registered on that workplace. Professional: its mandating enterprises'.
    Inspection and operators: everything. The rules are `selectors.visibility`'s grounds,
    which also answer the inverse question (who may see this registration) for the feed.
    """
    return Registration.objects.filter(visible_registrations(caller))


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
    return (
        cleaning_events_visible_to(caller)
        .select_related("sender")
        .filter(months_of_ids([registration_id]), id=registration_id)
        .first()
    )


@replica_reads  # may read a replica (config/routers.py); never used to decide a write
def registration_get(*, caller: Caller, registration_id: int) -> Registration | None:
    """One registration, or None when it does not exist or the caller may not see it."""
    return (
        registrations_visible_to(caller)
        .select_related("sender")
        .filter(months_of_ids([registration_id]), id=registration_id)
        .first()
    )


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
    """The criteria of every search: SOAP `searchPresences` (spec §5) and both REST searches
    (spec §6). `periods` is mandatory (1..31 ranges of registration dates); every other
    criterion narrows, and a list matches any of its values.

    `moments`: the REST window given as instants, inclusive (`registration_window`), on top
    of `periods`, which then holds the Brussels days it touches. `statuses` are the stored
    (SOAP) statuses, `presence_statuses` and `validities` REST's words (`lifecycle`).
    `cleaning_events_only`: the REST service's view, cleaning events with type and moment.
    """

    periods: list[tuple[date, date]]
    moments: tuple[datetime, datetime] | None = None
    niss: str | None = None
    enterprise_number: str | int | None = None
    foreign_vat_number: str | None = None
    workplace_id: str | None = None
    client_reference: str | None = None
    statuses: list[Status] = field(default_factory=list)
    presence_statuses: list[PresenceStatus] = field(default_factory=list)
    validities: list[Validity] = field(default_factory=list)
    remarks: list[int] = field(default_factory=list)
    event_types: list[CleaningEventType] = field(default_factory=list)
    channels: list[Channel] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    created_from: datetime | None = None
    created_to: datetime | None = None
    sectors: list[Sector] = field(default_factory=list)
    cleaning_events_only: bool = False


@dataclass(frozen=True)
class RegistrationWindow:
    """A search window: whole Brussels days, or two instants (inclusive) and the days they touch."""

    days: tuple[date, date]
    moments: tuple[datetime, datetime] | None = None


def registration_window(start: date | datetime, end: date | datetime) -> RegistrationWindow:
    """The window of a REST search (`registrationDate` start and end, spec §6).

    Two plain dates are whole days of registration date (Europe/Brussels). As soon as one
    bound is a moment (with its offset), the window is the event moments between two
    instants, inclusive: a plain date then stands for its first instant in Brussels as the
    start, and its last as the end. Any length is allowed, as for plain dates.

    Raises InvalidSearchError when the start is after the end.
    """
    if not isinstance(start, datetime) and not isinstance(end, datetime):
        if start > end:
            raise InvalidSearchError("RegistrationPeriod", "the start is after the end")
        return RegistrationWindow(days=(start, end))
    first, last = _instant(start, time.min), _instant(end, time.max)
    if first > last:
        raise InvalidSearchError("RegistrationPeriod", "the start is after the end")
    # A cleaning event's registration date is its Brussels day: bounding the days too lets
    # the (..., registration_date) indexes do the work.
    return RegistrationWindow(days=(_brussels_day(first), _brussels_day(last)), moments=(first, last))


def _instant(bound: date | datetime, time_of_day: time) -> datetime:
    if isinstance(bound, datetime):
        return bound
    return datetime.combine(bound, time_of_day, tzinfo=timezone.get_default_timezone())


def _brussels_day(moment: datetime) -> date:
    """The Brussels day of a moment; the calendar's edge for one beyond it (a client's
    0001-01-01T00:00+14:00), which bounds the same rows since none lies beyond."""
    try:
        return timezone.localtime(moment, timezone.get_default_timezone()).date()
    except OverflowError:
        return date.min if moment.year == date.min.year else date.max


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
    niss, enterprise, foreign_vat = _identifiers(criteria)
    # An employer criterion the caller may see all of already implies visibility: without
    # the visibility OR, PostgreSQL answers a large employer's page and COUNT from the
    # (employer, date) index alone (docs/performance.md).
    if enterprise is not None and _sees_all_of_employer(caller, enterprise):
        registrations = Registration.objects.filter(period_filter)
    else:
        registrations = registrations_visible_to(caller).filter(period_filter)
    workplace_id = None if criteria.workplace_id is None else criteria.workplace_id.strip()
    equal_to = _equal_to(
        niss=niss,
        enterprise_number=enterprise,
        foreign_vat_number=foreign_vat,
        workplace_id=workplace_id,
        client_reference=criteria.client_reference,
    )
    return _narrowed(registrations.filter(equal_to), criteria)


def _identifiers(criteria: SearchCriteria) -> tuple[str | None, str | None, str | None]:
    """The NISS, enterprise number and foreign VAT number criteria, normalised; raises
    InvalidSearchError naming the bad one (SOAP's element names)."""
    niss, enterprise, vat = criteria.niss, criteria.enterprise_number, criteria.foreign_vat_number
    return (
        _checked("INSS", None if niss is None else normalise_niss(niss)),
        _checked("CompanyID", None if enterprise is None else normalise_enterprise_number(enterprise)),
        _checked("VatNumber", None if vat is None else normalise_foreign_vat_number(vat)),
    )


def _checked(field_name: str, value: str | ItemError | None) -> str | None:
    if isinstance(value, ItemError):
        raise InvalidSearchError(field_name, value.description)
    return value


def _equal_to(**values: object) -> Q:
    """Equality on each field whose value is given (not None)."""
    return Q(**{name: value for name, value in values.items() if value is not None})


def _narrowed(registrations: QuerySet[Registration], criteria: SearchCriteria) -> QuerySet[Registration]:
    """The criteria beyond the window and identifiers; each list matches any of its values."""
    if criteria.moments is not None:
        start, end = criteria.moments
        registrations = registrations.filter(event_at__gte=_in_utc(start), event_at__lte=_in_utc(end))
    if criteria.statuses:
        registrations = registrations.filter(status__in=criteria.statuses)
    if criteria.presence_statuses:
        registrations = registrations.filter(presence_status_filter(criteria.presence_statuses))
    if criteria.validities:
        registrations = registrations.filter(validity_filter(criteria.validities))
    if criteria.remarks:
        wanted = sum(1 << (number - 1) for number in set(criteria.remarks))
        registrations = registrations.alias(matched=F("remark_mask").bitand(wanted)).exclude(matched=0)
    for field_name, values in (
        ("event_type", criteria.event_types),
        ("channel", criteria.channels),
        ("activity", criteria.activities),
        ("sector", criteria.sectors),
    ):
        if values:
            registrations = registrations.filter(**{f"{field_name}__in": values})
    if criteria.created_from is not None:
        registrations = registrations.filter(created_at__gte=_in_utc(criteria.created_from))
    if criteria.created_to is not None:
        registrations = registrations.filter(created_at__lte=_in_utc(criteria.created_to))
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


def presence_statuses(*, registrations: Sequence[Registration]) -> dict[int, StatusAt]:
    """The public status of each registration (`lifecycle`), by id: one query for the
    corrections superseding those not cancelled, none when all are."""
    open_ids = [r.pk for r in registrations if r.status != Status.CANCELLED]
    corrected: dict[int, datetime] = {}
    if open_ids:
        rows = (
            Registration.objects.filter(corrects_id__in=open_ids)
            .values("corrects_id")
            .annotate(first=Min("created_at"))
            .values_list("corrects_id", "first")
        )
        corrected = {original: first for original, first in rows if original is not None}
    return {r.pk: presence_status_of(r, corrected_at=corrected.get(r.pk)) for r in registrations}
