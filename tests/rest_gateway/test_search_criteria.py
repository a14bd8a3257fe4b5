"""One search, two spellings: GET /presenceRegistrations (query) and POST .../search (body)
give the same answer for every criterion, on a world with every validity and status,
a registration validated with remarks and then cancelled, an operator-corrected one
(`edited`), a foreign employer and another party's look-alikes that must never show."""

from datetime import datetime

import pytest
from django.utils import timezone

from registrations.domain.authorisation import Caller
from registrations.models import DimonaPeriod, Enterprise, Person, Registration
from registrations.services.corrections import CorrectionInput, registration_correct_cleaning
from tests.factories import make_declaration, make_niss, make_workplace_id
from tests.rest_gateway.conftest import Api, event, minutes_ago, rest_client, token_for

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate().isoformat()
FOREIGN_VAT = "NL123456789B01"
BADGE = "badge-1"
ACTIVITY = "OFFICE_CLEANING"


def _created(response):
    assert response.status_code == 200, response.content
    [item] = response.json()["items"]
    return item["createdPresenceRegistration"]["id"]


def _in_order(employer_number):
    """A person, an employer and a cleaning site whose every reference fact is in order: an
    event of that person there gets no remark (valid)."""
    niss = make_niss()
    Person.objects.create(niss=niss, given_name="An", family_name="Peeters")
    Enterprise.objects.create(enterprise_number=employer_number, name="Net NV", active_from=timezone.localdate())
    DimonaPeriod.objects.create(employer=employer_number, niss=niss, start=timezone.localdate(), worker_type="employee")
    site = make_declaration(builder=employer_number, sector=4)
    return niss, site.number


@pytest.fixture
def world(client, api, employer, key, django_capture_on_commit_callbacks):
    """Employer A (the `api` client) and its events, by name; B's look-alikes in `other`."""
    a = employer.enterprise_number
    niss, declared = _in_order(a)
    undeclared = make_workplace_id()
    b_api = Api(client, token_for(client, rest_client(key), key))

    def register(party=api, validate=True, **fields):
        with django_capture_on_commit_callbacks(execute=validate):
            return _created(party.register(event(**fields)))

    found = {
        "valid_in": register(
            ssin=niss,
            workplace=declared,
            enterprise_number=a,
            at=minutes_ago(6),
            activity=ACTIVITY,
            customReference=BADGE,
        ),
        "valid_out": register(ssin=niss, workplace=declared, enterprise_number=a, kind="out", at=minutes_ago(5)),
        "invalid": register(workplace=undeclared, enterprise_number=a),
        "pending": register(workplace=undeclared, enterprise_number=a, validate=False),
        "cancelled_invalid": register(workplace=undeclared, enterprise_number=a),
        "cancelled_pending": register(workplace=undeclared, enterprise_number=a, validate=False),
        "edited": register(workplace=declared, enterprise_number=a, at=minutes_ago(4)),
        "foreign": register(workplace=undeclared, employer={"foreignVatNumber": FOREIGN_VAT}),
    }
    for name in ("cancelled_invalid", "cancelled_pending"):
        cancelled = api.post(
            "/presenceRegistrations/cancelInBulk", {"items": [{"id": found[name], "reason": "PLANNING"}]}
        )
        assert "cancelledPresenceRegistration" in cancelled.json()["items"][0]
    with django_capture_on_commit_callbacks(execute=True):
        correction = registration_correct_cleaning(
            correction=CorrectionInput(found["edited"], "OUT", minutes_ago(2), "forgot to check out"),
            caller=Caller.for_operator("cor"),
        )
    found["correction"] = correction.pk
    # B's events look like A's on every criterion but the employer and the place (A is the
    # builder of `declared`: it sees what is registered there): never in A's answers.
    found["other"] = register(b_api, workplace=undeclared, activity=ACTIVITY, customReference=BADGE)
    found["other_foreign"] = register(b_api, workplace=undeclared, employer={"foreignVatNumber": FOREIGN_VAT})
    return {"ids": found, "a": a, "declared": declared, "api": api}


def test_the_world_is_what_the_criteria_cases_assume(world):
    """Validation ran for real: the states below are what the rules decided."""
    stored = {name: Registration.objects.get(pk=pk) for name, pk in world["ids"].items()}
    assert stored["valid_in"].remarks == []
    assert stored["valid_in"].validated_at is not None
    assert stored["cancelled_invalid"].remarks != []
    assert stored["cancelled_invalid"].validated_at is not None
    assert stored["pending"].validated_at is None
    assert stored["correction"].corrects_id == stored["edited"].pk


