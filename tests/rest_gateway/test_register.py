"""registerInBulk: public shapes, per-item errors, and the whole-call refusals.

Bad inputs 15-21, 26 and 27 (per item), plus structure errors, 201 items, oversized and
malformed bodies (whole call, 400/413/415 problem, nothing stored)."""

import datetime as dt
import json
import logging

import pytest
from django.utils import timezone

from history.models import HistoryEvent
from registrations.models import DimonaPeriod, Person, Registration
from tests.factories import make_enterprise_number, make_niss, make_workplace_id
from tests.rest_gateway.conftest import event, minutes_ago

pytestmark = pytest.mark.django_db

BAD_REQUEST = "urn:problem-type:belgif:badRequest"


def created(response, index=0):
    return response.json()["items"][index]["createdPresenceRegistration"]


def error_codes(response, index=0):
    item = response.json()["items"][index]
    return [error["errorCode"] for error in item["notCreatedPresenceRegistration"]["errorList"]]


def test_an_in_event_comes_back_in_the_public_shape(api, employer):
    niss = make_niss()
    Person.objects.create(niss=niss, given_name="Ann", family_name="Peeters")
    # The employer employs her today: the answer may name her (docs/adr/0011).
    DimonaPeriod.objects.create(
        employer=employer.enterprise_number, niss=niss, start=timezone.localdate(), worker_type="employee"
    )
    item = event(ssin=niss, kind="IN", enterprise_number=employer.enterprise_number)
    item.update(activity="OFFICE_CLEANING", customReference="badge-17")
    response = api.register(item)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    registration = created(response)
    assert registration["ssin"] == niss
    assert registration["type"] == "in"
    assert registration["worker"] == {"givenName": "Ann", "familyName": "Peeters"}
    assert registration["employer"] == {"enterpriseNumber": employer.enterprise_number}
    assert registration["placeOfWork"] == {"coordinates": {"latitude": 50.846557, "longitude": 4.351697}}
    assert registration["contractualRelationshipReference"] == item["contractualRelationshipReference"]
    assert (registration["activity"], registration["customReference"]) == ("OFFICE_CLEANING", "badge-17")
    assert (registration["channel"], registration["status"]["code"]) == ("REST", "registered")
    assert registration["validity"] == "pending"
    assert registration["remarks"] == []
    stored = Registration.objects.get(pk=registration["id"])
    assert stored.submitted == item


def test_validity_goes_from_pending_to_valid_after_validation(api, employer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.register(event(enterprise_number=employer.enterprise_number))
    assert created(response)["validity"] == "pending"
    shown = api.get(f"/presenceRegistrations/{created(response)['id']}").json()
    assert shown["validity"] in ("valid", "invalid")
    assert all(remark["code"].startswith("CAW_") for remark in shown["remarks"])


def test_an_address_as_place_of_work_is_kept(api):
    address = {"postCode": "1000", "municipalityName": "Brussel", "streetName": "Wetstraat", "houseNumber": "16"}
    response = api.register(event(placeOfWork={"address": address}))
    assert created(response)["placeOfWork"] == {"address": address}


@pytest.mark.parametrize("municipality", ["Gent", "85073003328"])
def test_an_address_refusal_names_the_field_and_reason_never_the_submitted_values(api, municipality):
    address = {"postCode": "1000", "municipalityName": municipality, "streetName": "Veldstraat", "houseNumber": "1"}
    response = api.register(event(placeOfWork={"address": address}))
    assert error_codes(response, 0) == [18]
    [error] = response.json()["items"][0]["notCreatedPresenceRegistration"]["errorList"]
    assert error["errorDescription"] == (
        "placeOfWork.address: the postal code does not serve a municipality of that name"
    )
    assert municipality not in response.content.decode()
    assert "1000" not in error["errorDescription"]
    assert not Registration.objects.exists()


def test_an_event_type_outside_in_and_out_is_refused_without_repeating_it(api):
    response = api.register(event(kind="sideways"))
    assert response.status_code == 400
    [issue] = response.json()["issues"]
    assert (issue["name"], issue["detail"]) == ("items[0].type", 'must be "in" or "out" (any case)')
    assert not Registration.objects.exists()


def test_one_result_per_item_in_order_and_a_bad_item_never_fails_the_others(api):
    bad_niss = make_niss()[:-2] + "00"
    response = api.register(event(), event(ssin=bad_niss), event(kind="OUT"), event())
    items = response.json()["items"]
    assert ["createdPresenceRegistration" in item for item in items] == [True, False, False, True]
    assert error_codes(response, 1) == [5]
    assert error_codes(response, 2) == [14]
    error = items[1]["notCreatedPresenceRegistration"]["errorList"][0]
    assert error["errorDescription"] == "INSS is not a valid NISS or BIS number"
    assert Registration.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"ssin": "85073000300"}, 5),  # 15: wrong check value
        ({"ssin": "８５０７３０００３３２８"}, 5),  # 19: full-width digits
        ({"ssin": "850730003"}, 5),  # 18: too short, never padded
        ({"ssin": "8507300033289"}, 5),  # 18: too long, never truncated
        ({"employer": {"enterpriseNumber": "0448181967"}}, 3),
        ({"employer": {"foreignVatNumber": "XX"}}, 17),
        ({"contractualRelationshipReference": "1Y1000NF9KCQI"}, 4),
        ({"registrationDate": minutes_ago(11).isoformat()}, 12),  # 20: beyond the correction window
        ({"registrationDate": minutes_ago(-120).isoformat()}, 13),  # 27: 2 h ahead (clock skew)
        ({"placeOfWork": {"coordinates": {"latitude": 0, "longitude": 0}}}, 18),  # 26: (0, 0)
        ({"placeOfWork": {"coordinates": {"latitude": 4.35, "longitude": 50.85}}}, 18),  # 26: swapped
        ({"activity": "JUGGLING"}, 19),
    ],
)
def test_bad_items_get_their_code_and_nothing_is_stored(api, change, code):
    response = api.register(event(**change))
    assert response.status_code == 200
    assert error_codes(response) == [code]
    assert not Registration.objects.exists()
    assert not HistoryEvent.objects.exists()


