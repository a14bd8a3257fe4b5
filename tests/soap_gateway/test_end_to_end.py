"""End to end on PostgreSQL: a live server, zeep built from the OFFICIAL WSDL over real HTTP,
every call signed with WS-Security, every response body validated against the official XSD
(by the transport), all four operations in one integrator's day."""

import contextlib
import http.client
from datetime import timedelta
from urllib.parse import urlparse

import pytest
import zeep
from django.utils import timezone

from registrations.models import Registration
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import (
    ENDPOINT,
    OfficialContractTransport,
    TimestampedSignature,
    envelope,
    fault_of,
    official_service,
    read_fault,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def over_http(live_server):
    transports = []

    def build(credentials):
        transport = OfficialContractTransport()
        transports.append(transport)
        return official_service(transport, TimestampedSignature(credentials), live_server.url)[1]

    yield build
    for transport in transports:
        transport.session.close()


def test_an_integrator_s_day_through_the_official_wsdl(over_http, credentials_a, client_a):
    service = over_http(credentials_a)
    company = int(client_a.enterprise_number)
    answer = service.registerPresences(
        PresenceRegistrationRequest=[
            {"INSS": make_niss(), "CompanyID": company, "WorkPlaceId": make_workplace_id()},
            {"LimosaId": "12345678901234567", "WorkPlaceId": make_workplace_id()},
            {"INSS": "00000000000", "CompanyID": company, "WorkPlaceId": make_workplace_id()},
        ]
    )
    first, limosa = (item.PresenceRegistration.PresenceRegistrationId for item in answer[:2])
    assert answer[2].PresenceRegistrationError.ErrorList.Error[0].ErrorCode == "5"

    cancelled = service.cancelPresences(
        CancelPresenceRequest=[{"PresenceRegistrationId": limosa, "CancellationReason": "PLANNING"}]
    )
    assert cancelled[0].PresenceRegistration.LastValidation.Status == "SUCCESSFULLY CANCELLED"

    today = timezone.localdate()
    found = service.searchPresences(
        SearchPresenceRequest={
            "SearchPresenceRegistrationCriteria": {
                "RegistrationPeriodList": {
                    "RegistrationPeriod": [
                        {"RegistrationPeriodStartDate": today, "RegistrationPeriodEndDate": today + timedelta(days=1)}
                    ]
                }
            },
            "SortingProperties": {"SortDirection": "ASCENDING", "SortCriteria": "STATUS"},
        }
    ).PresenceRegistrationList
    assert found.PresenceRegistrationResultCount == 2
    statuses = {r.PresenceRegistrationId: r.LastValidation.Status for r in found.PresenceRegistration}
    assert statuses[limosa] == "SUCCESSFULLY CANCELLED"
    assert statuses[first] in ("FAILED", "VALIDATED")  # validated after commit, in-process

    got = service.getPresenceRegistration(GetPresenceRegistrationRequest={"PresenceRegistrationId": limosa})
    history = got.GetPresenceRegistrationType.PresenceRegistrationType.ValidationHistory.Validation
    assert history[0].Status == "SUCCESSFULLY REGISTERED"
    assert history[-1].Status == "SUCCESSFULLY CANCELLED"
    assert Registration.objects.count() == 2


def test_an_xsd_violation_over_http_is_a_fault_zeep_can_read(over_http, credentials_a, client_a):
    service = over_http(credentials_a)
    with pytest.raises(zeep.exceptions.Fault) as raised:
        service.cancelPresences(CancelPresenceRequest=[{"PresenceRegistrationId": 1, "CancellationReason": "X" * 16}])
    assert read_fault(raised.value).code == "SOA-03006"


def test_a_chunked_body_without_length_is_refused_over_http(live_server, client_a):
    address = urlparse(live_server.url)
    # More than the socket buffers hold: the server answers 411 and closes while the body is
    # still being sent, so the send fails (broken pipe or reset) and the answer is read anyway.
    chunks = iter([envelope("<x>" + "A" * 65536 + "</x>")] * 64)
    with contextlib.closing(http.client.HTTPConnection(address.hostname, address.port, timeout=10)) as connection:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request("POST", ENDPOINT, body=chunks, headers={"Content-Type": "text/xml"}, encode_chunked=True)
        response = connection.getresponse()
        content = response.read()
    assert response.status == 411
    assert fault_of(content).code == "SOA-03001"
    assert not Registration.objects.exists()


def test_a_client_built_from_our_published_wsdl_works_too(live_server, credentials_a, client_a):
    with zeep.Client(
        f"{live_server.url}{ENDPOINT}?wsdl",
        transport=OfficialContractTransport(),
        settings=zeep.Settings(strict=False),
        wsse=TimestampedSignature(credentials_a),
    ) as client:
        (item,) = client.service.registerPresences(
            PresenceRegistrationRequest=[
                {"INSS": make_niss(), "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": make_workplace_id()}
            ]
        )
    assert item.PresenceRegistration.LastValidation.Status == "SUCCESSFULLY REGISTERED"
    assert Registration.objects.count() == 1
