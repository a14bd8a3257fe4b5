"""Bad inputs 1-14 (../shared/notes/bad-inputs.md): each is a SOAP fault with its platform
code, an XML answer valid against the official errors schema (never an HTML page), a ticket
that is in our log, and nothing stored."""

import contextlib
import logging
import socket
import threading
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone
from lxml import etree

from history.models import HistoryEvent
from registrations.models import Client, Registration
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import (
    SOAP_ENV,
    TimestampedSignature,
    envelope,
    fault_of,
    register_item,
    register_request,
    sign,
)

pytestmark = pytest.mark.django_db


def assert_refused(response, code, caplog=None, status=500):
    """The fault, its code, its ticket in our log, and no registration or event written."""
    assert response.status_code == status
    fault = fault_of(response.content)
    assert (fault.faultstring, fault.code) == (code, code)
    assert fault.ticket
    if caplog is not None:
        assert fault.ticket in caplog.text
    assert not Registration.objects.exists()
    assert not HistoryEvent.objects.exists()
    return fault


def one_item(client, **kw):
    return register_item(niss=make_niss(), company=client.enterprise_number, workplace=make_workplace_id(), **kw)


def with_doctype(doctype: str, inss: str = "85073003328") -> bytes:
    body = register_request([register_item(niss=inss, company="0448181966", workplace="1Y1000NF9KCQZ")])
    return f'<?xml version="1.0"?>\n{doctype}\n'.encode() + envelope(body)


def test_1_billion_laughs_is_refused(post_soap, caplog):
    levels = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    data = with_doctype(f"<!DOCTYPE e [{''.join(levels)}]>", inss="&l9;")
    assert_refused(post_soap(data), "SOA-03001", caplog)


def test_2_quadratic_blowup_is_refused(post_soap):
    data = with_doctype(f'<!DOCTYPE e [<!ENTITY big "{"x" * 100_000}">]>', inss="&big;" * 20_000)
    assert_refused(post_soap(data), "SOA-03001")


def test_3_xxe_file_entity_is_refused_and_the_file_appears_nowhere(post_soap, caplog):
    caplog.set_level(logging.DEBUG)
    data = with_doctype('<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', inss="&xxe;")
    response = post_soap(data)
    assert_refused(response, "SOA-03001", caplog)
    assert b"root:" not in response.content
    assert "root:" not in caplog.text


