"""Pairing cleaning IN/OUT events into performances (spec §6 performances)."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from registrations.domain.exceptions import InvalidSearchError
from registrations.models import ClientRole, Registration, Status
from registrations.selectors.performances import PerformanceQuery, pair_events, performances_for
from tests.factories import caller_for, make_client, make_enterprise_number, make_niss, make_workplace_id

BRUSSELS = ZoneInfo("Europe/Brussels")
NISS = make_niss()
PLACE = make_workplace_id()
_ids = iter(range(1, 10_000))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=BRUSSELS)


def ev(kind: str, moment: datetime, *, niss: str = NISS, place: str = PLACE, status: str = "registered"):
    """An unsaved registration: pairing reads only these fields."""
    return Registration(
        id=next(_ids),
        niss=niss,
        workplace_id=place,
        event_type=kind,
        event_at=moment,
        status=status,
        enterprise_number="0448181966",
        registration_date=moment.date(),
    )


def test_a_day_with_a_break_counts_the_worked_time_without_the_break():
    events = [ev("IN", at(2, 8)), ev("OUT", at(2, 12)), ev("IN", at(2, 12, 30)), ev("OUT", at(2, 16, 45))]
    [day] = pair_events(events)
    assert (day.day, day.start, day.end) == (date(2026, 3, 2), at(2, 8), at(2, 16, 45))
    assert day.worked == timedelta(hours=8, minutes=15)
    assert not day.is_open
    assert [(p.in_registration_id, p.out_registration_id) for p in day.periods] == [
        (events[0].pk, events[1].pk),
        (events[2].pk, events[3].pk),
    ]


def test_an_in_without_out_stays_open_and_is_never_closed():
    [day] = pair_events([ev("IN", at(2, 8)), ev("OUT", at(2, 10)), ev("IN", at(2, 11))])
    assert day.is_open
    assert day.end is None
    assert day.periods[-1].end is None
    assert day.worked == timedelta(hours=2)  # only the closed period counts


def test_a_night_shift_belongs_to_the_day_it_started():
    [night] = pair_events([ev("IN", at(2, 22)), ev("OUT", at(3, 6))])
    assert night.day == date(2026, 3, 2)
    assert night.worked == timedelta(hours=8)


def test_events_are_paired_per_person_and_place_whatever_their_order():
    other = make_niss()
    events = [
        ev("OUT", at(2, 12), niss=other),
        ev("IN", at(2, 9)),
        ev("IN", at(2, 8), niss=other),
        ev("OUT", at(2, 17)),
    ]
    days = pair_events(events)
    assert [(d.niss, d.worked) for d in days] == [(other, timedelta(hours=4)), (NISS, timedelta(hours=8))]


def test_cancelled_events_and_orphan_outs_are_left_out():
    events = [
        ev("IN", at(2, 8), status=Status.CANCELLED),
        ev("OUT", at(2, 10)),
        ev("IN", at(2, 11)),
        ev("OUT", at(2, 12)),
    ]
    [day] = pair_events(events)
    assert (day.start, day.end) == (at(2, 11), at(2, 12))


@pytest.mark.django_db
def test_performances_are_limited_to_what_the_caller_sees_and_to_the_window():
    mine, theirs = make_enterprise_number(), make_enterprise_number()
    caller = caller_for(make_client(ClientRole.ENTERPRISE, enterprise_number=mine))
    rows = [
        ev("IN", at(2, 22)),
        ev("OUT", at(3, 6)),
        ev("IN", at(4, 8)),
        ev("IN", at(2, 8), niss=make_niss()),
    ]
    for row in rows[:3]:
        row.enterprise_number = mine
    rows[3].enterprise_number = theirs
    for row in rows:
        row.pk = None
        row.sector, row.channel, row.created_at, row.submitted = 4, "REST", row.event_at, {}
        row.dedup_key = f"{row.niss}{row.event_at}"
    Registration.objects.bulk_create(rows)
    days, used = performances_for(
        caller=caller, query=PerformanceQuery(start_date=date(2026, 3, 2), end_date=date(2026, 3, 2))
    )
    assert [(d.niss, d.worked) for d in days] == [(NISS, timedelta(hours=8))]  # the OUT of the 3rd included
    assert {r.event_type for r in used} == {"IN", "OUT"}


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "end"), [(date(2026, 3, 5), date(2026, 3, 4)), (date(2026, 3, 1), date(2026, 4, 1))])
def test_a_bad_window_is_refused(start, end):
    caller = caller_for(make_client(ClientRole.INSPECTION))
    with pytest.raises(InvalidSearchError):
        performances_for(caller=caller, query=PerformanceQuery(start_date=start, end_date=end))
