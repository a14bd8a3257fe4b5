"""The search window `registrationDate` (POST) and `registrationDateFrom/To` (GET): plain
dates are whole days in Brussels; RFC 3339 date-times with an offset are instants, and the
event moment must lie between them (inclusive); a date-time without an offset is refused."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from registrations.models import Channel, Sector
from tests.operators.conftest import make_registration

pytestmark = pytest.mark.django_db

# Around 1 April 2027 (Brussels is at +02:00 then): the window below, written at +14:00 and
# at -12:00, starts at 2027-03-31T10:00Z and ends at 2027-04-02T11:59:59Z.
MOMENTS = {
    "before": datetime(2027, 3, 31, 9, 59, 59, tzinfo=UTC),
    "first": datetime(2027, 3, 31, 10, 0, tzinfo=UTC),
    "middle": datetime(2027, 4, 1, 12, 0, tzinfo=UTC),
    "last": datetime(2027, 4, 2, 11, 59, 59, tzinfo=UTC),
    "after": datetime(2027, 4, 2, 12, 0, tzinfo=UTC),
}
START, END = "2027-04-01T00:00:00+14:00", "2027-04-01T23:59:59-12:00"


@pytest.fixture
def events(employer):
    """A cleaning IN of the `api` client's employer at each moment, by name (stored as the
    REST admission stores them: the registration date is the Brussels day of the moment)."""
    return {
        name: make_registration(
            sector=Sector.CLEANING,
            channel=Channel.REST,
            event_type="IN",
            event_at=moment,
            registration_date=timezone.localtime(moment).date(),
            enterprise_number=employer.enterprise_number,
        ).pk
        for name, moment in MOMENTS.items()
    }


def _list(api, start, end):
    return api.get("/presenceRegistrations", {"registrationDateFrom": start, "registrationDateTo": end})


def _search(api, start, end):
    return api.post(
        "/presenceRegistrations/search", {"criteria": {"registrationDate": {"startDate": start, "endDate": end}}}
    )


def _both(api, start, end):
    """The ids found by GET and by POST for the same window."""
    listed, searched = _list(api, start, end), _search(api, start, end)
    assert listed.status_code == searched.status_code == 200, (listed.content, searched.content)
    return sorted(item["id"] for item in listed.json()["items"]), sorted(
        item["id"] for item in searched.json()["items"]
    )


def _named(events, *names):
    return sorted(events[name] for name in names)


def test_a_window_of_instants_with_far_offsets_holds_exactly_its_moments_inclusive(api, events):
    listed, searched = _both(api, START, END)
    assert listed == searched == _named(events, "first", "middle", "last")


def test_the_same_instants_in_utc_find_the_same(api, events):
    listed, searched = _both(api, "2027-03-31T10:00:00Z", "2027-04-02T11:59:59Z")
    assert listed == searched == _named(events, "first", "middle", "last")


def test_plain_dates_are_whole_days_in_brussels(api, events):
    # 2027-04-01 in Brussels: from 2027-03-31T22:00Z to 2027-04-01T21:59:59.999999Z.
    listed, searched = _both(api, "2027-04-01", "2027-04-01")
    assert listed == searched == _named(events, "middle")
    listed, searched = _both(api, "2027-03-31", "2027-04-02")
    assert listed == searched == _named(events, *MOMENTS)


def test_a_date_as_start_is_its_first_instant_and_as_end_its_last(api, events):
    listed, searched = _both(api, "2027-03-31", "2027-04-01T14:00:00+02:00")
    assert listed == searched == _named(events, "before", "first", "middle")
    listed, searched = _both(api, "2027-04-01T14:00:00+02:00", "2027-04-02")
    assert listed == searched == _named(events, "middle", "last", "after")


def test_a_date_time_without_an_offset_is_refused_naming_it(api):
    listed = _list(api, "2027-04-01T00:00:00", END)
    searched = _search(api, START, "2027-04-01T23:59:59")
    for response, name, location in (
        (listed, "registrationDateFrom", "query"),
        (searched, "criteria.registrationDate.endDate", "body"),
    ):
        assert response.status_code == 400
        [issue] = response.json()["issues"]
        assert (issue["name"], issue["in"]) == (name, location)
        assert "offset" in issue["detail"]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2027-04-02", "2027-04-01"),
        ("2027-04-01T12:00:00+02:00", "2027-04-01T11:59:59+02:00"),
        ("2027-04-01T00:00:00-12:00", "2027-04-01T23:59:59+14:00"),  # the same day, earlier in time
        ("2027-04-02", "2027-04-01T23:59:59+02:00"),
    ],
)
def test_a_window_that_ends_before_it_starts_is_an_invalid_period_in_both(api, start, end):
    listed, searched = _list(api, start, end), _search(api, start, end)
    for response, name in ((listed, "registrationDateTo"), (searched, "criteria.registrationDate")):
        assert response.status_code == 400
        [issue] = response.json()["issues"]
        assert (issue["type"].rsplit(":", 1)[-1], issue["name"]) == ("invalidPeriod", name)


@pytest.mark.parametrize("bound", ["2027-04-31", "2027-04-01T25:00:00+02:00", "yesterday", "2027-04-01T00:00:00+2"])
def test_a_bound_that_is_neither_a_date_nor_a_date_time_is_refused(api, bound):
    response = _list(api, bound, "2027-04-01")
    assert response.status_code == 400
    assert [issue["name"] for issue in response.json()["issues"]] == ["registrationDateFrom"]


def test_a_window_at_the_edges_of_the_calendar_is_answered(api, events):
    listed, searched = _both(api, "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00")
    assert listed == searched == _named(events, *MOMENTS)
