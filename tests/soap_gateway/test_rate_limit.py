"""The per-client SOAP rate limit (spec §9; issue 11, item 7): the call over the limit gets
SOA-02002 with Retry true, the seconds to wait, HTTP 429 and Retry-After; it stores nothing
and writes no history. Other clients, and calls that are not authenticated, spend nothing
of a client's budget."""

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime

import pytest
from django.core.cache import caches

from history.models import HistoryEvent
from registrations.models import Client, Registration
from registrations.services.clients import client_update
from soap_gateway.models import SeenSignature
from soap_gateway.throttling import SoapClientRateThrottle
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import (
    TimestampedSignature,
    envelope,
    fault_of,
    make_credentials,
    register_item,
    register_request,
    sign,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _the_clock_stands_still(time_machine):
    """No time passes during a test, so a client over its limit is told to wait the whole window."""
    time_machine.move_to(datetime.now(UTC), tick=False)


@pytest.fixture
def register_as(signed_post):
    """Sends one signed registerPresences of one item as the given credentials' client."""

    def send(credentials, client: Client):
        item = register_item(niss=make_niss(), company=client.enterprise_number, workplace=make_workplace_id())
        return signed_post(envelope(register_request([item])), TimestampedSignature(credentials))

    return send


def _assert_rate_limited(response) -> int:
    assert response.status_code == 429
    wait = int(response["Retry-After"])
    assert wait == 60  # the limits here are n/minute and the clock stands still
    fault = fault_of(response.content)
    assert (fault.faultstring, fault.code, fault.retry) == ("SOA-02002", "SOA-02002", "true")
    assert f"retry in {wait} seconds" in fault.message
    return wait


def test_the_call_over_the_limit_gets_a_retry_fault_and_stores_nothing(settings, register_as, credentials_a, client_a):
    settings.SOAP_RATE_LIMIT = "2/minute"
    assert [register_as(credentials_a, client_a).status_code for _ in range(2)] == [200, 200]
    stored, events = Registration.objects.count(), HistoryEvent.objects.count()

    _assert_rate_limited(register_as(credentials_a, client_a))

    assert (Registration.objects.count(), HistoryEvent.objects.count()) == (stored, events)


def test_another_client_is_not_affected(settings, register_as, credentials_a, client_a, credentials_b, client_b):
    settings.SOAP_RATE_LIMIT = "1/minute"
    assert register_as(credentials_a, client_a).status_code == 200
    _assert_rate_limited(register_as(credentials_a, client_a))

    assert register_as(credentials_b, client_b).status_code == 200


def test_a_clients_own_limit_replaces_the_default(
    settings, register_as, credentials_a, client_a, credentials_b, client_b
):
    settings.SOAP_RATE_LIMIT = "100/minute"
    client_update(client=client_a, name=client_a.name, is_active=True, rate_limit="1/minute")

    assert register_as(credentials_a, client_a).status_code == 200
    _assert_rate_limited(register_as(credentials_a, client_a))
    assert [register_as(credentials_b, client_b).status_code for _ in range(2)] == [200, 200]


def test_calls_that_are_not_authenticated_spend_nothing_of_a_clients_budget(
    settings, post_soap, register_as, credentials_a, client_a, tmp_path
):
    settings.SOAP_RATE_LIMIT = "2/minute"
    item = register_item(niss=make_niss(), company=client_a.enterprise_number, workplace=make_workplace_id())
    unsigned = envelope(register_request([item]))
    stranger = make_credentials(tmp_path, "not-registered")
    for body in (unsigned, unsigned, unsigned):
        assert fault_of(post_soap(body).content).code == "SOA-01001"
    for _ in range(3):
        assert fault_of(register_as(stranger, client_a).content).code == "SOA-01001"

    assert [register_as(credentials_a, client_a).status_code for _ in range(2)] == [200, 200]


def test_the_soap_and_rest_counters_are_apart(settings, register_as, credentials_a, client_a):
    settings.SOAP_RATE_LIMIT = "1/minute"
    rest_key = f"throttle_client_{client_a.pk}"
    caches[settings.REST_THROTTLE_CACHE].set(rest_key, [time.time()] * 5, 60)  # REST spent just now
    try:
        assert register_as(credentials_a, client_a).status_code == 200
    finally:
        caches[settings.REST_THROTTLE_CACHE].delete(rest_key)


_SPEND_ONE_CALL = """
import sys, uuid, django
django.setup()
from django.conf import settings
settings.CACHES[settings.REST_THROTTLE_CACHE]["KEY_PREFIX"] = sys.argv[1]
from soap_gateway.models import SeenSignature
from soap_gateway.throttling import SoapClientRateThrottle
throttle = SoapClientRateThrottle(client_id=uuid.UUID(sys.argv[2]), own_rate="")
print("allowed" if throttle.allow_request(None, None) else "refused")
"""


@pytest.mark.redis
def test_the_counters_live_in_redis_shared_by_every_process(settings, register_as, credentials_a, client_a, redis_url):
    prefix = f"test-{uuid.uuid4()}"  # never clear a shared Redis database: own keys only
    settings.CACHES = {
        **settings.CACHES,
        settings.REST_THROTTLE_CACHE: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": prefix,
        },
    }
    settings.SOAP_RATE_LIMIT = "2/minute"
    key = SoapClientRateThrottle(client_id=client_a.pk, own_rate="").get_cache_key(None, None)
    environment = {
        name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "CELERY_BROKER_URL")
    }
    environment.update({"REST_CACHE_URL": redis_url, "SOAP_RATE_LIMIT": "2/minute"})
    try:
        assert register_as(credentials_a, client_a).status_code == 200
        other_process = subprocess.run(
            [sys.executable, "-c", _SPEND_ONE_CALL, prefix, str(client_a.pk)],
            env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert other_process.stdout.strip() == "allowed"

        _assert_rate_limited(register_as(credentials_a, client_a))
        assert len(caches[settings.REST_THROTTLE_CACHE].get(key)) == 2  # the counter is in Redis
    finally:
        caches[settings.REST_THROTTLE_CACHE].delete(key)


def test_calls_go_on_when_the_counters_redis_does_not_answer(settings, register_as, credentials_a, client_a, caplog):
    settings.CACHES = {
        **settings.CACHES,
        settings.REST_THROTTLE_CACHE: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        },
    }
    settings.SOAP_RATE_LIMIT = "1/minute"

    assert [register_as(credentials_a, client_a).status_code for _ in range(2)] == [200, 200]
    assert "SOAP rate limit not checked" in caplog.text


@pytest.mark.parametrize("value", ["fast", "0/minute", "10/week"])
def test_a_bad_soap_rate_limit_stops_the_service_with_a_clear_message(value):
    environment = {name: val for name, val in os.environ.items() if name not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    environment["SOAP_RATE_LIMIT"] = value
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode != 0
    assert "SOAP_RATE_LIMIT must look like 600/minute" in completed.stderr


def test_the_call_over_the_limit_stores_no_signature_and_may_be_sent_again_unchanged(
    settings, post_soap, register_as, credentials_a, client_a
):
    settings.SOAP_RATE_LIMIT = "1/minute"
    assert register_as(credentials_a, client_a).status_code == 200
    item = register_item(niss=make_niss(), company=client_a.enterprise_number, workplace=make_workplace_id())
    signed = sign(envelope(register_request([item])), TimestampedSignature(credentials_a))
    seen = SeenSignature.objects.count()

    _assert_rate_limited(post_soap(signed))
    assert SeenSignature.objects.count() == seen

    settings.SOAP_RATE_LIMIT = "100/minute"  # the wait is over
    response = post_soap(signed)
    assert response.status_code == 200, fault_of(response.content).message
