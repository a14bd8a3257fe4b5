"""The request log of REST calls (issue 16, item 4): every call recorded; a client reads its
own calls through GET /requestLogs (paged, filtered) and one by its ticket, and another
client's calls answer exactly as unknown ones; a failing log write costs the call nothing."""

import json
import logging
import uuid
from datetime import timedelta

import pytest
from django.test import Client as DjangoClient
from django.urls import resolve
from django.utils import timezone

from registrations.models import Registration
from requestlog.models import RequestLog
from rest_gateway.request_log import operation_name
from tests.factories import make_niss
from tests.requestlog.failing_writes import log_writes_failing
from tests.requestlog.in_clear import assert_no_niss_in_clear
from tests.rest_gateway.conftest import API, Api, event, rest_client, token_for
from tests.rest_gateway.test_openapi import SCHEMA

pytestmark = pytest.mark.django_db


def only_record() -> RequestLog:
    (record,) = RequestLog.objects.all()
    return record


def test_a_register_call_is_recorded_with_its_client_operation_and_item_outcomes(api, employer):
    good, bad = make_niss(), "85073003399"
    response = api.register(event(ssin=good), event(ssin=bad))

    assert response.status_code == 200
    record = only_record()
    assert response["Ticket-Id"] == str(record.ticket)
    assert (record.client_id, record.channel, record.operation, record.http_status, record.error) == (
        employer.id,
        "rest",
        "registerInBulk",
        200,
        "",
    )
    assert record.outcome == "itemErrors"
    assert record.items == {"created": 1, "replayed": 0, "refused": 1, "refusedByCode": {"5": 1}}
    assert record.path == API + "/presenceRegistrations/registerInBulk"
    assert '"items"' in record.request_body
    assert_no_niss_in_clear(record.request_body, good, bad)


def test_a_problem_is_recorded_with_its_type_and_its_instance_as_ticket(api, employer):
    response = api.post("/presenceRegistrations/search", {"criteria": {}})

    assert response.status_code == 400
    record = only_record()
    problem = response.json()
    assert problem["instance"] == f"urn:uuid:{record.ticket}"
    assert response["Ticket-Id"] == str(record.ticket)
    assert (record.client_id, record.operation, record.outcome, record.error) == (
        employer.id,
        "searchPresenceRegistrations",
        "error",
        "urn:problem-type:belgif:badRequest",
    )
    assert json.loads(record.error_body)["type"] == "urn:problem-type:belgif:badRequest"


def test_a_call_with_an_unknown_token_is_recorded_without_a_client_and_without_its_body(client):
    response = client.post(
        API + "/presenceRegistrations/registerInBulk",
        data=json.dumps({"items": [event()]}),
        content_type="application/json",
        HTTP_AUTHORIZATION="Bearer not-a-token",
    )

    assert response.status_code == 401
    record = only_record()
    assert (record.client_id, record.operation, record.error) == (
        None,
        "registerInBulk",
        "urn:problem-type:belgif:invalidAccessToken",
    )
    assert record.request_body == ""


def test_an_unknown_url_is_recorded_as_no_operation(api):
    assert api.get("/nothingHere").status_code == 404
    record = only_record()
    assert (record.operation, record.error) == ("", "urn:problem-type:belgif:resourceNotFound")


def test_the_schema_its_page_and_the_log_itself_are_not_recorded(api, client):
    assert client.get(API + "/openapi.json").status_code == 200
    assert client.get(API + "/doc").status_code == 200
    assert api.get("/requestLogs").status_code == 200
    assert api.get(f"/requestLogs/{uuid.uuid4()}").status_code == 404
    assert not RequestLog.objects.exists()


def test_every_operation_of_the_schema_is_named_by_its_operation_id():
    for path, item in SCHEMA["paths"].items():
        subscription = path.startswith("/subscriptions/")  # its id is a UUID, a registration's a number
        concrete = path.replace("{id}", str(uuid.uuid4()) if subscription else "1")
        concrete = concrete.replace("{code}", "x").replace("{ticketId}", str(uuid.uuid4()))
        url_name = resolve(API + concrete).url_name
        for method, operation in item.items():
            if url_name in ("rest-request-logs", "rest-request-log"):
                continue  # not recorded
            assert operation_name(url_name, method) == operation["operationId"], (method, path)


