"""The OpenAPI description: valid, complete (endpoints, parameters, scopes, problem types),
served with an offline documentation page, and honoured by the server (schemathesis)."""

import re

import pytest
import requests
import schemathesis
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from rest_gateway.auth import SCOPE_ENTERPRISE, SCOPE_INSPECTION, SCOPE_PROFESSIONAL
from rest_gateway.errors import ALL_PROBLEM_TYPES
from tests.rest_gateway.conftest import API, TOKEN_PATH, assertion, rest_client, token_form

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
OPERATIONS = {
    ("post", "/presenceRegistrations/registerInBulk"): "registerInBulk",
    ("get", "/presenceRegistrations/{id}"): "getPresenceRegistration",
    ("get", "/presenceRegistrations/{id}/history"): "getPresenceRegistrationHistory",
    ("post", "/presenceRegistrations/search"): "searchPresenceRegistrations",
    ("get", "/presenceRegistrations"): "listPresenceRegistrations",
    ("post", "/presenceRegistrations/cancelInBulk"): "cancelInBulk",
    ("get", "/performances"): "listPerformances",
    ("post", "/performances/search"): "searchPerformances",
    ("post", "/placesOfWork/addresses"): "findAddressesNear",
    ("get", "/refData/remarks"): "listRemarks",
    ("get", "/refData/remarks/{code}"): "getRemark",
    ("get", "/refData/activities"): "listActivities",
    ("get", "/refData/activities/{code}"): "getActivity",
    ("get", "/inspection/snapshot"): "getInspectionSnapshot",
    ("get", "/inspection/snapshot.csv"): "getInspectionSnapshotCsv",
    ("get", "/inspection/snapshot.pdf"): "getInspectionSnapshotPdf",
    ("post", "/inspection/workerAccesses"): "listWorkerAccesses",
    ("get", "/requestLogs"): "listRequestLogs",
    ("get", "/requestLogs/{ticketId}"): "getRequestLog",
    ("get", "/events"): "listEvents",
    ("get", "/subscriptions"): "listSubscriptions",
    ("post", "/subscriptions"): "createSubscription",
    ("get", "/subscriptions/{id}"): "getSubscription",
    ("delete", "/subscriptions/{id}"): "deleteSubscription",
    ("post", "/subscriptions/{id}/rotateSecret"): "rotateSubscriptionSecret",
}


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_every_operation_is_described_with_its_scopes_and_problems():
    found = {
        (method, path): operation["operationId"]
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
    }
    assert found == OPERATIONS
    register = SCHEMA["paths"]["/presenceRegistrations/registerInBulk"]["post"]
    assert register["security"] == [{"oauth2": [SCOPE_ENTERPRISE]}]
    flows = SCHEMA["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flows["tokenUrl"] == TOKEN_PATH
    assert set(flows["scopes"]) == {SCOPE_ENTERPRISE, SCOPE_PROFESSIONAL, SCOPE_INSPECTION}
    problem_types = SCHEMA["components"]["schemas"]["Problem"]["properties"]["type"]["enum"]
    assert set(problem_types) == set(ALL_PROBLEM_TYPES)
    for item in SCHEMA["paths"].values():
        for operation in item.values():
            assert operation["responses"]["default"] == {"$ref": "#/components/responses/ProblemResponse"}


def test_the_list_operation_describes_every_filter_and_no_niss():
    parameters = SCHEMA["paths"]["/presenceRegistrations"]["get"]["parameters"]
    names = {parameter["name"] for parameter in parameters}
    assert len(names) == len(parameters)  # each described once
    assert {"registrationDateFrom", "registrationDateTo", "enterpriseNumber", "page", "pageSize"} <= names
    assert "ssin" not in names


CRITERIA = {"type", "contractualRelationshipReference", "customReference", "channel", "activity", "validity", "status"}


def test_every_property_of_a_registration_is_a_documented_criterion_of_both_searches():
    listed = {p["name"]: p["schema"] for p in SCHEMA["paths"]["/presenceRegistrations"]["get"]["parameters"]}
    assert CRITERIA | {"enterpriseNumber", "foreignVatNumber", "remarks"} <= set(listed)
    body = SCHEMA["paths"]["/presenceRegistrations/search"]["post"]["requestBody"]["content"]["application/json"]
    search = SCHEMA["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[-1]]
    criteria = SCHEMA["components"]["schemas"][search["properties"]["criteria"]["$ref"].rsplit("/", 1)[-1]]
    assert CRITERIA | {"ssin", "employer", "remarks", "registrationDate"} <= set(criteria["properties"])
    status_enum = SCHEMA["components"]["schemas"]["PresenceStatusEnum"]["enum"]
    assert status_enum == ["registered", "edited", "cancelled"]
    window = [option["format"] for option in listed["registrationDateFrom"]["oneOf"]]
    assert window == ["date", "date-time"]


def _names(node):
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            yield key
            yield from _names(value)
        for value in node.values():
            if isinstance(value, dict | list):
                yield from _names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _names(value)


def test_every_property_and_parameter_is_camel_case():
    parameters = [
        parameter["name"]
        for item in SCHEMA["paths"].values()
        for operation in item.values()
        for parameter in operation.get("parameters", [])
    ]
    assert [name for name in [*parameters, *_names(SCHEMA["components"]["schemas"])] if not CAMEL.match(name)] == []


@pytest.mark.django_db
def test_the_schema_and_its_documentation_page_are_public_and_offline(client):
    schema = client.get(API + "/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["paths"].keys() == SCHEMA["paths"].keys()
    page = client.get(API + "/doc")
    assert page.status_code == 200
    html = page.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr.net" not in html


# --- schemathesis: generated requests against a live server --------------------------------

schema = schemathesis.openapi.from_dict(SCHEMA)


@pytest.fixture
def bearer(live_server, transactional_db, key):
    """A real token for an enterprise client, obtained over HTTP."""
    employer = rest_client(key)
    audience = live_server.url + TOKEN_PATH
    response = requests.post(
        audience,
        data=token_form(assertion(key, str(employer.pk), aud=audience)),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@schema.parametrize()
@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_server_honours_its_schema(case, bearer, live_server, settings):
    """No server error and no answer outside the schema. A 'valid' NISS by the schema may
    still fail its check digit, so schema-valid requests may be refused (positive_data_acceptance
    is off)."""
    settings.REST_RATE_LIMIT = "100000/minute"
    case.call_and_validate(base_url=live_server.url + API, headers=bearer, excluded_checks=[positive_data_acceptance])
