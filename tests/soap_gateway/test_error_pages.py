"""No HTML page ever on the SOAP endpoint: Django's own error answers become SOAP faults."""

import pytest
from lxml import etree

pytestmark = pytest.mark.django_db

ERR = "{http://socialsecurity.be/errors/v1}"


def fault_code(response):
    tree = etree.fromstring(response.content)
    return tree.findtext(f".//{ERR}Code")


def test_a_host_outside_allowed_hosts_gets_a_soap_fault_not_an_html_page(client):
    response = client.post("/PresenceRegistration/v1", data=b"<x/>", content_type="text/xml", HTTP_HOST="evil.example")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/xml")
    assert fault_code(response) == "SOA-03001"
    assert b"<html" not in response.content.lower()


def test_an_unknown_path_under_the_service_gets_a_soap_fault(client):
    response = client.post("/PresenceRegistration/v2", data=b"<x/>", content_type="text/xml")
    assert response["Content-Type"].startswith("text/xml")
    assert fault_code(response) == "SOA-03001"