ALL_OF_A = {
    *("valid_in", "valid_out", "invalid", "pending", "cancelled_invalid", "cancelled_pending"),
    *("edited", "correction", "foreign"),
}

# (query parameters, body criteria, the names expected) - the window (today) is added to both.
CASES = {
    "nothing more": ({}, {}, ALL_OF_A),
    "type in": ({"type": "in"}, {"type": ["in"]}, ALL_OF_A - {"valid_out", "correction"}),
    "type out": ({"type": "out"}, {"type": ["out"]}, {"valid_out", "correction"}),
    "enterprise number": ("A", "A", ALL_OF_A - {"foreign"}),
    "foreign VAT number": (
        {"foreignVatNumber": FOREIGN_VAT},
        {"employer": {"foreignVatNumber": FOREIGN_VAT}},
        {"foreign"},
    ),
    "place of work": ("W", "W", {"valid_in", "valid_out", "edited", "correction"}),
    "custom reference": ({"customReference": BADGE}, {"customReference": BADGE}, {"valid_in"}),
    "channel ADMIN": ({"channel": "ADMIN"}, {"channel": ["ADMIN"]}, {"correction"}),
    "channel REST": ({"channel": "REST"}, {"channel": ["REST"]}, ALL_OF_A - {"correction"}),
    "activity": ({"activity": ACTIVITY}, {"activity": [ACTIVITY]}, {"valid_in"}),
    "validity pending": ({"validity": "pending"}, {"validity": ["pending"]}, {"pending", "cancelled_pending"}),
    "validity valid": ({"validity": "valid"}, {"validity": ["valid"]}, {"valid_in", "valid_out"}),
    "validity invalid": (
        {"validity": "invalid"},
        {"validity": ["invalid"]},
        {"invalid", "cancelled_invalid", "edited", "correction", "foreign"},
    ),
    "status registered": (
        {"status": "registered"},
        {"status": ["registered"]},
        {"valid_in", "valid_out", "invalid", "pending", "correction", "foreign"},
    ),
    "status edited": ({"status": "edited"}, {"status": ["edited"]}, {"edited"}),
    "status cancelled": (
        {"status": "cancelled"},
        {"status": ["cancelled"]},
        {"cancelled_invalid", "cancelled_pending"},
    ),
    # Remark 10: the Declaration of Works does not exist (every validated event elsewhere).
    "remark": ({"remarks": "CAW_10"}, {"remarks": ["CAW_10"]}, {"invalid", "cancelled_invalid", "foreign"}),
    "remark, former name": ({"remark": "CAW_10"}, {"remarks": ["CAW_10"]}, {"invalid", "cancelled_invalid", "foreign"}),
    "invalid and cancelled": (
        {"validity": "invalid", "status": "cancelled"},
        {"validity": ["invalid"], "status": ["cancelled"]},
        {"cancelled_invalid"},
    ),
}


def _criteria(world, query, body):
    """Fill in A's enterprise number ("A") and the declared place of work ("W")."""
    if query == "A":
        return {"enterpriseNumber": world["a"]}, {"employer": {"enterpriseNumber": world["a"]}}
    if query == "W":
        place = world["declared"]
        return {"contractualRelationshipReference": place}, {"contractualRelationshipReference": place}
    return query, body


def _list(api, **params):
    """GET over today's window."""
    return api.get("/presenceRegistrations", {"registrationDateFrom": TODAY, "registrationDateTo": TODAY, **params})


def _search(api, **criteria):
    """POST over today's window."""
    window = {"registrationDate": {"startDate": TODAY, "endDate": TODAY}}
    return api.post("/presenceRegistrations/search?pageSize=500", {"criteria": {**window, **criteria}})


def _ids(response):
    assert response.status_code == 200, response.content
    return sorted(item["id"] for item in response.json()["items"])


@pytest.mark.parametrize("case", list(CASES))
def test_get_and_post_give_the_same_answer_for_every_criterion(world, case):
    query, body, expected = CASES[case]
    query, body = _criteria(world, query, body)
    listed, searched = _list(world["api"], **query), _search(world["api"], **body)
    assert _ids(listed) == _ids(searched) == sorted(world["ids"][name] for name in expected)


def test_a_registration_validated_with_remarks_then_cancelled_stays_invalid_in_both_searches(world):
    api, cancelled = world["api"], world["ids"]["cancelled_invalid"]
    shown = api.get(f"/presenceRegistrations/{cancelled}").json()
    assert (shown["status"]["code"], shown["validity"]) == ("cancelled", "invalid")
    assert cancelled in _ids(_search(api, validity=["invalid"]))
    assert cancelled in _ids(_list(api, validity="invalid"))


