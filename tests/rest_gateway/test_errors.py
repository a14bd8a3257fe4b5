"""Every error under /REST/ is problem+json, never HTML, never a stack trace (spec §6, §9);
per-client rate limits (bad input 33)."""

import hashlib
import logging
import os
import socket
import subprocess
import sys
import threading
import uuid

import pytest
from django.core.cache import caches
from redis.exceptions import RedisError
from rest_framework.response import Response

from config.settings import rate_limit_cache
from registrations.models import Registration
from rest_gateway.apis import GatewayApi
from rest_gateway.models import AccessToken
from tests.rest_gateway.conftest import API, Api, event, rest_client, token_for

pytestmark = pytest.mark.django_db


def _problem(response, status, problem_type):
    assert response.status_code == status
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["type"], body["status"]) == (problem_type, status)
    return body


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    "path", [API + "/nothing/here", API + "/presenceRegistrations/12/nothing", "/REST/elsewhere", API + "/"]
)
def test_unknown_urls_are_resource_not_found(client, settings, debug, path):
    settings.DEBUG = debug
    body = _problem(client.get(path), 404, "urn:problem-type:belgif:resourceNotFound")
    assert "nothing" not in str(body)  # the path is not echoed


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/presenceRegistrations/registerInBulk"),
        ("put", "/presenceRegistrations/1"),
        ("delete", "/presenceRegistrations/1"),
        ("options", "/presenceRegistrations"),
    ],
)
def test_a_method_an_operation_lacks_is_405_with_allow(api, method, path):
    response = getattr(api.http, method)(API + path, HTTP_AUTHORIZATION=f"Bearer {api.token}")
    _problem(response, 405, "about:blank")
    assert response["Allow"]


def test_an_unexpected_error_is_a_bare_500_problem_logged_with_its_instance(api, monkeypatch, caplog):
    def explode(**kwargs):
        raise RuntimeError("password=hunter2 at db.internal:5432")

    monkeypatch.setattr("rest_gateway.apis.registration_submit_cleaning_batch", explode)
    with caplog.at_level(logging.ERROR, logger="rest_gateway.errors"):
        response = api.register(event())
    body = _problem(response, 500, "urn:problem-type:belgif:internalServerError")
    assert "hunter2" not in response.content.decode()
    assert "db.internal" not in response.content.decode()
    assert any(body["instance"] in record.getMessage() for record in caplog.records)
    assert not Registration.objects.exists()


class _OpenApi(GatewayApi):
    """An operation whose permission check was forgotten: it must still never reach the core
    without an authenticated client."""

    permission_classes = ()

    def get(self, request):
        return Response({"caller": str(self.caller)})


def test_an_operation_reached_without_a_client_answers_401_not_500(rf):
    response = _OpenApi.as_view()(rf.get(API + "/open", HTTP_ACCEPT="application/json"))
    response.render()
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response.data["type"] == "urn:problem-type:belgif:noAccessToken"


def test_a_host_not_allowed_is_a_400_problem(client):
    response = client.get(API + "/refData/remarks", HTTP_HOST="evil.example")
    _problem(response, 400, "urn:problem-type:belgif:badRequest")


def test_a_non_numeric_content_length_is_a_400_problem(client):
    response = client.generic("POST", API + "/presenceRegistrations/search", b"{}", CONTENT_LENGTH="abc")
    _problem(response, 400, "urn:problem-type:belgif:badRequest")


def test_a_client_over_its_rate_limit_gets_429_and_others_are_unaffected(client, settings, key, api):
    settings.REST_RATE_LIMIT = "3/minute"
    caches[settings.REST_THROTTLE_CACHE].clear()
    for _ in range(3):
        assert api.get("/refData/remarks").status_code == 200
    response = api.get("/refData/remarks")
    body = _problem(response, 429, "urn:problem-type:belgif:tooManyRequests")
    assert int(response["Retry-After"]) >= 1
    assert body["retryAfterSec"] == int(response["Retry-After"])
    other = Api(client, token_for(client, rest_client(key), key))
    assert other.get("/refData/remarks").status_code == 200
    assert api.register(event()).status_code == 429
    assert not Registration.objects.exists()


def test_an_unacceptable_accept_header_is_a_406_problem(api):
    response = api.http.get(
        API + "/refData/remarks", HTTP_AUTHORIZATION=f"Bearer {api.token}", HTTP_ACCEPT="application/xml"
    )
    _problem(response, 406, "about:blank")


def api_client_id(api):
    return str(AccessToken.objects.get(token_hash=hashlib.sha256(api.token.encode()).hexdigest()).client_id)


@pytest.mark.redis
def test_rate_limit_counters_can_live_in_redis_shared_by_every_process(api, settings, redis_url):
    prefix = f"test-{uuid.uuid4()}"  # never clear a shared Redis database: own keys only
    settings.CACHES = {
        **settings.CACHES,
        settings.REST_THROTTLE_CACHE: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        },
    }
    settings.REST_RATE_LIMIT = "2/minute"
    key = f"throttle_client_{api_client_id(api)}"
    try:
        assert [api.get("/refData/remarks").status_code for _ in range(3)] == [200, 200, 429]
        assert caches[settings.REST_THROTTLE_CACHE].get(key)  # the counter is in Redis
    finally:
        caches[settings.REST_THROTTLE_CACHE].delete(key)


def test_calls_go_on_when_the_counters_redis_does_not_answer(api, settings, caplog):
    settings.CACHES = {
        **settings.CACHES,
        settings.REST_THROTTLE_CACHE: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    settings.REST_RATE_LIMIT = "1/minute"

    assert [api.get("/refData/remarks").status_code for _ in range(2)] == [200, 200]
    assert api.register(event()).status_code == 200
    assert Registration.objects.count() == 1
    assert "REST rate limit not checked" in caplog.text


def test_a_counters_redis_that_never_answers_fails_within_a_second_or_two(settings):
    """Accepted connections that get no answer (a hung Redis) end in a RedisError the
    throttles fail open on, instead of hanging every call (settings: one second per socket
    operation; redis-py's own default would wait five)."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
        url = f"redis://127.0.0.1:{silent.getsockname()[1]}/0"
        settings.CACHES = {**settings.CACHES, settings.REST_THROTTLE_CACHE: rate_limit_cache(url)}
        outcome: list[BaseException] = []

        def read_a_counter() -> None:
            try:
                caches[settings.REST_THROTTLE_CACHE].get("a-counter")
            except BaseException as exc:  # the outcome is what the test checks
                outcome.append(exc)

        reader = threading.Thread(target=read_a_counter, daemon=True)
        reader.start()
        reader.join(timeout=10)
        assert not reader.is_alive(), "the counters' cache hung on a Redis that never answers"
        assert len(outcome) == 1
        assert isinstance(outcome[0], RedisError)


@pytest.mark.parametrize(
    ("variable", "value"),
    [("REST_RATE_LIMIT", "fast"), ("REST_RATE_LIMIT", "0/minute"), ("OAUTH_ACCESS_TOKEN_SECONDS", "10")],
)
def test_a_bad_rest_setting_stops_the_service_with_a_clear_message(variable, value):
    environment = {key: val for key, val in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    environment[variable] = value
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode != 0
    assert variable in completed.stderr
