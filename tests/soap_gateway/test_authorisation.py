"""Who may see and do what over SOAP (spec §8): another enterprise's registration is exactly
an unknown one; inspection consults everything, and its reads are in the history."""

import pytest
import zeep
from django.utils import timezone

from history.models import HistoryEvent
from registrations.models import Registration
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import read_fault

pytestmark = pytest.mark.django_db


def _register(service, client):
    (item,) = service.registerPresences(
        PresenceRegistrationRequest=[
            {"INSS": make_niss(), "CompanyID": int(client.enterprise_number), "WorkPlaceId": make_workplace_id()}
        ]
    )
    return item.PresenceRegistration.PresenceRegistrationId


def _search(service, **criteria):
    today = timezone.localdate()
    period = {"RegistrationPeriod": [{"RegistrationPeriodStartDate": today, "RegistrationPeriodEndDate": today}]}
    return service.searchPresences(
        SearchPresenceRequest={"SearchPresenceRegistrationCriteria": {**criteria, "RegistrationPeriodList": period}}
    ).PresenceRegistrationList


def _get(service, registration_id):
    request = {"PresenceRegistrationId": registration_id}
    return service.getPresenceRegistration(GetPresenceRegistrationRequest=request).GetPresenceRegistrationType


@pytest.fixture
def a_registration(zeep_as, credentials_a, client_a):
    return _register(zeep_as(credentials_a), client_a)


def test_enterprise_b_gets_what_an_unknown_id_gives(zeep_as, credentials_b, client_b, a_registration):
    service = zeep_as(credentials_b)
    assert _get(service, a_registration) is None
    assert _get(service, a_registration + 1000) is None


def test_enterprise_b_searches_and_finds_nothing_of_a(zeep_as, credentials_b, client_b, client_a, a_registration):
    service = zeep_as(credentials_b)
    own = _register(service, client_b)
    listing = _search(service)
    assert [r.PresenceRegistrationId for r in listing.PresenceRegistration] == [own]
    assert _search(service, CompanyID=int(client_a.enterprise_number)).PresenceRegistrationResultCount == 0


def test_enterprise_b_cancelling_a_s_registration_gets_unknown_and_changes_nothing(
    zeep_as, credentials_b, client_b, a_registration
):
    service = zeep_as(credentials_b)
    answer = service.cancelPresences(
        CancelPresenceRequest=[
            {"PresenceRegistrationId": a_registration, "CancellationReason": "HOLIDAY"},
            {"PresenceRegistrationId": a_registration + 1000, "CancellationReason": "HOLIDAY"},
        ]
    )
    errors = [item.PresenceRegistrationError.ErrorList.Error[0] for item in answer]
    other_s, unknown = ((e.ErrorCode, e.ErrorDescription) for e in errors)
    assert other_s == unknown
    assert other_s[0] == "7"
    assert Registration.objects.get(pk=a_registration).status == "registered"


def test_inspection_consults_both_enterprises_and_its_reads_are_logged(
    zeep_as, credentials_b, client_b, credentials_inspection, inspection, a_registration
):
    b_registration = _register(zeep_as(credentials_b), client_b)
    service = zeep_as(credentials_inspection)
    found = _search(service)
    assert sorted(r.PresenceRegistrationId for r in found.PresenceRegistration) == [a_registration, b_registration]
    assert _get(service, a_registration).PresenceRegistrationType.PresenceRegistrationId == a_registration
    consulted = HistoryEvent.objects.filter(event_type="registration.consulted", actor=f"client:{inspection.id}")
    assert sorted(consulted.values_list("registration_id", flat=True)) == sorted(
        [a_registration, b_registration, a_registration]
    )


def test_inspection_may_not_cancel(zeep_as, credentials_inspection, inspection, a_registration):
    answer = zeep_as(credentials_inspection).cancelPresences(
        CancelPresenceRequest=[{"PresenceRegistrationId": a_registration, "CancellationReason": "HOLIDAY"}]
    )
    assert answer[0].PresenceRegistrationError.ErrorList.Error[0].ErrorCode == "1"
    assert Registration.objects.get(pk=a_registration).status == "registered"


def test_inspection_may_not_register(zeep_as, credentials_inspection, inspection):
    service = zeep_as(credentials_inspection)
    with pytest.raises(zeep.exceptions.Fault) as raised:
        _register(service, inspection)
    fault = read_fault(raised.value)
    assert (fault.faultstring, fault.code, fault.kind) == ("SOA-01002", "SOA-01002", "BusinessError")
    assert not Registration.objects.exists()
