"""The request log of SOAP calls (issue 16, item 4): every call recorded with its client,
operation, duration, status, fault code and ticket, item outcomes, and its body with every
NISS masked, however the client spelled it."""

import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from registrations.models import Registration
from requestlog.models import RequestLog
from tests.factories import make_niss, make_workplace_id
from tests.requestlog.failing_writes import log_writes_failing
from tests.requestlog.in_clear import assert_no_niss_in_clear
from tests.soap_gateway.conftest import (
    TimestampedSignature,
    envelope,
    fault_of,
    register,
    register_item,
    register_request,
    sign,
)

pytestmark = pytest.mark.django_db


def only_record() -> RequestLog:
    (record,) = RequestLog.objects.all()
    return record


def test_a_register_call_is_recorded_with_its_client_operation_and_item_outcomes(signed_post, client_a):
    niss, workplace = make_niss(), make_workplace_id()
    three_days_ahead = (timezone.localdate() + timedelta(days=3)).isoformat()
    items = [
        register_item(niss=niss, company=client_a.enterprise_number, workplace=workplace),
        register_item(niss="85073003399", company=client_a.enterprise_number, workplace=workplace),  # code 5
        register_item(niss=make_niss(), company=client_a.enterprise_number, workplace=workplace, date=three_days_ahead),
    ]
    response = signed_post(envelope(register_request(items)))

    assert response.status_code == 200
    record = only_record()
    assert response["Ticket-Id"] == str(record.ticket)
    assert (record.client_id, record.channel, record.operation, record.http_status) == (
        client_a.id,
        "soap",
        "registerPresences",
        200,
    )
    assert record.outcome == "itemErrors"
    assert record.error == ""
    assert record.items == {"created": 1, "replayed": 0, "refused": 2, "refusedByCode": {"5": 1, "6": 1}}
    assert record.duration_ms > 0
    assert "RegisterPresencesRequest" in record.request_body
    assert_no_niss_in_clear(record.request_body, niss, "85073003399")


def test_a_resend_is_recorded_as_replayed(signed_post, client_a):
    item = register_item(niss=make_niss(), company=client_a.enterprise_number, workplace=make_workplace_id())
    signed_post(envelope(register_request([item])))
    signed_post(envelope(register_request([item])))

    first, second = RequestLog.objects.order_by("id")
    assert (first.items["created"], first.items["replayed"], first.outcome) == (1, 0, "success")
    assert (second.items["created"], second.items["replayed"], second.outcome) == (0, 1, "success")
    assert Registration.objects.count() == 1


def test_a_cancel_call_counts_the_cancelled_and_the_refused_by_code(signed_post, client_a):
    item = register_item(niss=make_niss(), company=client_a.enterprise_number, workplace=make_workplace_id())
    signed_post(envelope(register_request([item])))
    registration = Registration.objects.get()
    cancels = "".join(
        f"<pr:CancelPresenceRequest><t:PresenceRegistrationId>{pk}</t:PresenceRegistrationId>"
        f"<t:CancellationReason>{reason}</t:CancellationReason></pr:CancelPresenceRequest>"
        for pk, reason in ((registration.pk, "PLANNING"), (999_999, "PLANNING"), (registration.pk, "BORED"))
    )
    response = signed_post(
        envelope(f"<pr:CancelPresencesRequest>{cancels}</pr:CancelPresencesRequest>"), operation="cancelPresences"
    )

    assert response.status_code == 200
    record = RequestLog.objects.get(operation="cancelPresences")
    assert record.items == {"cancelled": 1, "replayed": 0, "refused": 2, "refusedByCode": {"7": 1, "11": 1}}
    assert record.outcome == "itemErrors"


def test_a_fault_is_recorded_with_its_code_and_the_ticket_of_its_detail(signed_post, client_a):
    items = [
        register_item(niss=make_niss(), company=client_a.enterprise_number, workplace=make_workplace_id())
        for _ in range(201)
    ]
    response = signed_post(envelope(register_request(items)))

    fault = fault_of(response.content)
    assert fault.code == "SOA-03006"
    record = only_record()
    assert str(record.ticket) == fault.ticket == response["Ticket-Id"]
    assert (record.client_id, record.operation, record.http_status) == (client_a.id, "registerPresences", 500)
    assert (record.outcome, record.error) == ("error", "SOA-03006")
    assert "SOA-03006" in record.error_body
    assert record.request_body.count("PresenceRegistrationRequest>") == 2 * 201


def test_an_unauthenticated_call_is_recorded_without_a_client_and_without_its_body(post_soap):
    niss = make_niss()
    item = register_item(niss=niss, company="0448181966", workplace=make_workplace_id())
    response = post_soap(envelope(register_request([item])))  # not signed

    fault = fault_of(response.content)
    assert fault.code == "SOA-01001"
    record = only_record()
    assert (record.client_id, record.operation, record.error, str(record.ticket)) == (
        None,
        "registerPresences",
        "SOA-01001",
        fault.ticket,
    )
    assert record.request_body == ""


