"""Authentication: WS-Security X.509 signatures (Body + Timestamp, RSA-SHA256) mapped to a
registered client, or a certificate passed by a trusted TLS proxy. Every refusal is SOA-01001
with its reason in our log only; no unauthenticated call reaches a service."""

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import xmlsec
from django.db import OperationalError
from lxml import etree
from zeep.wsse.signature import BinarySignature

from registrations.models import Registration
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import (
    SOAP_ENV,
    TimestampedSignature,
    envelope,
    fault_of,
    make_credentials,
    register,
    register_item,
    register_request,
    sign,
)

pytestmark = pytest.mark.django_db
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


def request_for(client) -> bytes:
    item = register_item(niss=make_niss(), company=client.enterprise_number, workplace=make_workplace_id())
    return envelope(register_request([item]))


def assert_not_authenticated(response, caplog, reason):
    fault = fault_of(response.content)
    assert (response.status_code, fault.code, fault.faultstring) == (500, "SOA-01001", "SOA-01001")
    assert fault.message == "Service call not authenticated."  # the reason stays in our log
    assert reason in caplog.text
    assert fault.ticket in caplog.text
    assert not Registration.objects.exists()


def test_a_signed_call_is_bound_to_the_certificate_s_client(post_soap, client_a, credentials_a):
    response = post_soap(sign(request_for(client_a), TimestampedSignature(credentials_a)))
    assert response.status_code == 200
    stored = Registration.objects.get()
    assert (stored.sender_id, stored.sender_enterprise_number) == (client_a.id, client_a.enterprise_number)


def test_an_unsigned_call_is_refused(post_soap, client_a, caplog):
    assert_not_authenticated(post_soap(request_for(client_a)), caplog, "wsse:Security")


def test_a_body_changed_after_signing_is_refused(post_soap, client_a, credentials_a, caplog):
    signed = sign(request_for(client_a), TimestampedSignature(credentials_a))
    tampered = signed.replace(client_a.enterprise_number.lstrip("0").encode(), b"448181966")
    assert tampered != signed
    assert_not_authenticated(post_soap(tampered), caplog, "signature invalid")


def test_a_certificate_not_registered_is_refused(post_soap, client_a, credentials_b, caplog):
    response = post_soap(sign(request_for(client_a), TimestampedSignature(credentials_b)))
    assert_not_authenticated(response, caplog, "no active client")


def test_an_inactive_client_is_refused(post_soap, client_a, credentials_a, caplog):
    client_a.is_active = False
    client_a.save(update_fields=["is_active"])
    response = post_soap(sign(request_for(client_a), TimestampedSignature(credentials_a)))
    assert_not_authenticated(response, caplog, "no active client")


def test_an_expired_certificate_is_refused(post_soap, credentials_dir, caplog):
    expired = make_credentials(credentials_dir, "expired", not_before=datetime.now(UTC) - timedelta(days=400), days=30)
    client = register(expired)
    response = post_soap(sign(request_for(client), TimestampedSignature(expired)))
    assert_not_authenticated(response, caplog, "validity period")


@pytest.mark.parametrize(
    ("offset", "ttl", "reason"),
    [
        (timedelta(minutes=-10), 300, "too old"),
        (timedelta(minutes=-6), 900, "too old"),  # Expires still ahead: age decides
        (timedelta(minutes=10), 300, "in the future"),
        (timedelta(minutes=-4), 60, "expired"),
    ],
    ids=["10-min-old", "6-min-old-not-expired", "future", "expires-passed"],
)
def test_a_timestamp_out_of_its_window_is_refused(post_soap, client_a, credentials_a, caplog, offset, ttl, reason):
    signer = TimestampedSignature(credentials_a, created_offset=offset, ttl=ttl)
    assert_not_authenticated(post_soap(sign(request_for(client_a), signer)), caplog, reason)


