"""The inspection snapshot of a workplace and a day (issue 7): who is, or was, there.

Construction and meat: everyone registered on the workplace for the day (not cancelled).
Cleaning: everyone on site, that is every IN of the day with no OUT after it (an open
period; for today, "on site now"). Each row carries the validity and the remarks. Every
registration shown is a read by inspection: the snapshot lists them (`shown`) and its caller
records them with `registrations_consulted` (a selector never writes); the snapshot is the
same in every format (JSON, CSV, PDF), which only render it.
"""

from dataclasses import dataclass, field
from datetime import date, datetime

from registrations.domain.authorisation import Caller
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Sector, Status
from registrations.models import Registration
from registrations.selectors.lifecycle import validity_of
from registrations.selectors.performances import event_dates, pair_events
from registrations.selectors.registrations import registrations_visible_to
from registrations.selectors.worker_names import cleaning_worker_names

MAX_ROWS = 5000


@dataclass(frozen=True)
class SnapshotRow:
    """One person on the workplace: a presence, or a cleaning IN still open."""

    registration_id: int
    sector: int
    niss: str
    limosa_id: str
    given_name: str
    family_name: str
    employer: str
    status: str
    validity: str
    remarks: list[int]
    on_site_since: datetime | None = None

    @property
    def remark_texts(self) -> list[str]:
        return [f"{number}: {REMARKS[number].en}" for number in self.remarks if number in REMARKS]


@dataclass(frozen=True)
class Snapshot:
    workplace_id: str
    day: date
    taken_at: datetime
    rows: list[SnapshotRow] = field(default_factory=list)
    # The registrations behind the rows, in row order: what the caller records as consulted.
    shown: list[Registration] = field(default_factory=list)


def _presences(caller: Caller, workplace_id: str, day: date) -> list[Registration]:
    return list(
        registrations_visible_to(caller)
        .filter(workplace_id=workplace_id, registration_date=day)
        .exclude(sector=Sector.CLEANING)
        .exclude(status=Status.CANCELLED)
        .order_by("id")[:MAX_ROWS]
    )


def _open_ins(caller: Caller, workplace_id: str, day: date) -> list[tuple[Registration, datetime]]:
    """The cleaning INs of the day whose period is still open, with their time."""
    events = list(
        registrations_visible_to(caller)
        .filter(workplace_id=workplace_id, sector=Sector.CLEANING, registration_date__range=event_dates(day, day))
        .exclude(status=Status.CANCELLED)
        .order_by("event_at", "id")[:MAX_ROWS]
    )
    by_id = {event.pk: event for event in events}
    return [
        (by_id[period.in_registration_id], period.start)
        for performance in pair_events(events)
        if performance.day == day
        for period in performance.periods
        if period.is_open
    ]


def _row(registration: Registration, names: dict[str, tuple[str, str]], since: datetime | None) -> SnapshotRow:
    given, family = names.get(registration.niss, ("", ""))
    return SnapshotRow(
        registration_id=registration.pk,
        sector=registration.sector,
        niss=registration.niss,
        limosa_id=registration.limosa_id,
        given_name=given,
        family_name=family,
        employer=registration.enterprise_number or registration.foreign_vat_number,
        status=Status(registration.status).label,
        validity=validity_of(registration).value,
        remarks=registration.remarks,
        on_site_since=since,
    )


def inspection_snapshot(*, caller: Caller, workplace_id: str, day: date, now: datetime) -> Snapshot:
    """Who is registered on (construction, meat) or on site at (cleaning) a workplace on a day.

    Only registrations the caller may see are shown; the caller records `shown` as consulted
    (`registrations_consulted`). Rows: presences first, then open INs, each in registration
    order.
    """
    workplace_id = workplace_id.strip().upper()
    presences = [(registration, None) for registration in _presences(caller, workplace_id, day)]
    shown: list[tuple[Registration, datetime | None]] = [*presences, *_open_ins(caller, workplace_id, day)]
    names = cleaning_worker_names(registration.niss for registration, _ in shown if registration.niss)
    rows = [_row(registration, names, since) for registration, since in shown]
    return Snapshot(workplace_id, day, now, rows, [registration for registration, _ in shown])
