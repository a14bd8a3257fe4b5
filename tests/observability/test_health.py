"""/health/live and /health/ready in process: JSON, cheap, no secrets, reachable by a probe over
plain HTTP in production; ready fails on an unmigrated database or a stale validation queue.
The outages of the real PostgreSQL and Redis: test_health_outages.py."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client as DjangoClient
from django.utils import timezone

from registrations.domain.vocabulary import Channel
from registrations.models import ClientRole, Registration
from registrations.services.presences import registration_submit_batch
from tests.factories import caller_for, make_client, presence

LIVE = "/health/live"
READY = "/health/ready"
# What a health answer must never show: where the services are, or how to log in to them.
SECRETS = ("127.0.0.1", "localhost", "6379", "5432", "postgres", "redis://", "password", "sqlite3")


def assert_no_secrets(content: bytes, settings) -> None:
    text = content.decode()
    for secret in (*SECRETS, settings.SECRET_KEY, str(connection.settings_dict["NAME"])):
        assert secret not in text


def test_live_answers_json_without_touching_the_database(client):
    # No database access is allowed in this test: a query would fail the probe.
    response = client.get(LIVE, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"ProcessAnswers()": "OK"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_ready_checks_database_migrations_broker_and_queue(client, settings):
    response = client.get(READY)
    assert response.status_code == 200, response.content
    expected = {"Database(alias='default')", "Migrations()", "ValidationQueue()"}
    if not settings.CELERY_TASK_ALWAYS_EAGER:  # a broker is configured (the PostgreSQL + Redis pass)
        expected.add("Broker()")
    assert response.json() == dict.fromkeys(expected, "OK")
    assert_no_secrets(response.content, settings)


@pytest.mark.django_db(transaction=True)
def test_ready_answers_json_whatever_the_client_accepts(client):
    for accept in ("text/html", "text/plain", "application/xml", "application/rss+xml", ""):
        response = client.get(READY, HTTP_ACCEPT=accept)
        assert (response.status_code, response["Content-Type"]) == (200, "application/json")
    assert client.get(READY, {"format": "openmetrics"})["Content-Type"] == "application/json"


def waiting_registration(created_minutes_ago):
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    [result] = registration_submit_batch(items=[presence(caller=caller)], caller=caller, channel=Channel.WS)
    registration = result.registration
    # Validated in-process at once: put it back in the queue, as if no worker had taken it.
    Registration.objects.filter(pk=registration.pk).update(
        status="registered", created_at=timezone.now() - timedelta(minutes=created_minutes_ago)
    )
    return registration


@pytest.mark.django_db(transaction=True)
def test_ready_fails_when_the_oldest_waiting_validation_is_older_than_the_threshold(client, settings):
    settings.HEALTH_VALIDATION_MAX_AGE_SECONDS = 600
    waiting_registration(created_minutes_ago=5)
    assert client.get(READY).status_code == 200

    waiting_registration(created_minutes_ago=15)
    response = client.get(READY)
    assert response.status_code == 503
    message = response.json()["ValidationQueue()"]
    assert message.startswith("Unavailable: The oldest registration waiting for validation is 9")
    assert message.endswith("s old (limit 600 s).")
    assert response.json()["Database(alias='default')"] == "OK"


@pytest.mark.django_db(transaction=True)
def test_a_threshold_of_zero_leaves_the_queue_to_the_alerts(client, settings):
    settings.HEALTH_VALIDATION_MAX_AGE_SECONDS = 0
    waiting_registration(created_minutes_ago=600)
    response = client.get(READY)
    assert response.status_code == 200
    assert "ValidationQueue()" not in response.json()


@pytest.mark.django_db(transaction=True)
def test_ready_fails_while_a_migration_is_not_applied(client):
    recorder = MigrationRecorder(connection)
    last = recorder.migration_qs.filter(app="registrations").order_by("-id").first()
    last.delete()  # as if the release's newest migration had not run yet
    try:
        response = client.get(READY)
    finally:
        recorder.record_applied(last.app, last.name)
    assert response.status_code == 503
    assert response.json()["Migrations()"] == "Unavailable: The database is not migrated: run manage.py migrate."
    assert client.get(READY).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_production_probes_over_plain_http_are_not_redirected(settings):
    """A load balancer calls http://10.0.0.7:8000/health/ready: with HTTPS enforced, the
    probes (and the scrape) are exempt from the redirect, the console and the APIs are not."""
    settings.SECURE_SSL_REDIRECT = True
    plain_http = DjangoClient()  # a fresh handler: the security middleware reads the setting
    assert plain_http.get(LIVE).status_code == 200
    assert plain_http.get(READY).status_code == 200
    assert plain_http.get("/metrics").status_code == 401  # refused, but not redirected
    assert plain_http.get("/admin/").status_code == 301
    assert plain_http.get("/health/live/").status_code == 301  # only the two exact paths
    assert plain_http.get("/REST/presenceRegistration/v1/refData/remarks").status_code == 301


@pytest.mark.django_db(transaction=True)
def test_probes_need_no_login_and_no_rate_limit(client, settings):
    settings.REST_RATE_LIMIT = "1/minute"
    settings.SOAP_RATE_LIMIT = "1/minute"
    answers = {client.get(READY).status_code for _ in range(5)} | {client.get(LIVE).status_code for _ in range(5)}
    assert answers == {200}