def test_a_signature_without_timestamp_is_refused(post_soap, client_a, credentials_a, caplog):
    signer = BinarySignature(
        str(credentials_a.key_path),
        str(credentials_a.cert_path),
        signature_method=xmlsec.constants.TransformRsaSha256,
        digest_method=xmlsec.constants.TransformSha256,
    )
    assert_not_authenticated(post_soap(sign(request_for(client_a), signer)), caplog, "wsu:Timestamp")


def test_sha1_signatures_are_refused(post_soap, client_a, credentials_a, caplog):
    signer = TimestampedSignature(
        credentials_a, signature_method=xmlsec.constants.TransformRsaSha1, digest_method=xmlsec.constants.TransformSha1
    )
    assert_not_authenticated(post_soap(sign(request_for(client_a), signer)), caplog, "rsa-sha256")


def test_a_decoy_reusing_the_timestamp_id_is_refused(post_soap, client_a, credentials_a, caplog):
    signed = etree.fromstring(sign(request_for(client_a), TimestampedSignature(credentials_a)))
    timestamp = signed.find(f".//{{{WSU}}}Timestamp")
    decoy = etree.SubElement(signed.find(f"{{{SOAP_ENV}}}Header"), "Decoy")
    decoy.set(f"{{{WSU}}}Id", timestamp.get(f"{{{WSU}}}Id"))
    assert_not_authenticated(post_soap(etree.tostring(signed)), caplog, "an id is used by two elements")


# --- trusted proxy --------------------------------------------------------------------------


def proxy_header(credentials):
    return {"HTTP_X_SSL_CLIENT_CERT": quote(credentials.cert_pem)}


def test_a_trusted_proxy_s_certificate_authenticates_an_unsigned_call(post_soap, settings, client_a, credentials_a):
    settings.SOAP_TRUSTED_PROXIES = ["127.0.0.1"]
    response = post_soap(request_for(client_a), **proxy_header(credentials_a))
    assert response.status_code == 200
    assert Registration.objects.get().sender_id == client_a.id


def test_a_certificate_header_from_an_untrusted_address_is_refused(
    post_soap, settings, client_a, credentials_a, caplog
):
    settings.SOAP_TRUSTED_PROXIES = ["10.1.2.3"]
    signed = sign(request_for(client_a), TimestampedSignature(credentials_a))
    response = post_soap(signed, **proxy_header(credentials_a))
    assert_not_authenticated(response, caplog, "not a trusted proxy")


def test_a_trusted_proxy_passing_an_unregistered_certificate_is_refused(
    post_soap, settings, client_a, credentials_b, caplog
):
    settings.SOAP_TRUSTED_PROXIES = ["127.0.0.1"]
    response = post_soap(request_for(client_a), **proxy_header(credentials_b))
    assert_not_authenticated(response, caplog, "no active client")


def test_without_trusted_proxies_the_header_is_never_trusted(post_soap, client_a, credentials_a, caplog):
    response = post_soap(request_for(client_a), **proxy_header(credentials_a))
    assert_not_authenticated(response, caplog, "not a trusted proxy")


# --- provider-side faults -------------------------------------------------------------------


def test_a_database_outage_is_a_retryable_fault(signed_post, client_a, monkeypatch, caplog):
    def unavailable(**_):
        raise OperationalError("connection refused")

    monkeypatch.setattr("soap_gateway.services.registration_submit_batch", unavailable)
    response = signed_post(request_for(client_a))
    fault = fault_of(response.content)
    assert (fault.code, fault.retry, fault.faultcode) == ("SOA-02002", "true", "soap11env:Server")
    assert fault.ticket in caplog.text


def test_an_unexpected_error_is_a_provider_fault_that_leaks_nothing(signed_post, client_a, monkeypatch, caplog):
    def broken(**_):
        raise RuntimeError("internal detail 85073003328")

    monkeypatch.setattr("soap_gateway.services.registration_submit_batch", broken)
    response = signed_post(request_for(client_a))
    fault = fault_of(response.content)
    assert (fault.code, fault.retry) == ("SOA-02001", "false")
    assert b"internal detail" not in response.content
    assert fault.ticket in caplog.text


