"""Performances: cleaning IN/OUT events paired into worked periods (spec §6 `performances`).

Per person, place of work and day (Europe/Brussels, the day of the IN), each IN is paired
with the next OUT of the same person and place of work. A day's worked time is the sum of
its closed periods: the gaps between an OUT and the next IN are breaks and do not count.
An IN with no OUT yet is an open period, shown as open and never closed automatically;
an open day has no end and counts only its closed periods. Cancelled events are ignored;
an OUT left without its IN (the IN was cancelled) pairs with nothing and is left out.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from registrations.domain.authorisation import Caller
from registrations.domain.exceptions import InvalidSearchError
from registrations.domain.identifiers import normalise_enterprise_number, normalise_niss
from registrations.domain.vocabulary import CleaningEventType, Sector, Status
from registrations.models import Registration
from registrations.selectors.registrations import registrations_visible_to

MAX_DAYS = 31
MAX_EVENTS = 20_000


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime | None
    in_registration_id: int
    out_registration_id: int | None = None

    @property
    def is_open(self) -> bool:
        return self.end is None

    @property
    def worked(self) -> timedelta:
        return timedelta(0) if self.end is None else self.end - self.start


@dataclass
class Performance:
    """One person's work on one place of work on one day, for one employer."""

    niss: str
    workplace_id: str
    day: date
    enterprise_number: str
    foreign_vat_number: str
    periods: list[Period] = field(default_factory=list)

    @property
    def start(self) -> datetime:
        return self.periods[0].start

    @property
    def is_open(self) -> bool:
        return any(period.is_open for period in self.periods)

    @property
    def end(self) -> datetime | None:
        """The last OUT of the day, or None while a period is open."""
        return None if self.is_open else self.periods[-1].end

    @property
    def worked(self) -> timedelta:
        return sum((period.worked for period in self.periods), timedelta(0))


def pair_events(events: Iterable[Registration]) -> list[Performance]:
    """Pair non-cancelled cleaning events into performances, ordered by day, person, place.

    Each employer's events are paired on their own (spec §8): an OUT never ends another
    employer's IN. Pure: reads only the given registrations (their person, place of work,
    employer, event_type, event_at).
    """
    by_key: dict[tuple[str, str, str, str], list[Registration]] = defaultdict(list)
    for event in events:
        if event.status != Status.CANCELLED and event.event_at is not None:
            key = (event.niss, event.workplace_id, event.enterprise_number, event.foreign_vat_number)
            by_key[key].append(event)
    performances: dict[tuple[str, str, str, str, date], Performance] = {}
    for key, key_events in by_key.items():
        for _, period in _periods(
            sorted(key_events, key=lambda e: (e.event_at or datetime.min.replace(tzinfo=UTC), e.pk))
        ):
            day = timezone.localtime(period.start).date()
            performance = performances.get((*key, day))
            if performance is None:
                niss, workplace, enterprise, foreign_vat = key
                performance = Performance(niss, workplace, day, enterprise, foreign_vat)
                performances[(*key, day)] = performance
            performance.periods.append(period)
    return sorted(performances.values(), key=lambda p: (p.day, p.start, p.niss, p.workplace_id))


def _periods(events: list[Registration]) -> Iterable[tuple[Registration, Period]]:
    """(the IN, its period) for each IN of one person and place of work, in time order."""
    open_in: tuple[Registration, datetime] | None = None
    for event in events:
        at = event.event_at
        if at is None:
            continue
        if event.event_type == CleaningEventType.IN:
            if open_in is not None:  # only after a cancellation: the earlier IN stays open
                yield open_in[0], Period(open_in[1], None, open_in[0].pk)
            open_in = (event, at)
        elif open_in is not None:
            yield open_in[0], Period(open_in[1], at, open_in[0].pk, event.pk)
            open_in = None
    if open_in is not None:
        yield open_in[0], Period(open_in[1], None, open_in[0].pk)


def event_dates(first_day: date, last_day: date) -> tuple[date, date]:
    """The registration dates whose events can make up the performances of `first_day`..
    `last_day`: a period that starts on the last day may end the next one. The calendar
    ends on 9999-12-31, a date any client may send: there is no day after it to add."""
    return first_day, last_day if last_day == date.max else last_day + timedelta(days=1)


@dataclass(frozen=True)
class PerformanceQuery:
    start_date: date
    end_date: date
    workplace_id: str | None = None
    enterprise_number: str | None = None
    niss: str | None = None


def performances_for(*, caller: Caller, query: PerformanceQuery) -> tuple[list[Performance], list[Registration]]:
    """The performances of the days `start_date`..`end_date` (at most 31) the caller may see,
    with the registrations they were built from (inspection logs its reads of them).

    A period starting on the last day and ending the next day is included whole.
    Raises InvalidSearchError for a bad window, NISS or enterprise number.
    """
    if query.start_date > query.end_date:
        raise InvalidSearchError("endDate", "the end date is before the start date")
    if (query.end_date - query.start_date).days >= MAX_DAYS:
        raise InvalidSearchError("endDate", f"the window is at most {MAX_DAYS} days")
    events = registrations_visible_to(caller).filter(
        sector=Sector.CLEANING, registration_date__range=event_dates(query.start_date, query.end_date)
    )
    if query.workplace_id is not None:
        events = events.filter(workplace_id=query.workplace_id.strip())
    if query.niss is not None:
        niss = normalise_niss(query.niss)
        if not isinstance(niss, str):
            raise InvalidSearchError("ssin", niss.description)
        events = events.filter(niss=niss)
    if query.enterprise_number is not None:
        enterprise = normalise_enterprise_number(query.enterprise_number)
        if not isinstance(enterprise, str):
            raise InvalidSearchError("enterpriseNumber", enterprise.description)
        events = events.filter(enterprise_number=enterprise)
    rows = list(events.exclude(status=Status.CANCELLED).order_by("event_at", "id")[:MAX_EVENTS])
    performances = [p for p in pair_events(rows) if query.start_date <= p.day <= query.end_date]
    used = {period.in_registration_id for p in performances for period in p.periods} | {
        period.out_registration_id for p in performances for period in p.periods
    }
    return performances, [row for row in rows if row.pk in used]