def test_several_values_of_a_code_criterion_match_any_of_them(world):
    ids = world["ids"]
    expected = sorted(ids[name] for name in ("edited", "cancelled_invalid", "cancelled_pending"))
    assert _ids(_search(world["api"], status=["edited", "cancelled"], channel=["REST"])) == expected


# --- edited ---------------------------------------------------------------------------------


def test_a_corrected_registration_is_edited_since_its_correction_and_keeps_its_validity(world):
    api, original = world["api"], world["ids"]["edited"]
    correction = Registration.objects.get(pk=world["ids"]["correction"])
    shown = api.get(f"/presenceRegistrations/{original}").json()
    assert shown["status"]["code"] == "edited"
    assert datetime.fromisoformat(shown["status"]["date"]) == correction.created_at
    assert shown["validity"] == "invalid"
    history = api.get(f"/presenceRegistrations/{original}/history").json()["items"]
    assert [(item["type"], item.get("status")) for item in history] == [
        ("registration.created", "registered"),
        ("registration.validated", "registered"),
        ("registration.corrected", "edited"),
    ]
    assert api.get(f"/presenceRegistrations/{correction.pk}").json()["status"]["code"] == "registered"


def test_cancelled_wins_over_edited(world):
    api, original = world["api"], world["ids"]["edited"]
    api.post("/presenceRegistrations/cancelInBulk", {"items": [{"id": original, "reason": "PLANNING"}]})
    assert api.get(f"/presenceRegistrations/{original}").json()["status"]["code"] == "cancelled"
    assert _ids(_search(api, status=["edited"])) == []
    assert original in _ids(_list(api, status="cancelled"))
    history = api.get(f"/presenceRegistrations/{original}/history").json()["items"]
    assert [item.get("status") for item in history][-2:] == ["edited", "cancelled"]


# --- bad criteria ---------------------------------------------------------------------------


def _issues(response, location):
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert {issue["in"] for issue in response.json()["issues"]} == {location}
    return {issue["name"] for issue in response.json()["issues"]}


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"type": "IN"}, "type"),  # spelled as GET shows it
        ({"channel": "SOAP"}, "channel"),
        ({"activity": "GARDENING"}, "activity"),
        ({"status": "validated"}, "status"),  # a SOAP status, not REST's
        ({"validity": "unknown"}, "validity"),
        ({"remarks": "CAW_99"}, "remarks"),
        ({"foreignVatNumber": "BE0448181966"}, "foreignVatNumber"),  # a Belgian number is no foreign one
        ({"enterpriseNumber": "0448181966", "foreignVatNumber": FOREIGN_VAT}, "foreignVatNumber"),
        ({"remark": "CAW_01", "remarks": "CAW_02"}, "remark"),
        ({"customReference": "x" * 65}, "customReference"),
    ],
)
def test_a_bad_query_criterion_is_a_problem_naming_it(api, params, name):
    assert _issues(_list(api, **params), "query") == {name}


@pytest.mark.parametrize(
    ("criteria", "name"),
    [
        ({"type": ["sideways"]}, "criteria.type[0]"),
        ({"type": "in"}, "criteria.type"),  # a code criterion takes a list
        ({"channel": ["SOAP"]}, "criteria.channel[0]"),
        ({"activity": ["GARDENING"]}, "criteria.activity[0]"),
        ({"status": ["validated"]}, "criteria.status[0]"),
        ({"validity": ["unknown"]}, "criteria.validity[0]"),
        ({"customReference": ""}, "criteria.customReference"),
        ({"employer": {"foreignVatNumber": "BE0448181966"}}, "criteria.employer.foreignVatNumber"),
        ({"employer": {"enterpriseNumber": "2448181966"}}, "criteria.employer.enterpriseNumber"),
        ({"employer": {}}, "criteria.employer"),
        ({"ssin": "85073003300"}, "criteria.ssin"),
    ],
)
def test_a_bad_body_criterion_is_a_problem_naming_it(api, criteria, name):
    assert _issues(_search(api, **criteria), "body") == {name}


def test_the_ssin_is_no_query_parameter(api):
    assert _issues(_list(api, ssin=make_niss()), "query") == {"ssin"}


def test_another_partys_foreign_employer_is_not_found_by_its_vat_number(world):
    other_foreign = world["ids"]["other_foreign"]
    inspection_sees = Registration.objects.filter(foreign_vat_number=FOREIGN_VAT).values_list("id", flat=True)
    assert other_foreign in inspection_sees  # it exists ...
    listed = _list(world["api"], foreignVatNumber=FOREIGN_VAT.lower())
    assert _ids(listed) == [world["ids"]["foreign"]]  # ... but only A's own is found, in any case
