"""SOAP dates at the ends of the calendar (xs:date / xs:dateTime from 0001-01-01 to
9999-12-31, with any zone) are ordinary input: an answer or a per-item error, never a
provider fault. zeep writes year 1 as "1-01-01", so those values are sent as text."""

import pytest

from registrations.models import Registration
from tests.factories import make_niss, make_workplace_id

pytestmark = pytest.mark.django_db

WHOLE_CALENDAR = {
    "RegistrationPeriod": [{"RegistrationPeriodStartDate": "0001-01-01", "RegistrationPeriodEndDate": "9999-12-31"}]
}


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_registering_for_a_day_at_either_end_of_the_calendar_is_an_item_error(zeep_as, credentials_a, client_a, day):
    item = {"INSS": make_niss(), "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": make_workplace_id()}
    (answer,) = zeep_as(credentials_a).registerPresences(
        PresenceRegistrationRequest=[{**item, "RegistrationDate": day}]
    )
    assert [error.ErrorCode for error in answer.PresenceRegistrationError.ErrorList.Error] == ["6"]
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("0001-01-01T00:00:00", None),  # Brussels time: before year 1 in UTC
        ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"),  # both outside the calendar in UTC
        (None, "9999-12-31T23:59:59.999999-12:00"),
    ],
    ids=["brussels-first-moment", "zones-outside-utc", "last-moment-west"],
)
def test_a_creation_window_reaching_past_the_calendar_finds_every_registration(
    zeep_as, credentials_a, client_a, start, end
):
    service = zeep_as(credentials_a)
    service.registerPresences(
        PresenceRegistrationRequest=[
            {"INSS": make_niss(), "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": make_workplace_id()}
        ]
    )
    criteria = {"RegistrationPeriodList": WHOLE_CALENDAR, "CreationStartDate": start, "CreationEndDate": end}
    answer = service.searchPresences(SearchPresenceRequest={"SearchPresenceRegistrationCriteria": criteria})
    assert answer.PresenceRegistrationList.PresenceRegistrationResultCount == 1