def test_numbers_born_in_2000_bis_and_printed_forms_are_accepted(api):
    items = [
        event(ssin=make_niss("010203", 7, born_2000=True)),  # 16
        event(ssin=make_niss("852730", 8)),  # 17: BIS
        event(ssin=make_niss("850000", 9)),  # 17: unknown birth date
    ]
    printed = make_niss("850730", 10)
    items.append(event(ssin=f"{printed[:2]}.{printed[2:4]}.{printed[4:6]}-{printed[6:9]}.{printed[9:]}"))
    response = api.register(*items)
    assert [created(response, i)["ssin"] for i in range(4)][-1] == printed  # 18: one documented rule
    assert Registration.objects.count() == 4


def test_the_same_event_twice_in_a_batch_is_stored_once(api):  # bad input 21
    item = event()
    response = api.register(item, item)
    assert created(response, 0)["id"] == created(response, 1)["id"]
    assert Registration.objects.count() == 1


def test_a_resent_event_creates_no_second_row(api):  # bad input 22
    item = event()
    first = created(api.register(item))["id"]
    assert created(api.register(item))["id"] == first
    assert Registration.objects.count() == 1


def test_check_out_without_check_in_then_two_check_ins_then_check_out_before_check_in(api):  # 27
    niss, place = make_niss(), make_workplace_id()
    same = {"ssin": niss, "contractualRelationshipReference": place, "enterprise_number": make_enterprise_number()}
    assert error_codes(api.register(event(kind="out", **same))) == [14]
    api.register(event(kind="in", registrationDate=minutes_ago(5).isoformat(), **same))
    assert error_codes(api.register(event(kind="In", **same))) == [15]
    too_early = event(kind="OUT", registrationDate=minutes_ago(8).isoformat(), **same)
    assert error_codes(api.register(too_early)) == [16]
    assert Registration.objects.count() == 1


def _issues(response):
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == BAD_REQUEST
    return {(issue.get("name"), issue["type"].rsplit(":", 1)[1]) for issue in body["issues"]}


@pytest.mark.parametrize(
    ("change", "issue"),
    [
        ({"type": "sideways"}, ("items[1].type", "schemaViolation")),
        ({"registrationDate": "2025-02-29T10:00:00+01:00"}, ("items[1].registrationDate", "schemaViolation")),
        ({"registrationDate": "2026-11-26T10:00:00"}, ("items[1].registrationDate", "invalidInput")),  # no offset
        ({"ssin": 85073003328}, ("items[1].ssin", "schemaViolation")),
        ({"employer": {}}, ("items[1].employer", "exactlyOneOfExpected")),
        (
            {"employer": {"enterpriseNumber": "0448181966", "foreignVatNumber": "NL1"}},
            ("items[1].employer", "exactlyOneOfExpected"),
        ),
        (
            {"placeOfWork": {"coordinates": {"latitude": 91, "longitude": 4}}},
            ("items[1].placeOfWork.coordinates.latitude", "schemaViolation"),
        ),
        (
            {"placeOfWork": {"coordinates": {"latitude": 50, "longitude": -181}}},
            ("items[1].placeOfWork.coordinates.longitude", "schemaViolation"),
        ),
        (
            {"placeOfWork": {"coordinates": {"latitude": "50", "longitude": 4}}},
            ("items[1].placeOfWork.coordinates.latitude", "schemaViolation"),
        ),
        ({"extra": "x"}, ("items[1].extra", "unknownInput")),
        ({"customReference": None}, ("items[1].customReference", "schemaViolation")),
    ],
)
def test_structure_errors_refuse_the_whole_call(api, change, issue):
    response = api.register(event(), event(**change))
    assert issue in _issues(response)
    assert not Registration.objects.exists()


