"""No request a client can send makes the REST gateway answer 5xx (issue 11, item 5).

Property-based, in process (the WSGI application, the test database), bounded and
deterministic for CI: a fixed number of examples per test, no deadline, derandomized, no
example database. Three generators, each with and without a real Bearer token:

* schemathesis in negative mode: every operation of the OpenAPI schema, with bodies, query
  strings and path parameters that break it;
* hypothesis: hostile JSON texts (the cases below as explicit examples, then generated ones)
  to every operation that takes a body, and hostile raw query strings to every operation;
* hypothesis: hostile Authorization header values.
"""

import json
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from registrations.models import ClientRole
from tests.rest_gateway.conftest import API, event, rest_client, token_for

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
OPERATIONS = [(method.upper(), path) for path, item in SCHEMA["paths"].items() for method in item]
# Path parameters: an id that exists for nobody, and a catalogue code.
PATH_VALUES = {"{id}": "1", "{code}": "CAW_01"}
BOUNDED = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def bearer(client, employer, key, settings) -> dict[str, str]:
    """A real token of an enterprise client (the scope of most operations), headers form."""
    settings.REST_RATE_LIMIT = "1000000/minute"
    return {"Authorization": f"Bearer {token_for(client, employer, key)}"}


def _url(path: str) -> str:
    for placeholder, value in PATH_VALUES.items():
        path = path.replace(placeholder, value)
    return API + path


def _assert_answered(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:500]!r}"
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json", what


# --- schemathesis, negative mode ------------------------------------------------------------


# Nothing to break where there is no input, or only a path segment any string satisfies (a
# catalogue code): schemathesis would skip them, and a skip fails CI. The hostile query
# strings below reach those operations too.
NOTHING_TO_BREAK = ["listRemarks", "listActivities", "getRemark", "getActivity", "listSubscriptions"]


def _negative_schema(*, max_examples: int, coverage: bool) -> Any:
    loaded = schemathesis.openapi.from_dict(SCHEMA).exclude(operation_id=NOTHING_TO_BREAK)
    loaded.app = get_wsgi_application()
    loaded.config.generation.update(modes=[GenerationMode.NEGATIVE], max_examples=max_examples, deterministic=True)
    loaded.config.phases.coverage.enabled = coverage  # the schema's boundaries, broken one by one
    return loaded