# --- GET /requestLogs: a client reads its own calls ----------------------------------------


@pytest.fixture
def other(key):
    """Another enterprise client: none of the employer's calls may reach it."""
    rest = rest_client(key)
    return Api(DjangoClient(), token_for(DjangoClient(), rest, key))


def test_a_client_reads_its_own_calls_newest_first_in_a_belgif_page(api, other):
    api.register(event())
    api.get("/refData/remarks")
    other.register(event())

    page = api.get("/requestLogs").json()

    assert set(page) == {"items", "page", "pageSize", "total", "totalPages", "next"}
    assert (page["total"], page["page"], page["totalPages"], page["next"]) == (2, 1, 1, None)
    assert [item["operation"] for item in page["items"]] == ["listRemarks", "registerInBulk"]
    registered = page["items"][1]
    assert registered["items"] == {"created": 1, "cancelled": 0, "replayed": 0, "refused": 0, "refusedByCode": []}
    assert (registered["channel"], registered["httpStatus"], registered["outcome"]) == ("rest", 200, "success")
    assert (registered["faultCode"], registered["problemType"]) == (None, None)
    assert "requestBody" not in registered  # bodies in the single view only
    assert page["items"][0]["items"] is None


def test_the_list_pages(api):
    for _ in range(3):
        api.get("/refData/activities")
    page = api.get("/requestLogs", {"pageSize": 2}).json()
    assert (page["total"], page["totalPages"], len(page["items"])) == (3, 2, 2)
    assert "page=2" in page["next"]
    assert len(api.get("/requestLogs", {"pageSize": 2, "page": 2}).json()["items"]) == 1


