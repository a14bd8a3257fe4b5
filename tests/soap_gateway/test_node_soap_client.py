"""Interoperability with another ecosystem: a node-soap client (tests/soap_gateway/node_client)
built from the OFFICIAL WSDL, signing with WSSecurityCert's defaults (xml-crypto: an
unqualified Id on Body and Timestamp, enveloped-signature then exc-c14n), calls a live
server over HTTP. Skipped with the reason when Node.js or the client's modules are missing
(`make install` runs `npm ci` there); CI (REQUIRE_SERVICES=1) turns that skip into a failure."""

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from registrations.models import Registration
from soap_gateway.schemas import LOCAL_XML_XSD
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import ENDPOINT, Credentials, official_file

NODE_CLIENT = Path(__file__).parent / "node_client"
NODE = shutil.which("node")
INSTALLED = (NODE_CLIENT / "node_modules" / "soap" / "package.json").is_file()

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(NODE is None, reason="needs Node.js 20 (`node` on PATH) for the node-soap client"),
    pytest.mark.skipif(
        not INSTALLED, reason="the node-soap client is not installed: `npm ci` in tests/soap_gateway/node_client"
    ),
]


def node_soap(base_url: str, credentials: Credentials, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the calls in one node-soap client; each result is {result|fault, request}."""
    payload = {
        "wsdl": str(official_file("wsdl")),
        "endpoint": base_url + ENDPOINT,
        "keyPem": credentials.key_path.read_text(),
        "certPem": credentials.cert_pem,
        "xmlXsd": str(LOCAL_XML_XSD),
        "calls": calls,
    }
    run = subprocess.run(  # our own script, with the node found on PATH
        [str(NODE), str(NODE_CLIENT / "client.js")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    results: list[dict[str, Any]] = json.loads(run.stdout)["results"]
    return results


def test_node_soap_registers_and_reads_with_its_default_signature(live_server, credentials_a, client_a):
    niss = make_niss()
    item = {"INSS": niss, "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": make_workplace_id()}
    (registered,) = node_soap(
        live_server.url,
        credentials_a,
        [{"operation": "registerPresences", "args": {"PresenceRegistrationRequest": [item]}}],
    )
    assert "fault" not in registered, registered
    request = registered["request"]
    assert "xmldsig#enveloped-signature" in request  # node-soap's defaults, not ours
    assert 'Body Id="' in request
    presence = registered["result"]["PresenceRegistrationResponse"][0]["PresenceRegistration"]
    assert presence["LastValidation"]["Status"] == "SUCCESSFULLY REGISTERED"

    # The read is a search: node-soap writes getPresenceRegistration's inner element (named
    # like its wrapper in the contract) in the wrong namespace, which our XSD check refuses.
    today = timezone.localdate().isoformat()
    period = {"RegistrationPeriodStartDate": today, "RegistrationPeriodEndDate": today}
    criteria = {"RegistrationPeriodList": {"RegistrationPeriod": [period]}}
    (read,) = node_soap(
        live_server.url,
        credentials_a,
        [
            {
                "operation": "searchPresences",
                "args": {"SearchPresenceRequest": {"SearchPresenceRegistrationCriteria": criteria}},
            }
        ],
    )
    assert "fault" not in read, json.dumps(read)
    found = read["result"]["SearchPresencesResponseType"]["PresenceRegistrationList"]
    (listed,) = found["PresenceRegistration"]
    assert (found["PresenceRegistrationResultCount"], listed["INSS"]) == ("1", niss)
    stored = Registration.objects.get()
    assert (str(stored.pk), stored.niss, stored.sender_id) == (listed["PresenceRegistrationId"], niss, client_a.id)


def test_node_soap_with_another_client_s_certificate_is_not_authenticated(live_server, credentials_b, client_a):
    item = {"INSS": make_niss(), "CompanyID": int(client_a.enterprise_number), "WorkPlaceId": make_workplace_id()}
    (answer,) = node_soap(
        live_server.url,
        credentials_b,
        [{"operation": "registerPresences", "args": {"PresenceRegistrationRequest": [item]}}],
    )
    assert "SOA-01001" in json.dumps(answer["fault"])
    assert not Registration.objects.exists()