def test_a_call_over_the_rate_limit_is_recorded_for_its_client(signed_post, client_a, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    caches[settings.REST_THROTTLE_CACHE].clear()
    settings.SOAP_RATE_LIMIT, limit = "1/minute", settings.SOAP_RATE_LIMIT
    try:
        for _ in range(2):
            item = register_item(niss=make_niss(), company=client_a.enterprise_number, workplace=make_workplace_id())
            response = signed_post(envelope(register_request([item])))
    finally:
        settings.SOAP_RATE_LIMIT = limit
    assert response.status_code == 429
    refused = RequestLog.objects.get(http_status=429)
    assert (refused.client_id, refused.error, refused.outcome) == (client_a.id, "SOA-02002", "error")


def test_the_wsdl_is_not_a_call(client):
    assert client.get("/PresenceRegistration/v1?wsdl").status_code == 200
    assert not RequestLog.objects.exists()


# --- redaction: no NISS in clear in a stored body, however it was spelled ------------------


def _respelled(message: bytes, niss: str, spelling: str) -> bytes:
    return message.replace(f"<t:INSS>{niss}</t:INSS>".encode(), f"<t:INSS>{spelling}</t:INSS>".encode())


# Spellings the gateway reads as the plain NISS. Exclusive c14n reads character references,
# CDATA and comments as the plain text, so they are written into the signed message; it signs
# a processing instruction, so that one is written before signing.
SIGNED_SPELLINGS = {
    "decimal references": lambda n: "".join(f"&#{ord(digit)};" for digit in n),
    "hexadecimal references": lambda n: f"{n[:3]}&#x{ord(n[3]):x};&#x00{ord(n[4]):x};{n[5:]}",
    "a comment": lambda n: f"{n[:6]}<!-- the serial -->{n[6:]}",
    "CDATA": lambda n: f"<![CDATA[{n}]]>",
    "CDATA halves": lambda n: f"<![CDATA[{n[:5]}]]><![CDATA[{n[5:]}]]>",
}
UNSIGNED_SPELLINGS = {"a processing instruction": lambda n: f"{n[:2]}<?pi x?>{n[2:]}"}


@pytest.mark.parametrize("spelling", [*SIGNED_SPELLINGS, *UNSIGNED_SPELLINGS])
@pytest.mark.parametrize("kind", ["national", "bis"])
def test_no_niss_in_clear_in_a_stored_body_however_spelled(post_soap, credentials_a, client_a, kind, spelling):
    niss = make_niss() if kind == "national" else make_niss("852130")  # birth month + 20: a BIS number
    message = envelope(
        register_request([register_item(niss=niss, company=client_a.enterprise_number, workplace=make_workplace_id())])
    )
    if spelling in UNSIGNED_SPELLINGS:
        message = sign(
            _respelled(message, niss, UNSIGNED_SPELLINGS[spelling](niss)), TimestampedSignature(credentials_a)
        )
    else:
        message = _respelled(sign(message, TimestampedSignature(credentials_a)), niss, SIGNED_SPELLINGS[spelling](niss))
    response = post_soap(message)

    assert response.status_code == 200
    assert Registration.objects.get().niss == niss  # the gateway read it as this NISS
    record = only_record()
    assert record.client_id == client_a.id
    assert_no_niss_in_clear(record.request_body, niss)


@pytest.mark.parametrize("separator", [".", "-", " ", " - "])
def test_no_niss_in_clear_with_separators_in_a_stored_body(signed_post, client_a, separator):
    niss = make_niss()
    printed = separator.join((niss[:2], niss[2:4], niss[4:6], niss[6:9], niss[9:]))
    item = register_item(niss=printed, company=client_a.enterprise_number, workplace=make_workplace_id())
    response = signed_post(envelope(register_request([item])))

    assert fault_of(response.content).code == "SOA-03006"  # the contract's INSS is 11 digits
    record = only_record()
    assert record.client_id == client_a.id  # authenticated: the body is kept
    assert printed.split(separator)[0] in record.request_body or "niss#" in record.request_body
    assert_no_niss_in_clear(record.request_body + record.error_body, niss)


def test_a_failing_log_write_neither_fails_the_call_nor_rolls_its_registrations_back(
    transactional_db, credentials_a, post_soap, caplog
):
    client = register(credentials_a)
    caplog.set_level(logging.ERROR, logger="requestlog.services")
    items = [
        register_item(niss=make_niss(), company=client.enterprise_number, workplace=make_workplace_id())
        for _ in range(2)
    ]

    with log_writes_failing():
        response = post_soap(sign(envelope(register_request(items)), TimestampedSignature(credentials_a)))

    assert response.status_code == 200
    assert Registration.objects.filter(sender_id=client.pk).count() == 2  # committed, and kept
    assert not RequestLog.objects.exists()
    [line] = [record.getMessage() for record in caplog.records if record.name == "requestlog.services"]
    assert response["Ticket-Id"] in line
    assert "registerPresences" in line
