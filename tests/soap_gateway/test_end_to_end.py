"""End to end on PostgreSQL: a live server, zeep built from the OFFICIAL WSDL over real HTTP,
every call signed with WS-Security, every response body validated against the official XSD
(by the transport), all four operations in one integrator's day."""

import http.client
import socket
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
    """The answer comes before the body is read: the client sends the headers and a first
    chunk only (streaming the rest raced the server closing the connection: broken pipe)."""
    address = urlparse(live_server.url)
    chunk = envelope("<x>" + "A" * 65536 + "</x>")
    head = (
        f"POST {ENDPOINT} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: text/xml\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    with socket.create_connection((address.hostname, address.port), timeout=10) as connection:
        connection.sendall(head.encode() + f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        response = http.client.HTTPResponse(connection)
        response.begin()
        content = response.read()
    assert response.status == 411
    assert fault_of(content).code == "SOA-03001"
    assert not Registration.objects.exists()


def test_a_client_built_from_our_published_wsdl_works_too(live_server, credentials_a, client_a):
    transport = OfficialContractTransport()
    client = zeep.Client(
        f"{live_server.url}{ENDPOINT}?wsdl",
        transport=transport,
        settings=zeep.Settings(strict=False),
        wsse=TimestampedSignature(credentials_a),
    )
    (item,) = client.service.registerPresences(
        PresenceRegistrationRequest=[
            {"INSS": make_niss(), "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": make_workplace_id()}
        ]
    )
    transport.session.close()
    assert item.PresenceRegistration.LastValidation.Status == "SUCCESSFULLY REGISTERED"
    assert Registration.objects.count() == 1
