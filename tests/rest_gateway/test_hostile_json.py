"""Bodies DRF's JSON parser would take but nobody can answer safely (issue 11, item 5): each is
a 400 badRequest problem that says why, and nothing is stored."""

import json

import pytest

from history.models import HistoryEvent
from registrations.models import Registration
from rest_gateway.parsers import MAX_DEPTH, MAX_NUMBER_CHARS
from tests.rest_gateway.conftest import event

pytestmark = pytest.mark.django_db

REGISTER = "/presenceRegistrations/registerInBulk"
BAD_REQUEST = "urn:problem-type:belgif:badRequest"
SCHEMA_VIOLATION = "urn:problem-type:belgif:input-validation:schemaViolation"


def _refused(response, reason: str) -> dict[str, str]:
    """A badRequest problem with one body issue whose detail contains `reason`; nothing stored."""
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["type"], body["detail"]) == (BAD_REQUEST, "The input message is not well-formed")
    (found,) = body["issues"]
    assert (found["type"], found["in"]) == (SCHEMA_VIOLATION, "body")
    assert reason in found["detail"]
    assert not Registration.objects.exists()
    assert not HistoryEvent.objects.exists()
    return found


def _one_item(**changes) -> str:
    return json.dumps({"items": [event(**changes)]})


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 100_000], ids=["just-too-deep", "past-the-recursion-limit"])
def test_deeply_nested_json_is_refused(api, depth):
    _refused(api.post(REGISTER, "[" * depth + "]" * depth), f"nested more than {MAX_DEPTH} deep")


def test_nesting_up_to_the_limit_reaches_validation(api):
    inner = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)  # with the object around it: MAX_DEPTH levels
    response = api.post(REGISTER, '{"items": ' + inner + "}")
    assert response.status_code == 400
    assert response.json()["detail"] == "The input message is incorrect"  # the schema's answer, not the parser's


@pytest.mark.parametrize(
    "body",
    [
        _one_item(customReference="\ud800"),
        json.dumps({"items": [event()], "\udfff": 1}),
        json.dumps({"items": ["\udbff"]}),
    ],
    ids=["in-a-value", "in-a-name", "in-an-array"],
)
def test_a_lone_surrogate_anywhere_is_refused(api, body):
    assert "\\ud" in body  # json.dumps writes it as an escape: valid JSON syntax
    _refused(api.post(REGISTER, body), "lone UTF-16 surrogate")


def test_a_surrogate_pair_is_one_character_and_accepted(api):
    response = api.post(REGISTER, _one_item(customReference="badge-\U0001f9f9"))
    assert response.status_code == 200, response.content
    assert Registration.objects.get().client_reference == "badge-\U0001f9f9"


@pytest.mark.parametrize(
    "body",
    [
        '{"items": [], "items": [1]}',
        _one_item()[:-1] + ', "items": []}',
        json.dumps({"items": [event()]}).replace('"type": "in"', '"type": "in", "type": "out"'),
    ],
    ids=["top-level", "last-one-would-win", "nested"],
)
def test_a_name_twice_in_one_object_is_ambiguous_and_refused(api, body):
    found = _refused(api.post(REGISTER, body), "occurs twice in one object: the input is ambiguous")
    assert found["detail"].startswith('The name "items"') or found["detail"].startswith('The name "type"')


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_numbers(api, constant):
    body = _one_item().replace("50.846557", constant)
    _refused(api.post(REGISTER, body), f"{constant} is not a JSON number")


def test_a_number_with_absurdly_many_digits_is_refused_before_it_is_read(api):
    body = '{"items": [{"id": 1' + "0" * 5000 + ', "reason": "PLANNING"}]}'
    _refused(api.post("/presenceRegistrations/cancelInBulk", body), f"more than {MAX_NUMBER_CHARS} characters")


def test_a_body_that_is_not_utf8_is_refused(api):
    _refused(api.post(REGISTER, b'{"items": ["\xff"]}'), "The body is not valid UTF-8")


@pytest.mark.parametrize("charset", ["latin-1", "utf-16", "bz2_codec"])
def test_a_body_in_another_charset_is_refused(api, charset):
    body = _one_item().encode("utf-16" if charset == "utf-16" else "utf-8")
    response = api.http.generic(  # post() would re-encode the body in the charset
        "POST",
        "/REST/presenceRegistration/v1" + REGISTER,
        body,
        content_type=f"application/json; charset={charset}",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    _refused(response, f"The body must be UTF-8, not {charset}")


def test_a_body_that_says_it_is_utf8_is_read(api):
    response = api.http.post(
        "/REST/presenceRegistration/v1" + REGISTER,
        data=_one_item(),
        content_type="application/json; charset=UTF-8",
        HTTP_AUTHORIZATION=f"Bearer {api.token}",
    )
    assert response.status_code == 200, response.content


def test_malformed_json_says_where(api):
    _refused(api.post(REGISTER, '{"items": ['), "The body is not valid JSON: Expecting value: line 1 column 12")


@pytest.mark.parametrize(
    ("path", "body", "name"),
    [
        (REGISTER, _one_item(customReference="badge\x00"), "items[0].customReference"),
        (REGISTER, _one_item(activity="\x00"), "items[0].activity"),
        (
            REGISTER,
            _one_item(
                placeOfWork={
                    "address": {"postCode": "1000", "municipalityName": "B\x00", "streetName": "x", "houseNumber": "1"}
                }
            ),
            "items[0].placeOfWork.address.municipalityName",
        ),
        ("/presenceRegistrations/cancelInBulk", '{"items": [{"id": 1, "reason": "C32A\\u0000"}]}', "items[0].reason"),
    ],
)
def test_a_nul_character_in_a_string_is_refused_by_name(api, path, body, name):
    """PostgreSQL cannot store NUL in text: it never gets that far, on either database."""
    response = api.post(path, body)
    assert response.status_code == 400, response.content
    assert name in {found.get("name") for found in response.json()["issues"]}
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/presenceRegistrations", {"registrationDateFrom": "2026-01-01", "registrationDateTo": "2026-01-01\x00"}),
        (
            "/presenceRegistrations",
            {"registrationDateFrom": "2026-01-01", "registrationDateTo": "2026-01-01", "customReference": "a\x00"},
        ),
        ("/performances", {"startDate": "2026-01-01", "endDate": "2026-01-01", "enterpriseNumber": "\x00"}),
    ],
    ids=["date", "text", "performances"],
)
def test_a_nul_character_in_the_query_is_refused(api, path, query):
    response = api.get(path, query)
    assert response.status_code == 400, response.content
    assert {found["in"] for found in response.json()["issues"]} == {"query"}


def test_a_nul_character_in_the_bearer_token_is_an_invalid_token(client):
    response = client.get("/REST/presenceRegistration/v1/refData/remarks", HTTP_AUTHORIZATION="Bearer a\x00b")
    assert response.status_code == 401
    assert response.json()["type"] == "urn:problem-type:belgif:invalidAccessToken"


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [("1e308", "4.35"), ("50.8", "-1e308"), ("90.0000001", "4.35"), (str(10**60), "4.35")],
)
def test_coordinates_out_of_range_are_refused_by_name(api, latitude, longitude):
    body = '{"coordinates": {"latitude": %s, "longitude": %s}}' % (latitude, longitude)  # noqa: UP031 - raw numbers
    response = api.post("/placesOfWork/addresses", body)
    assert response.status_code == 400, response.content
    names = {found["name"] for found in response.json()["issues"]}
    assert names & {"coordinates.latitude", "coordinates.longitude"}
