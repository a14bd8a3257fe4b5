"""Reading, searching, cancelling, history and performances, per role (spec §6, §8).

Bad inputs 24 (cancel reasons, already cancelled), 25 (search limits), 28 (another
employer's id on get, history, cancel: answered as unknown) and 29 (filters never widen
what a client sees)."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from history.models import HistoryEvent
from registrations.models import Address, Client, ClientRole, Registration, Status
from tests.factories import make_enterprise_number, make_niss, make_workplace_id
from tests.rest_gateway.conftest import Api, event, minutes_ago, public_pem, rest_client, token_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate().isoformat()
WINDOW = {"registrationDateFrom": TODAY, "registrationDateTo": TODAY}
SEARCH_WINDOW = {"registrationDate": {"startDate": TODAY, "endDate": TODAY}}


def register(api, employer_number, **fields):
    response = api.register(event(enterprise_number=employer_number, **fields))
    return response.json()["items"][0]["createdPresenceRegistration"]


@pytest.fixture
def world(client, api, employer, key):
    """Two employers A (the `api` client) and B, each with one IN event; a professional
    mandated by A only; an inspection client."""
    b_number = make_enterprise_number()
    b_api = Api(client, token_for(client, rest_client(key, enterprise_number=b_number), key))
    professional = rest_client(key, ClientRole.PROFESSIONAL, mandates=(employer.enterprise_number,))
    inspection = rest_client(key, ClientRole.INSPECTION)
    return {
        "a": register(api, employer.enterprise_number),
        "b": register(b_api, b_number),
        "b_api": b_api,
        "b_number": b_number,
        "professional": Api(client, token_for(client, professional, key)),
        "inspection": Api(client, token_for(client, inspection, key)),
    }


def _ids(response):
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


def _not_found(response):
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["type"] == "urn:problem-type:belgif:resourceNotFound"
    return {key: value for key, value in response.json().items() if key != "instance"}


def test_an_enterprise_never_sees_another_enterprises_registration(api, world):
    own = api.get(f"/presenceRegistrations/{world['a']['id']}")
    assert own.json() == world["a"]
    other = _not_found(api.get(f"/presenceRegistrations/{world['b']['id']}"))
    unknown = _not_found(api.get("/presenceRegistrations/999999999"))
    assert other == unknown  # bad input 28: indistinguishable from "not found"
    _not_found(api.get(f"/presenceRegistrations/{world['b']['id']}/history"))


def test_filters_never_widen_what_a_client_sees(api, world):  # bad input 29
    assert _ids(api.get("/presenceRegistrations", WINDOW)) == [world["a"]["id"]]
    assert _ids(api.get("/presenceRegistrations", {**WINDOW, "enterpriseNumber": world["b_number"]})) == []
    body = {"criteria": {**SEARCH_WINDOW, "employer": {"enterpriseNumber": world["b_number"]}}}
    assert _ids(api.post("/presenceRegistrations/search", body)) == []
    assert (
        _ids(api.post("/presenceRegistrations/search", {"criteria": {**SEARCH_WINDOW, "ssin": world["b"]["ssin"]}}))
        == []
    )


def test_a_professional_sees_only_its_mandating_enterprises(world):
    professional = world["professional"]
    assert _ids(professional.get("/presenceRegistrations", WINDOW)) == [world["a"]["id"]]
    _not_found(professional.get(f"/presenceRegistrations/{world['b']['id']}"))
    assert professional.get(f"/presenceRegistrations/{world['a']['id']}").status_code == 200


def test_inspection_sees_everything_and_its_reads_are_logged(world):
    inspection = world["inspection"]
    assert sorted(_ids(inspection.get("/presenceRegistrations", WINDOW))) == sorted(
        [world["a"]["id"], world["b"]["id"]]
    )
    inspection.get(f"/presenceRegistrations/{world['b']['id']}")
    consulted = HistoryEvent.objects.filter(event_type="registration.consulted", registration_id=world["b"]["id"])
    assert consulted.count() == 2
    history = inspection.get(f"/presenceRegistrations/{world['b']['id']}/history").json()["items"]
    assert [event["type"] for event in history].count("registration.consulted") == 3


def test_consultations_by_inspection_are_not_shown_to_the_enterprise(api, world):
    world["inspection"].get(f"/presenceRegistrations/{world['a']['id']}")
    history = api.get(f"/presenceRegistrations/{world['a']['id']}/history").json()["items"]
    assert [event["type"] for event in history] == ["registration.created"]
    assert history[0]["status"] == "registered"


def test_search_by_person_is_a_post_and_pages_with_totals(api, employer):
    niss = make_niss()
    place = make_workplace_id()
    for kind, minutes in (("in", 9), ("out", 7), ("in", 5), ("out", 3), ("in", 1)):
        register(
            api,
            employer.enterprise_number,
            ssin=niss,
            kind=kind,
            contractualRelationshipReference=place,
            registrationDate=minutes_ago(minutes).isoformat(),
        )
    register(api, employer.enterprise_number)  # someone else
    body = {"criteria": {**SEARCH_WINDOW, "ssin": niss}, "sort": {"field": "id", "order": "desc"}}
    first = api.post("/presenceRegistrations/search?page=1&pageSize=2", body).json()
    assert (first["total"], first["totalPages"], first["page"], first["pageSize"]) == (5, 3, 1, 2)
    assert first["next"].endswith("page=2&pageSize=2")
    last = api.post("/presenceRegistrations/search?page=3&pageSize=2", body).json()
    assert len(last["items"]) == 1
    assert last["next"] is None
    assert first["items"][0]["id"] > first["items"][1]["id"]
    assert all(item["ssin"] == niss for item in first["items"])


def test_query_parameter_filters_combine(api, employer):
    place = make_workplace_id()
    niss = make_niss()
    register(
        api,
        employer.enterprise_number,
        ssin=niss,
        contractualRelationshipReference=place,
        registrationDate=minutes_ago(3).isoformat(),
    )
    out = register(api, employer.enterprise_number, ssin=niss, kind="out", contractualRelationshipReference=place)
    register(api, employer.enterprise_number)
    params = {**WINDOW, "contractualRelationshipReference": place, "type": "out", "status": "registered"}
    assert _ids(api.get("/presenceRegistrations", params)) == [out["id"]]
    assert _ids(api.get("/presenceRegistrations", {**params, "validity": "valid"})) == []


def _issue_names(response, location):
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "urn:problem-type:belgif:badRequest"
    assert {issue["in"] for issue in body["issues"]} == {location}
    return {issue["name"] for issue in body["issues"]}


@pytest.mark.parametrize(
    ("params", "names"),
    [
        ({}, {"registrationDateFrom", "registrationDateTo"}),  # bad input 25: no period
        ({**WINDOW, "ssin": "85073003328"}, {"ssin"}),  # a NISS never in a URL
        ({**WINDOW, "registration_date_from": TODAY}, {"registration_date_from"}),
        ({**WINDOW, "pageSize": "501"}, {"pageSize"}),  # hard cap 500
        ({**WINDOW, "pageSize": "1000000000"}, {"pageSize"}),
        ({**WINDOW, "page": "-1"}, {"page"}),
        ({**WINDOW, "page": "0"}, {"page"}),
        ({**WINDOW, "enterpriseNumber": "2448181966"}, {"enterpriseNumber"}),
        ({**WINDOW, "type": "sideways"}, {"type"}),
        ({**WINDOW, "customReference": ""}, {"customReference"}),
        ({"registrationDateFrom": "2026-13-01", "registrationDateTo": TODAY}, {"registrationDateFrom"}),
    ],
)
def test_bad_query_parameters_are_problems(api, params, names):
    assert _issue_names(api.get("/presenceRegistrations", params), "query") == names


def test_a_repeated_query_parameter_is_refused(api):
    response = api.http.get(
        f"/REST/presenceRegistration/v1/presenceRegistrations?registrationDateFrom={TODAY}"
        f"&registrationDateTo={TODAY}&type=in&type=out",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert _issue_names(response, "query") == {"type"}


@pytest.mark.parametrize(
    "body",
    [
        {"criteria": {}},  # no period
        {"criteria": {"registrationDate": {"startDate": TODAY, "endDate": "2020-01-01"}}},
        {"criteria": {**SEARCH_WINDOW, "ssin": "85073003300"}},
        {"criteria": {**SEARCH_WINDOW, "remarks": ["CAW_99"]}},
        {"criteria": {**SEARCH_WINDOW, "colour": "red"}},
    ],
)
def test_bad_searches_are_problems(api, body):
    assert api.post("/presenceRegistrations/search", body).status_code == 400


def test_search_refuses_a_page_size_over_500(api):
    response = api.post("/presenceRegistrations/search?pageSize=1000000000", {"criteria": SEARCH_WINDOW})
    assert _issue_names(response, "query") == {"pageSize"}


def test_cancel_in_bulk_reports_each_item(api, world):
    own, other = world["a"]["id"], world["b"]["id"]
    items = [{"id": own, "reason": "PLANNING"}, {"id": other, "reason": "PLANNING"}, {"id": own, "reason": "HOLIDAY"}]
    response = api.post("/presenceRegistrations/cancelInBulk", {"items": items})
    answer = response.json()["items"]
    cancelled = answer[0]["cancelledPresenceRegistration"]
    assert cancelled["status"]["code"] == "cancelled"
    assert answer[1]["notCancelledPresenceRegistration"] == {
        "id": other,
        "errorList": [{"errorCode": 7, "errorDescription": "Unknown presence registration"}],
    }  # bad input 28: another employer's id is unknown
    assert answer[2]["notCancelledPresenceRegistration"]["errorList"][0]["errorCode"] == 8  # 24: already
    assert Registration.objects.get(pk=other).status != Status.CANCELLED
    history = api.get(f"/presenceRegistrations/{own}/history").json()["items"]
    assert history[-1] == {**history[-1], "type": "registration.cancelled", "reason": "PLANNING"}


def test_a_cancel_reason_outside_the_list_refuses_the_call(api, world):  # bad input 24
    response = api.post("/presenceRegistrations/cancelInBulk", {"items": [{"id": world["a"]["id"], "reason": "BORED"}]})
    assert _issue_names(response, "body") == {"items[0].reason"}
    assert Registration.objects.get(pk=world["a"]["id"]).status != Status.CANCELLED


@pytest.mark.parametrize("reason", ["85073003328", {"person": "85073003328"}, ["85073003328"]])
def test_a_refused_choice_lists_the_allowed_values_never_the_submitted_one(api, world, reason):
    response = api.post("/presenceRegistrations/cancelInBulk", {"items": [{"id": world["a"]["id"], "reason": reason}]})
    [issue] = response.json()["issues"]
    assert (issue["name"], issue["detail"]) == ("items[0].reason", "must be one of HOLIDAY, DISEASE, PLANNING, C32A")
    # Only a scalar comes back, as the issue's JSON `value` (docs/rest.md); an object or a
    # list never does, in any form.
    assert issue.get("value") == (reason if isinstance(reason, str) else None)
    assert isinstance(reason, str) or "85073003328" not in response.content.decode()
    assert Registration.objects.get(pk=world["a"]["id"]).status != Status.CANCELLED


def test_a_search_sort_outside_the_list_names_the_allowed_fields(api):
    body = {"criteria": {"registrationDate": {"startDate": "2026-11-01", "endDate": "2026-11-02"}}}
    response = api.post("/presenceRegistrations/search", {**body, "sort": {"field": {"ssin": "85073003328"}}})
    [issue] = response.json()["issues"]
    assert issue["name"] == "sort.field"
    assert issue["detail"].startswith("must be one of id, registrationDate")
    assert "85073003328" not in response.content.decode()


def test_cancelling_more_than_30_days_later_is_refused(api, employer):
    with time_machine.travel(timezone.now() - timedelta(days=31)):  # registered 31 days ago
        old = register(api, employer.enterprise_number)
    response = api.post("/presenceRegistrations/cancelInBulk", {"items": [{"id": old["id"], "reason": "C32A"}]})
    assert response.json()["items"][0]["notCancelledPresenceRegistration"]["errorList"][0]["errorCode"] == 9


def test_professional_and_inspection_may_not_cancel(world):
    for consulting in (world["professional"], world["inspection"]):
        response = consulting.post(
            "/presenceRegistrations/cancelInBulk", {"items": [{"id": world["a"]["id"], "reason": "C32A"}]}
        )
        assert response.status_code == 403
        assert response.json()["type"] == "urn:problem-type:belgif:missingScope"


def test_performances_pair_in_and_out_and_show_open_ins_open(api, employer):
    niss, place = make_niss(), make_workplace_id()
    same = {"ssin": niss, "contractualRelationshipReference": place}
    for kind, minutes in (("in", 9), ("out", 6), ("in", 4)):
        register(api, employer.enterprise_number, kind=kind, registrationDate=minutes_ago(minutes).isoformat(), **same)
    response = api.get(
        "/performances", {"startDate": TODAY, "endDate": TODAY, "contractualRelationshipReference": place}
    )
    [day] = response.json()["items"]
    assert (day["ssin"], day["open"], day["end"]) == (niss, True, None)
    assert [period["open"] for period in day["periods"]] == [False, True]
    assert day["workedTime"] == "PT3M"
    assert day["employer"] == {"enterpriseNumber": employer.enterprise_number}


def test_performances_refuse_a_window_over_31_days(api):
    start = (timezone.localdate() - timedelta(days=40)).isoformat()
    response = api.get("/performances", {"startDate": start, "endDate": TODAY})
    assert _issue_names(response, "query") == {"endDate"}


def test_reference_catalogues_in_four_languages(api):
    remarks = api.get("/refData/remarks").json()["items"]
    assert [remark["code"] for remark in remarks][:17] == [f"CAW_{n:02d}" for n in range(1, 18)]
    assert all(set(remark["labels"]) == {"nl", "fr", "de", "en"} for remark in remarks)
    assert api.get("/refData/remarks/CAW_14").json()["labels"]["en"] == "The same registration already exists"
    activities = api.get("/refData/activities").json()["items"]
    assert api.get(f"/refData/activities/{activities[0]['code']}").json() == activities[0]
    _not_found(api.get("/refData/activities/GARDENING"))
    _not_found(api.get("/refData/remarks/CAW_99"))


def test_a_professional_registered_on_the_command_line_sees_its_mandates_only(client, key, world, employer, tmp_path):
    pem = tmp_path / "professional.pub.pem"
    pem.write_text(public_pem(key))
    out = StringIO()
    mandates = f"{employer.enterprise_number},{make_enterprise_number()}"
    call_command(
        "register_client",
        *("--name", "Social secretariat", "--enterprise-number", make_enterprise_number()),
        *("--role", "professional", "--mandated-by", mandates, "--public-key", str(pem)),
        stdout=out,
    )
    professional = Client.objects.get(pk=out.getvalue().strip().splitlines()[-1])
    api = Api(client, token_for(client, professional, key))
    assert _ids(api.get("/presenceRegistrations", WINDOW)) == [world["a"]["id"]]
    assert api.register(event()).status_code == 403


def test_asking_for_another_partys_ids_leaves_an_audit_trail(api, world, employer, caplog):  # bad input 28
    other = world["b"]["id"]
    with caplog.at_level(logging.WARNING, logger="rest_gateway.audit"):
        api.get(f"/presenceRegistrations/{other}")
        api.get(f"/presenceRegistrations/{other}/history")
        api.post("/presenceRegistrations/cancelInBulk", {"items": [{"id": other, "reason": "PLANNING"}]})
    trail = [record.getMessage() for record in caplog.records if record.name == "rest_gateway.audit"]
    assert len(trail) == 3
    assert all(f"client:{employer.pk}" in line and str(other) in line for line in trail)
    assert all(world["b"]["ssin"] not in line for line in trail)


def _address(address_id, latitude, *, house="16", region="BE-BRU"):
    return Address.objects.create(
        region_code=region,
        address_id=address_id,
        street_name_nl="Wetstraat",
        street_name_fr="Rue de la Loi",
        house_number=house,
        post_code="1000",
        municipality_nis="21004",
        municipality_name_nl="Brussel",
        municipality_name_fr="Bruxelles",
        latitude=latitude,
        longitude=4.366179,
    )


def test_addresses_near_coordinates_nearest_first_within_the_radius(api):
    _address(1, 50.846557, house="16")
    _address(2, 50.846557 + 0.0009, house="30")  # about 100 m north
    _address(3, 50.846557 + 0.0030, house="90")  # about 330 m north: outside 150 m
    body = {"coordinates": {"latitude": 50.846557, "longitude": 4.366179}}
    items = api.post("/placesOfWork/addresses", body).json()["items"]
    assert [item["address"]["houseNumber"] for item in items] == ["16", "30"]
    assert items[0]["address"] == {
        "postCode": "1000",
        "municipalityName": "Bruxelles",
        "streetName": "Rue de la Loi",
        "houseNumber": "16",
    }
    assert items[0]["streetNames"] == {"nl": "Wetstraat", "fr": "Rue de la Loi"}
    assert items[0]["distanceMeters"] == 0
    assert 90 < items[1]["distanceMeters"] < 110
    wide = api.post("/placesOfWork/addresses", {**body, "radiusMeters": 500, "limit": 2}).json()["items"]
    assert len(wide) == 2


@pytest.mark.parametrize(
    ("body", "name"),
    [
        ({"coordinates": {"latitude": 0, "longitude": 0}}, "coordinates"),
        ({"coordinates": {"latitude": 4.366179, "longitude": 50.846557}}, "coordinates"),
        ({"coordinates": {"latitude": 91, "longitude": 4}}, "coordinates.latitude"),
        ({"coordinates": {"latitude": 50.8, "longitude": 4.3}, "limit": 11}, "limit"),
        ({"coordinates": {"latitude": 50.8, "longitude": 4.3}, "radiusMeters": 0}, "radiusMeters"),
    ],
)
def test_addresses_near_refuses_bad_coordinates(api, body, name):
    assert name in _issue_names(api.post("/placesOfWork/addresses", body), "body")


def test_performances_of_one_person_are_searched_by_body(api, employer):
    place = make_workplace_id()
    ann, bob = make_niss(), make_niss()
    for niss in (ann, bob):
        register(api, employer.enterprise_number, ssin=niss, contractualRelationshipReference=place)
    window = {"startDate": TODAY, "endDate": TODAY}
    found = api.post("/performances/search", {**window, "ssin": ann}).json()["items"]
    assert [day["ssin"] for day in found] == [ann]
    assert _issue_names(api.get("/performances", {**window, "ssin": ann}), "query") == {"ssin"}
    assert _issue_names(api.post("/performances/search", {**window, "ssin": "85073003300"}), "body") == {"ssin"}
