"""The token endpoint's per-client rate limit (spec §9): the request over it gets a 429
`tooManyRequests` problem with RFC 6749's `error`, `Retry-After`, and writes no row. It is
counted only once the assertion is verified and fresh, so forged, unknown or replayed
assertions spend nothing of a client's budget and write nothing before the signature check."""

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registrations.services.clients import client_update
from rest_gateway.models import AccessToken, UsedClientAssertion
from tests.rest_gateway.conftest import Api, assertion, post_token, rest_client, token_form

pytestmark = pytest.mark.django_db


def _limit_tokens(settings, rate: str) -> None:
    settings.OAUTH_TOKEN_RATE_LIMIT = rate


@pytest.fixture(autouse=True)
def _the_clock_stands_still(time_machine):
    """No time passes during a test, so a client over its limit is told to wait the whole window."""
    time_machine.move_to(datetime.now(UTC), tick=False)


def _ask(http, client, key, signed=None):
    return post_token(http, token_form(signed or assertion(key, str(client.pk))))


def _rows() -> tuple[int, int]:
    return AccessToken.objects.count(), UsedClientAssertion.objects.count()


def _assert_too_many(response) -> int:
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response["Cache-Control"] == "no-store"
    wait = int(response["Retry-After"])
    assert wait == 60  # the limits here are n/minute and the clock stands still
    body = response.json()
    assert (body["type"], body["status"]) == ("urn:problem-type:belgif:tooManyRequests", 429)
    assert body["retryAfterSec"] == wait
    assert body["error"] == "temporarily_unavailable"
    assert f"retry in {wait} seconds" in body["error_description"]
    assert "access_token" not in body
    return wait


def test_the_token_request_over_the_limit_gets_429_and_writes_nothing(client, settings, employer, key):
    _limit_tokens(settings, "2/minute")
    assert [_ask(client, employer, key).status_code for _ in range(2)] == [200, 200]
    rows = _rows()

    _assert_too_many(_ask(client, employer, key))

    assert _rows() == rows


def test_another_client_still_gets_its_tokens(client, settings, employer, key):
    _limit_tokens(settings, "1/minute")
    assert _ask(client, employer, key).status_code == 200
    _assert_too_many(_ask(client, employer, key))

    assert _ask(client, rest_client(key), key).status_code == 200


def test_a_clients_smaller_own_limit_applies_and_a_larger_one_does_not_raise_it(client, settings, key):
    _limit_tokens(settings, "2/minute")
    restricted, generous = rest_client(key), rest_client(key)
    client_update(client=restricted, name=restricted.name, is_active=True, rate_limit="1/minute")
    client_update(client=generous, name=generous.name, is_active=True, rate_limit="6000/minute")

    assert _ask(client, restricted, key).status_code == 200
    _assert_too_many(_ask(client, restricted, key))
    assert [_ask(client, generous, key).status_code for _ in range(2)] == [200, 200]
    _assert_too_many(_ask(client, generous, key))


def test_replayed_assertions_spend_nothing_of_the_clients_budget(client, settings, employer, key):
    _limit_tokens(settings, "2/minute")
    captured = assertion(key, str(employer.pk))
    assert _ask(client, employer, key, captured).status_code == 200
    for _ in range(3):
        assert _ask(client, employer, key, captured).json()["error"] == "invalid_client"

    assert _ask(client, employer, key).status_code == 200
    _assert_too_many(_ask(client, employer, key))


def test_forged_assertions_write_nothing_and_spend_nothing(client, settings, employer, key, other_key):
    _limit_tokens(settings, "1/minute")
    forged = [
        "not-a-jwt",
        assertion(other_key, str(employer.pk)),  # names the client, signed by someone else
        assertion(other_key, "00000000-0000-0000-0000-000000000000"),  # no such client
    ]
    with CaptureQueriesContext(connection) as queries:
        for signed in forged:
            assert _ask(client, employer, key, signed).status_code == 400
    statements = [query["sql"].lstrip().split()[0].upper() for query in queries.captured_queries]
    assert set(statements) <= {"SELECT"}, statements  # nothing written before the signature check
    assert _rows() == (0, 0)

    assert _ask(client, employer, key).status_code == 200
    _assert_too_many(_ask(client, employer, key))


def test_token_requests_and_api_calls_are_counted_apart(client, settings, employer, key):
    _limit_tokens(settings, "1/minute")
    token = _ask(client, employer, key).json()["access_token"]
    _assert_too_many(_ask(client, employer, key))
    assert Api(client, token).get("/refData/remarks").status_code == 200

    _limit_tokens(settings, "600/minute")
    settings.REST_RATE_LIMIT = "1/minute"
    assert Api(client, token).get("/refData/remarks").status_code == 429
    assert _ask(client, employer, key).status_code == 200


def test_tokens_are_issued_when_the_counters_redis_does_not_answer(client, settings, employer, key, caplog):
    settings.CACHES = {
        **settings.CACHES,
        settings.REST_THROTTLE_CACHE: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    _limit_tokens(settings, "1/minute")

    assert [_ask(client, employer, key).status_code for _ in range(2)] == [200, 200]
    assert "token rate limit not checked" in caplog.text


def test_a_bad_token_rate_limit_stops_the_service_with_a_clear_message():
    environment = {name: val for name, val in os.environ.items() if name not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    environment["OAUTH_TOKEN_RATE_LIMIT"] = "0/minute"  # noqa: S105 - a rate, not a secret
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode != 0
    assert "OAUTH_TOKEN_RATE_LIMIT must look like 600/minute" in completed.stderr