def test_a_missing_property_is_a_required_input_issue(api):
    item = event()
    del item["ssin"]
    assert ("items[0].ssin", "requiredInput") in _issues(api.register(item))


def test_non_finite_numbers_are_refused(api):  # bad input 26: NaN, 1e309
    body = json.dumps({"items": [event()]}).replace("50.846557", "NaN")
    assert _issues(api.post("/presenceRegistrations/registerInBulk", body))
    body = json.dumps({"items": [event()]}).replace("50.846557", "1e309")
    assert ("items[0].placeOfWork.coordinates.latitude", "schemaViolation") in _issues(
        api.post("/presenceRegistrations/registerInBulk", body)
    )
    assert not Registration.objects.exists()


@pytest.mark.parametrize("count", [0, 201])
def test_0_or_201_items_refuse_the_whole_call(api, count):
    response = api.register(*(event() for _ in range(count)))
    assert ("items", "schemaViolation") in _issues(response)
    assert not Registration.objects.exists()


def test_a_200_item_call_stores_200_events(api):
    response = api.register(*(event() for _ in range(200)))
    assert len(response.json()["items"]) == 200
    assert Registration.objects.count() == 200


def test_malformed_json_and_other_media_types_are_problems(api):
    malformed = api.post("/presenceRegistrations/registerInBulk", '{"items": [')
    assert malformed.status_code == 400
    assert malformed.json()["type"] == BAD_REQUEST
    xml = api.http.post(
        "/REST/presenceRegistration/v1/presenceRegistrations/registerInBulk",
        data="<items/>",
        content_type="application/xml",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert xml.status_code == 415
    assert xml["Content-Type"] == "application/problem+json"
    assert xml.json()["type"] == "about:blank"
    assert not Registration.objects.exists()


def test_an_oversized_body_is_refused_before_it_is_read(api, settings):
    settings.REST_MAX_BODY_BYTES = 2048
    response = api.register(*(event() for _ in range(20)))
    assert response.status_code == 413
    assert response.json()["type"] == "urn:problem-type:belgif:payloadTooLarge"
    assert not Registration.objects.exists()


@pytest.mark.parametrize("offset_hours", [0, 9, -5])
def test_any_offset_is_accepted_and_shown_in_brussels_time(api, offset_hours):  # bad input 20
    moment = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=offset_hours)))
    registration = created(api.register(event(registrationDate=moment.isoformat())))
    shown = dt.datetime.fromisoformat(registration["registrationDate"])
    assert shown == moment
    assert shown.utcoffset() == timezone.localtime(moment).utcoffset()


def test_coordinates_are_stored_and_shown_to_six_decimals(api):  # bad input 26: 15 decimals
    place = {"coordinates": {"latitude": 50.846557123456789, "longitude": 4.351697987654321}}
    registration = created(api.register(event(placeOfWork=place)))
    assert registration["placeOfWork"] == {"coordinates": {"latitude": 50.846557, "longitude": 4.351698}}
    assert Registration.objects.get(pk=registration["id"]).submitted["placeOfWork"] == place  # as sent


def test_no_log_line_carries_a_niss(api, caplog):  # spec §9
    good, bad = make_niss(), make_niss()[:-2] + "00"
    with caplog.at_level(logging.DEBUG):
        api.register(event(ssin=good), event(ssin=bad), event(ssin=good, kind="OUT", extra="x"))
        api.post("/presenceRegistrations/search", {"criteria": {"registrationDate": {}, "ssin": good}})
        api.get("/presenceRegistrations", {"ssin": good})
    lines = [record.getMessage() for record in caplog.records]
    assert lines  # the refusals above were logged
    assert not [line for line in lines if good in line or bad in line]