@pytest.fixture
def listener():
    """A loopback socket that records whether anything connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    connections = []

    def accept():
        with contextlib.suppress(OSError):
            connections.append(server.accept())

    thread = threading.Thread(target=accept)
    thread.start()
    yield server.getsockname()[1], connections, thread
    server.close()
    thread.join()
    for connection, _ in connections:
        connection.close()


@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE e [<!ENTITY % ext SYSTEM "http://127.0.0.1:{port}/x.dtd"> %ext;]>',
        '<!DOCTYPE e SYSTEM "http://127.0.0.1:{port}/external.dtd">',
        '<!DOCTYPE e [<!ENTITY remote SYSTEM "http://127.0.0.1:{port}/v">]>',
    ],
    ids=["parameter-entity", "external-dtd", "external-entity"],
)
def test_4_external_dtds_and_entities_are_refused_without_a_connection(post_soap, listener, doctype):
    port, connections, thread = listener
    response = post_soap(with_doctype(doctype.format(port=port), inss="&remote;" if "remote" in doctype else "1"))
    thread.join()
    assert_refused(response, "SOA-03001")
    assert connections == []


def test_5_any_doctype_is_refused(post_soap, client_a, credentials_a):
    body = envelope(register_request([one_item(client_a)]))
    signed = sign(body, TimestampedSignature(credentials_a))
    fault = assert_refused(post_soap(b"<!DOCTYPE Envelope>\n" + signed), "SOA-03001")
    assert "DOCTYPE" in fault.message


def test_6_deep_nesting_is_refused(post_soap):
    data = envelope("<a>" * 5000 + "</a>" * 5000)
    assert_refused(post_soap(data), "SOA-03001")


@pytest.mark.parametrize("size", [11 * 1024 * 1024, 2 * 1024 * 1024 + 1])
def test_7_an_oversized_body_is_refused_before_parsing(post_soap, size):
    text_node = envelope("<x>" + "A" * size + "</x>")
    assert_refused(post_soap(text_node), "SOA-03001", status=413)


def test_8_a_body_without_content_length_is_refused(post_soap):
    data = envelope("<x>" + "A" * (3 * 1024 * 1024) + "</x>")
    response = post_soap(data, CONTENT_LENGTH="", HTTP_TRANSFER_ENCODING="chunked")
    assert_refused(response, "SOA-03001", status=411)


@pytest.mark.parametrize("count", [0, 201])
def test_9_zero_or_more_than_200_items_is_a_schema_fault(signed_post, client_a, count):
    data = envelope(register_request([one_item(client_a) for _ in range(count)]))
    fault = assert_refused(signed_post(data), "SOA-03006")
    assert fault.kind == "SystemError"


def test_9_an_xsd_violation_in_the_last_item_fails_the_whole_call(signed_post, client_a):
    items = [one_item(client_a) for _ in range(199)]
    items.append(register_item(niss="850730033281", company=client_a.enterprise_number, workplace="1Y1000NF9KCQZ"))
    assert_refused(signed_post(envelope(register_request(items))), "SOA-03006")


def test_10_a_declared_encoding_that_lies_is_malformed(post_soap, client_a):
    data = b'<?xml version="1.0" encoding="UTF-16"?>' + envelope(register_request([one_item(client_a)]))
    assert_refused(post_soap(data), "SOA-03001")


def test_10_a_charset_header_that_lies_changes_nothing_about_the_doctype_refusal(post_soap):
    data = with_doctype('<!DOCTYPE e [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', inss="&xxe;")
    assert_refused(post_soap(data, content_type="text/xml; charset=utf-16"), "SOA-03001")


def test_10_a_latin1_document_is_read_as_declared(post_soap, client_a, credentials_a):
    tree = etree.fromstring(envelope(register_request([one_item(client_a, ref="Café")])))
    TimestampedSignature(credentials_a).apply(tree, {})
    data = etree.tostring(tree, encoding="ISO-8859-1", xml_declaration=True)
    response = post_soap(data, content_type="text/xml; charset=utf-8")
    assert response.status_code == 200
    assert Registration.objects.get().client_reference == "Café"


def test_11_a_wrong_soapaction_is_refused(signed_post, client_a):
    data = envelope(register_request([one_item(client_a)]))
    assert_refused(signed_post(data, operation="cancelPresences"), "SOA-03001")


@pytest.mark.parametrize("content_type", ["application/json", "application/soap+xml; charset=utf-8"])
def test_11_a_wrong_content_type_is_not_soap(signed_post, client_a, content_type):
    data = envelope(register_request([one_item(client_a)]))
    assert_refused(signed_post(data, content_type=content_type), "SOA-03002")


def test_11_a_soap12_envelope_is_not_soap11(post_soap):
    data = b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><x/></e:Body></e:Envelope>'
    fault = assert_refused(post_soap(data), "SOA-03002")
    assert "SOAP 1.2" in fault.message


def test_11_an_envelope_without_body_content_is_refused(post_soap):
    assert_refused(post_soap(envelope("")), "SOA-03003")


@pytest.fixture
def trusted_proxy(settings, credentials_a):
    """Trusted-proxy mode: the test client's address is a proxy that verified A's certificate."""
    settings.SOAP_TRUSTED_PROXIES = ["127.0.0.1"]
    return {"HTTP_X_SSL_CLIENT_CERT": quote(credentials_a.cert_pem)}


def test_12_comments_pis_and_cdata_around_values_are_stripped(post_soap, client_a, trusted_proxy):
    niss = make_niss()
    item = (
        "<pr:PresenceRegistrationRequest>"
        f"<t:INSS><!-- c -->{niss[:5]}<?pi x?>{niss[5:]}</t:INSS>"
        f"<t:CompanyID>{int(client_a.enterprise_number)}</t:CompanyID>"
        "<t:WorkPlaceId><![CDATA[1Y1000NF9KCQZ]]></t:WorkPlaceId>"
        "</pr:PresenceRegistrationRequest>"
    )
    response = post_soap(envelope(register_request([item])), **trusted_proxy)
    assert response.status_code == 200
    stored = Registration.objects.get()
    assert (stored.niss, stored.workplace_id) == (niss, "1Y1000NF9KCQZ")


def test_12_a_comment_does_not_hide_an_invalid_value(post_soap, client_a, trusted_proxy):
    item = register_item(niss="8507300<!-- -->33281", company=client_a.enterprise_number, workplace="1Y1000NF9KCQZ")
    assert_refused(post_soap(envelope(register_request([item])), **trusted_proxy), "SOA-03006")


def unsigned_request_element(client):
    return etree.fromstring(envelope(register_request([one_item(client)])))[1][0]


def test_13_a_second_body_before_the_signed_one_is_refused(post_soap, client_a, credentials_a):
    signed = etree.fromstring(
        sign(envelope(register_request([one_item(client_a)])), TimestampedSignature(credentials_a))
    )
    intruder = etree.Element(f"{{{SOAP_ENV}}}Body")
    intruder.append(unsigned_request_element(client_a))
    signed.insert(1, intruder)
    assert_refused(post_soap(etree.tostring(signed)), "SOA-03001")


def test_13_a_duplicated_namespace_declaration_is_malformed(post_soap):
    data = f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:soapenv="{SOAP_ENV}"><soapenv:Body/></soapenv:Envelope>'
    assert_refused(post_soap(data.encode()), "SOA-03001")


def test_13_signature_wrapping_is_refused(post_soap, client_a, credentials_a):
    """The signed Body moves into a Header wrapper and an unsigned Body takes its place."""
    signed = etree.fromstring(
        sign(envelope(register_request([one_item(client_a)])), TimestampedSignature(credentials_a))
    )
    header, body = signed.find(f"{{{SOAP_ENV}}}Header"), signed.find(f"{{{SOAP_ENV}}}Body")
    wrapper = etree.SubElement(header, "Wrapper")
    wrapper.append(body)
    forged = etree.SubElement(signed, f"{{{SOAP_ENV}}}Body", dict(body.attrib))  # reuses the signed Id
    forged.append(unsigned_request_element(client_a))
    assert_refused(post_soap(etree.tostring(signed)), "SOA-03001")


def test_14_a_stale_timestamp_is_refused(post_soap, client_a, credentials_a, caplog):
    old = TimestampedSignature(credentials_a, created_offset=-timedelta(minutes=6), ttl=600)
    data = sign(envelope(register_request([one_item(client_a)])), old)
    assert_refused(post_soap(data), "SOA-01001", caplog)
    assert "too old" in caplog.text


def test_14_a_replayed_message_is_refused(post_soap, client_a, credentials_a, caplog):
    data = sign(envelope(register_request([one_item(client_a)])), TimestampedSignature(credentials_a))
    assert post_soap(data).status_code == 200
    replay = post_soap(data)
    assert replay.status_code == 500
    assert fault_of(replay.content).code == "SOA-01001"
    assert "replayed" in caplog.text
    assert Registration.objects.count() == 1


def test_14_a_refused_replay_leaves_the_clients_last_use_as_it_was(post_soap, client_a, credentials_a):
    data = sign(envelope(register_request([one_item(client_a)])), TimestampedSignature(credentials_a))
    assert post_soap(data).status_code == 200
    an_hour_ago = timezone.now() - timedelta(hours=1)  # older than "last used"'s resolution
    Client.objects.filter(pk=client_a.pk).update(last_used_at=an_hour_ago)

    assert fault_of(post_soap(data).content).code == "SOA-01001"
    client_a.refresh_from_db()
    assert client_a.last_used_at == an_hour_ago


@pytest.mark.parametrize("date", ["10000-01-01", "-0001-01-01"])
def test_a_schema_valid_date_python_cannot_hold_is_a_content_fault(signed_post, client_a, date):
    assert_refused(signed_post(envelope(register_request([one_item(client_a, date=date)]))), "SOA-03007")


def test_a_date_with_a_zone_suffix_is_read_as_the_calendar_date_written(signed_post, client_a):
    today = timezone.localdate().isoformat()
    response = signed_post(envelope(register_request([one_item(client_a, date=f"{today}+14:00")])))
    assert response.status_code == 200
    assert Registration.objects.get().registration_date.isoformat() == today


def test_a_response_that_cannot_be_written_is_a_provider_fault(signed_post, client_a, monkeypatch, caplog):
    class Unwritable:
        def __getattr__(self, name):
            raise RuntimeError(name)

    monkeypatch.setattr("soap_gateway.services.presence_registration", lambda registration: Unwritable())
    response = signed_post(envelope(register_request([one_item(client_a)])))
    fault = fault_of(response.content)
    assert (response.status_code, fault.code) == (500, "SOA-02001")
    assert fault.ticket in caplog.text