def test_the_list_filters_by_operation_outcome_and_window(api, time_machine):
    yesterday = timezone.now() - timedelta(days=1)
    time_machine.move_to(yesterday, tick=False)
    api.get("/refData/remarks")
    time_machine.move_to(yesterday + timedelta(days=1), tick=False)
    api.register(event(ssin="85073003399"))
    api.post("/presenceRegistrations/search", {"criteria": {}})

    def operations(**params):
        return [item["operation"] for item in api.get("/requestLogs", params).json()["items"]]

    assert operations(operation="registerInBulk") == ["registerInBulk"]
    assert operations(outcome="itemErrors") == ["registerInBulk"]
    assert operations(outcome="error") == ["searchPresenceRegistrations"]
    today = timezone.localdate().isoformat()
    assert operations(receivedFrom=today) == ["searchPresenceRegistrations", "registerInBulk"]
    assert operations(receivedTo=(timezone.localdate() - timedelta(days=1)).isoformat()) == ["listRemarks"]
    moment = (yesterday + timedelta(minutes=1)).isoformat()
    assert operations(receivedFrom=yesterday.isoformat(), receivedTo=moment) == ["listRemarks"]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"outcome": "fine"}, "outcome"),
        ({"receivedFrom": "yesterday"}, "receivedFrom"),
        ({"receivedFrom": "2026-01-02T10:00:00"}, "receivedFrom"),  # no offset
        ({"receivedFrom": "2026-01-02", "receivedTo": "2026-01-01"}, "receivedTo"),
        ({"client": "someone-else"}, "client"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(api, params, name):
    response = api.get("/requestLogs", params)
    assert response.status_code == 400
    assert [issue["name"] for issue in response.json()["issues"]] == [name]


def test_a_client_reads_one_of_its_calls_by_ticket_with_its_body_masked(api):
    niss = make_niss()
    ticket = api.register(event(ssin=niss))["Ticket-Id"]

    response = api.get(f"/requestLogs/{ticket}")

    assert response.status_code == 200
    call = response.json()
    assert (call["ticketId"], call["operation"], call["errorBody"]) == (ticket, "registerInBulk", None)
    assert "niss#" in call["requestBody"]
    assert_no_niss_in_clear(call["requestBody"], niss)


def test_a_refused_call_is_read_by_the_instance_of_its_problem(api):
    instance = api.post("/presenceRegistrations/search", {"criteria": {}}).json()["instance"]
    call = api.get(f"/requestLogs/{instance.removeprefix('urn:uuid:')}").json()
    assert call["problemType"] == "urn:problem-type:belgif:badRequest"
    assert json.loads(call["errorBody"])["instance"] == instance


def test_another_clients_call_answers_exactly_as_an_unknown_one(api, other):
    ticket = other.register(event())["Ticket-Id"]

    theirs = api.get(f"/requestLogs/{ticket}")
    unknown = api.get(f"/requestLogs/{uuid.uuid4()}")

    assert theirs.status_code == unknown.status_code == 404
    assert {key: value for key, value in theirs.json().items() if key != "instance"} == {
        key: value for key, value in unknown.json().items() if key != "instance"
    }
    assert api.get("/requestLogs").json()["total"] == 0


def test_a_ticket_that_is_no_uuid_is_not_found(api):
    assert api.get("/requestLogs/85073003328").status_code == 404


def test_inspection_and_professional_clients_read_their_own_calls(client, key):
    for role in ("inspection", "professional"):
        reader = Api(client, token_for(client, rest_client(key, role=role), key))
        reader.get("/refData/remarks")
        assert reader.get("/requestLogs").json()["total"] == 1


# --- a failing log write costs the call nothing --------------------------------------------


def test_a_failing_log_write_neither_fails_the_call_nor_rolls_its_registrations_back(
    transactional_db, client, key, caplog
):
    employer = rest_client(key)
    api = Api(client, token_for(client, employer, key))
    caplog.set_level(logging.ERROR, logger="requestlog.services")

    with log_writes_failing():
        response = api.register(event(), event())

    assert response.status_code == 200
    created = [item["createdPresenceRegistration"]["id"] for item in response.json()["items"]]
    assert Registration.objects.filter(pk__in=created).count() == 2  # committed, and kept
    assert not RequestLog.objects.exists()
    [line] = [record.getMessage() for record in caplog.records if record.name == "requestlog.services"]
    assert response["Ticket-Id"] in line
    assert "could not be written" in line
    assert str(employer.id) in line


# --- redaction: no NISS in clear in a stored body or path, however it was spelled ----------


def _json_escaped(number: str) -> str:
    return "".join(f"\\u{ord(digit):04x}" for digit in number)


SPELLINGS = {
    "plain": lambda n: f'"{n}"',
    "printed": lambda n: f'"{n[:2]}.{n[2:4]}.{n[4:6]}-{n[6:9]}.{n[9:]}"',
    "spaced": lambda n: f'"{n[:6]} {n[6:9]} {n[9:]}"',
    "JSON escapes": lambda n: f'"{_json_escaped(n)}"',
    "half escaped": lambda n: f'"{n[:4]}{_json_escaped(n[4:8])}{n[8:]}"',
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
@pytest.mark.parametrize("kind", ["national", "bis"])
def test_no_niss_in_clear_in_a_stored_body_however_spelled(api, kind, spelling):
    niss = make_niss() if kind == "national" else make_niss("852130")  # birth month + 20: a BIS number
    body = json.dumps({"items": [event(ssin="SSIN", customReference="REF")]})
    body = body.replace('"SSIN"', SPELLINGS[spelling](niss)).replace('"REF"', SPELLINGS[spelling](niss))

    response = api.post("/presenceRegistrations/registerInBulk", body)

    assert "createdPresenceRegistration" in response.json()["items"][0]
    assert Registration.objects.get().niss == niss  # the gateway read it as this NISS
    record = only_record()
    assert_no_niss_in_clear(record.request_body, niss)


@pytest.mark.parametrize(
    "query",
    [
        "ssin={niss}",
        "ssin={printed}",
        "customReference={percent}",
        "customReference=x%20{niss}%20y",
    ],
)
def test_no_niss_in_clear_in_a_stored_path_or_problem(api, query):
    niss = make_niss()
    printed = f"{niss[:2]}.{niss[2:4]}.{niss[4:6]}-{niss[6:9]}.{niss[9:]}"
    percent = "".join(f"%{ord(digit):02X}" for digit in niss)
    window = "registrationDateFrom=2026-01-01&registrationDateTo=2026-01-02"
    url = f"{API}/presenceRegistrations?{window}&{query.format(niss=niss, printed=printed, percent=percent)}"

    api.http.get(url, HTTP_AUTHORIZATION=f"Bearer {api.token}")

    record = only_record()
    assert_no_niss_in_clear(record.path, niss)
    assert_no_niss_in_clear(record.error_body, niss)