def test_no_niss_reaches_the_log(signed_post, client_a, caplog):
    caplog.set_level(logging.INFO)
    niss = make_niss()
    good = register_item(niss=niss, company=client_a.enterprise_number, workplace=make_workplace_id())
    signed_post(envelope(register_request([good])))
    bad = register_item(niss=niss + "1", company=client_a.enterprise_number, workplace=make_workplace_id())
    assert fault_of(signed_post(envelope(register_request([bad]))).content).code == "SOA-03006"
    assert niss not in caplog.text


@pytest.mark.parametrize("inss", ["850730033281", "8507300332A", "1" * 40])
def test_a_schema_fault_names_the_element_and_the_rule_never_the_value(signed_post, client_a, inss):
    """The caller's INSS (a NISS one digit too long, a letter in it) is not repeated in the
    fault: a fault is an exception message that proxies and client logs keep."""
    bad = register_item(niss=inss, company=client_a.enterprise_number, workplace=make_workplace_id())
    response = signed_post(envelope(register_request([bad])))
    fault = fault_of(response.content)
    assert fault.code == "SOA-03006"
    assert inss.encode() not in response.content
    assert b"INSS" in response.content
    assert Registration.objects.count() == 0


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("registerPresences", None),
        (
            "cancelPresences",
            "<pr:CancelPresencesRequest><pr:CancelPresenceRequest><t:PresenceRegistrationId>1</t:PresenceRegistrationId>"
            "<t:CancellationReason>HOLIDAY</t:CancellationReason></pr:CancelPresenceRequest></pr:CancelPresencesRequest>",
        ),
        (
            "searchPresences",
            "<pr:SearchPresencesRequest><pr:SearchPresenceRequest><t:SearchPresenceRegistrationCriteria>"
            "<t:RegistrationPeriodList><t:RegistrationPeriod><t:RegistrationPeriodStartDate>2026-11-26"
            "</t:RegistrationPeriodStartDate><t:RegistrationPeriodEndDate>2026-11-26</t:RegistrationPeriodEndDate>"
            "</t:RegistrationPeriod></t:RegistrationPeriodList></t:SearchPresenceRegistrationCriteria>"
            "</pr:SearchPresenceRequest></pr:SearchPresencesRequest>",
        ),
        (
            "getPresenceRegistration",
            "<pr:GetPresenceRegistrationRequest><pr:GetPresenceRegistrationRequest><t:PresenceRegistrationId>1"
            "</t:PresenceRegistrationId></pr:GetPresenceRegistrationRequest></pr:GetPresenceRegistrationRequest>",
        ),
    ],
)
def test_no_unauthenticated_call_reaches_a_service(post_soap, client_a, monkeypatch, caplog, operation, body):
    def reached(**_):
        raise AssertionError("a service was called")

    for name in ("registration_submit_batch", "registration_cancel_batch", "registration_search", "registration_get"):
        monkeypatch.setattr(f"soap_gateway.services.{name}", reached)
    data = envelope(body) if body else request_for(client_a)
    assert_not_authenticated(post_soap(data, operation=operation), caplog, "wsse:Security")


def test_no_request_body_is_logged_even_with_spyne_at_debug(signed_post, post_soap, client_a, caplog):
    """Spyne logs raw bodies on its syntax-error and debug paths; ours never go there."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="spyne")
    niss = make_niss()
    item = register_item(niss=niss, company=client_a.enterprise_number, workplace=make_workplace_id())
    signed_post(envelope(register_request([item])))
    post_soap(envelope(register_request([item]))[:-20])  # not well-formed
    post_soap(envelope(register_request([item.replace(niss, niss + "1")])))  # unsigned and invalid
    assert niss not in caplog.text