# With a token every layer is reached (coverage phase + fuzzing); without one, authentication
# answers first, so a few generated requests per operation are enough.
with_token = _negative_schema(max_examples=8, coverage=True)
without_token = _negative_schema(max_examples=3, coverage=False)
# max_examples comes from the schemas above.
GENERATED = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def in_process():
    """The WSGI application closes the database connection around each request; the test's
    transaction lives in that connection (Django's test client does the same)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _no_server_error(case: Any, headers: dict[str, str]) -> None:
    response = case.call(base_url="http://testserver" + API, headers=headers)
    case.validate_response(response, checks=[not_a_server_error])
    if response.status_code >= 400:
        assert response.headers["content-type"] == ["application/problem+json"]


@with_token.parametrize()
@GENERATED
def test_no_server_error_for_requests_that_break_the_schema(case, bearer, in_process):
    _no_server_error(case, bearer)


@without_token.parametrize()
@GENERATED
def test_no_server_error_for_anonymous_requests_that_break_the_schema(case, in_process, settings):
    settings.REST_RATE_LIMIT = "1000000/minute"
    _no_server_error(case, {})


# --- hypothesis: hostile JSON bodies --------------------------------------------------------

# A valid-looking body per operation: a generated hostile value replaces one of its leaves,
# so the value reaches the layer behind the parser (fields, core, database).
TEMPLATES: dict[str, Any] = {
    "/presenceRegistrations/registerInBulk": {"items": [event(ssin="85073003328")]},
    "/presenceRegistrations/search": {
        "criteria": {"registrationDate": {"startDate": "2026-01-01", "endDate": "2026-01-31"}, "ssin": "85073003328"}
    },
    "/presenceRegistrations/cancelInBulk": {"items": [{"id": 1, "reason": "PLANNING"}]},
    "/performances/search": {"startDate": "2026-01-01", "endDate": "2026-01-31", "ssin": "85073003328"},
    "/placesOfWork/addresses": {"coordinates": {"latitude": 50.8, "longitude": 4.35}, "radiusMeters": 150},
    "/inspection/workerAccesses": {"ssin": "85073003328"},
    "/subscriptions": {
        "url": "https://hooks.example.org/presence?token=x",
        "eventTypes": ["registration.failed"],
        "contractualRelationshipReference": "1Y1000NF9KCQZ",
    },
    "/subscriptions/{id}/rotateSecret": {},
}

# Strings with NUL, lone surrogates and any other code point; numbers of every size.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**18, max_value=10**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
    | st.sampled_from(["9999-12-31", "0001-01-01", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
)


def _containers(inner: Any) -> Any:
    return st.lists(inner, max_size=3) | st.dictionaries(any_text, inner, max_size=3)


json_values = st.recursive(scalars, _containers, max_leaves=8)


def test_every_operation_with_a_body_is_fuzzed():
    assert set(TEMPLATES) == {path for method, path in OPERATIONS if method == "POST"}


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in _leaves(value, (*path, key))] + [path]
    if isinstance(node, list):
        return [leaf for index, value in enumerate(node) for leaf in _leaves(value, (*path, index))] + [path]
    return [path]


def _replaced(template: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copy = json.loads(json.dumps(template))
    parent = copy
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return copy


@st.composite
def mutated_bodies(draw: Any, path: str) -> str:
    template = TEMPLATES[path]
    leaf = draw(st.sampled_from(_leaves(template)))
    return json.dumps(_replaced(template, leaf, draw(json_values)), allow_nan=True)


def _with_a_name_twice(name: str, first: Any, second: Any) -> str:
    return json.dumps({name: first})[:-1] + f", {json.dumps(name)}: {json.dumps(second, allow_nan=True)}}}"


raw_bodies = st.one_of(
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
    st.builds(_with_a_name_twice, any_text, json_values, json_values),
    st.binary(max_size=64).map(lambda raw: raw.decode("latin-1")),
    json_values.map(lambda value: json.dumps(value, allow_nan=True)),
)
bodies = st.sampled_from(list(TEMPLATES)).flatmap(
    lambda path: st.tuples(st.just(path), mutated_bodies(path) | raw_bodies)
)


@pytest.fixture
def tokens(client, employer, key, settings) -> dict[str, str]:
    """Bearer headers (Django test client form) of an enterprise and an inspection client."""
    settings.REST_RATE_LIMIT = "1000000/minute"
    inspection = rest_client(key, ClientRole.INSPECTION)
    return {
        "enterprise": f"Bearer {token_for(client, employer, key)}",
        "inspection": f"Bearer {token_for(client, inspection, key)}",
    }


def _authorization(tokens: dict[str, str], path: str) -> str:
    return tokens["inspection" if path.startswith("/inspection/") else "enterprise"]


@example(case=("/presenceRegistrations/registerInBulk", "[" * 100_000 + "]" * 100_000))  # RecursionError
@example(case=("/presenceRegistrations/registerInBulk", '{"items": [{"ssin": "\\ud800"}]}'))  # echo of a surrogate
@example(case=("/presenceRegistrations/cancelInBulk", '{"items": [], "items": [{"id": 1, "reason": "C32A"}]}'))
@example(case=("/performances/search", '{"startDate": "9999-12-31", "endDate": "9999-12-31"}'))  # day after the end
@example(case=("/performances/search", '{"startDate": "0001-01-01", "endDate": "0001-01-01"}'))
@example(case=("/placesOfWork/addresses", '{"coordinates": {"latitude": NaN, "longitude": Infinity}}'))
@example(case=("/presenceRegistrations/cancelInBulk", '{"items": [{"id": 1' + "0" * 5000 + ', "reason": "C32A"}]}'))
@example(case=("/inspection/workerAccesses", '{"ssin": "\\u0000"}'))
@given(case=bodies)
@BOUNDED
def test_no_server_error_for_hostile_json_bodies(client, tokens, case):
    path, body = case
    for authorization in (_authorization(tokens, path), None):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        response = client.generic(
            "POST", API + path, body.encode("utf-8", "surrogatepass"), "application/json", **headers
        )
        _assert_answered(response, f"POST {path} {body[:200]!r}")


# --- hypothesis: hostile query strings and Authorization headers ----------------------------

PARAMETERS = {
    (method, path): [
        parameter["name"]
        for parameter in SCHEMA["paths"][path][method.lower()].get("parameters", [])
        if parameter["in"] == "query"
    ]
    for method, path in OPERATIONS
}
query_values = st.one_of(
    st.binary(max_size=24),
    st.sampled_from([b"9999-12-31", b"0001-01-01", b"\x00", b"\xed\xa0\x80", b"1" + b"0" * 40, b"-1", b"NaN"]),
)


@st.composite
def queries(draw: Any) -> tuple[str, str, str]:
    method, path = draw(st.sampled_from(OPERATIONS))
    names = st.sampled_from([name.encode() for name in PARAMETERS[(method, path)]] or [b"page"]) | st.binary(max_size=8)
    pairs = draw(st.lists(st.tuples(names, query_values), max_size=4))
    return method, path, "&".join(f"{quote_from_bytes(name)}={quote_from_bytes(value)}" for name, value in pairs)


@example(query=("GET", "/performances", "startDate=9999-12-31&endDate=9999-12-31"))
@example(query=("GET", "/presenceRegistrations", "registrationDateFrom=0001-01-01&registrationDateTo=9999-12-31"))
@example(query=("GET", "/inspection/snapshot", "workplaceId=1Y1000NF9KCQZ&date=9999-12-31"))
@example(
    query=(
        "GET",
        "/presenceRegistrations",
        "registrationDateFrom=2026-01-01&registrationDateTo=2026-01-01"
        "&customReference=%00&contractualRelationshipReference=%ED%A0%80",
    )
)
@example(query=("POST", "/presenceRegistrations/search", "page=" + "9" * 400 + "&pageSize=%00"))
@given(query=queries())
@BOUNDED
def test_no_server_error_for_hostile_query_strings(client, tokens, query):
    method, path, query_string = query
    body = json.dumps(TEMPLATES.get(path, {})).encode() if method == "POST" else b""
    for authorization in (_authorization(tokens, path), None):
        headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
        response = client.generic(method, _url(path), body, "application/json", QUERY_STRING=query_string, **headers)
        _assert_answered(response, f"{method} {path}?{query_string[:200]}")


@example(value="Bearer \x00")
@example(value="Bearer " + "a" * 10_000)
@example(value="Bearer")
@example(value="Basic \xff\xfe")
@given(value=st.text(st.characters(max_codepoint=255), max_size=80) | st.text(max_size=40).map("Bearer {}".format))
@BOUNDED
def test_a_hostile_authorization_header_is_an_invalid_or_missing_token(client, value):
    response = client.get(API + "/refData/remarks", HTTP_AUTHORIZATION=value)
    assert response.status_code == 401, response.content
    assert response["Content-Type"] == "application/problem+json"
