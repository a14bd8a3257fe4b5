"""Dates at the ends of the calendar (9999-12-31, 0001-01-01) are ordinary client input:
every operation that widens a client's day to the next one answers them, never a 500."""

from datetime import UTC, date, datetime

import pytest

from history.events import EventType
from history.services import NewEvent, history_record_many
from registrations.models import ClientRole, Registration, Status
from tests.rest_gateway.conftest import Api, event, rest_client, token_for

pytestmark = pytest.mark.django_db

LAST_DAY = date.max.isoformat()
FIRST_DAY = date.min.isoformat()


@pytest.fixture
def last_day_in(api, employer):
    """An IN of the `api` client's enterprise at noon (UTC) on 9999-12-31, stored as an
    operator's correction could store it: a new registration, copied from one registered
    today (a registration's date never changes, docs/adr/0018)."""
    response = api.register(event(enterprise_number=employer.enterprise_number))
    original = Registration.objects.get(pk=response.json()["items"][0]["createdPresenceRegistration"]["id"])
    copied = {field.attname: getattr(original, field.attname) for field in Registration._meta.concrete_fields}
    copied.pop("id")
    last = Registration.objects.create(
        **{
            **copied,
            "registration_date": date.max,
            "event_at": datetime(9999, 12, 31, 12, tzinfo=UTC),
            "dedup_key": f"{original.dedup_key}|last-day",
        }
    )
    history_record_many(
        [NewEvent(registration_id=last.pk, event_type=EventType.CREATED, actor="test", channel=last.channel)],
        new_chains=True,
    )
    return last


@pytest.mark.parametrize("day", [LAST_DAY, FIRST_DAY])
def test_performances_of_a_day_at_either_end_of_the_calendar_are_answered(api, day):
    by_query = api.get("/performances", {"startDate": day, "endDate": day})
    by_body = api.post("/performances/search", {"startDate": day, "endDate": day})
    for response in (by_query, by_body):
        assert response.status_code == 200, response.content
        assert response.json()["items"] == []


def test_the_performance_of_the_last_day_of_the_calendar_is_shown(api, last_day_in):
    response = api.get("/performances", {"startDate": LAST_DAY, "endDate": LAST_DAY})
    assert response.status_code == 200, response.content
    (performance,) = response.json()["items"]
    assert (performance["date"], performance["open"]) == (LAST_DAY, True)
    assert performance["periods"][0]["inRegistrationId"] == last_day_in.pk


def test_the_inspection_snapshot_of_the_last_day_of_the_calendar_is_shown(client, key, last_day_in):
    inspection = Api(client, token_for(client, rest_client(key, ClientRole.INSPECTION), key))
    response = inspection.get("/inspection/snapshot", {"workplaceId": last_day_in.workplace_id, "date": LAST_DAY})
    assert response.status_code == 200, response.content
    assert [row["id"] for row in response.json()["items"]] == [last_day_in.pk]


def test_a_registration_dated_the_last_day_of_the_calendar_can_be_cancelled(api, last_day_in):
    response = api.post(
        "/presenceRegistrations/cancelInBulk", {"items": [{"id": last_day_in.pk, "reason": "PLANNING"}]}
    )
    assert response.status_code == 200, response.content
    assert "cancelledPresenceRegistration" in response.json()["items"][0]
    assert Registration.objects.get(pk=last_day_in.pk).status == Status.CANCELLED
