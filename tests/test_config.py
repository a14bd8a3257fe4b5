"""Settings from the environment, failing loudly; the reserved URL mounts."""

import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.env import env_bool, env_int, env_url


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DATABASE_URL", "mysql://x@localhost/db", "DATABASE_URL must start with"),
        ("CELERY_BROKER_URL", "amqp://guest@localhost//", "CELERY_BROKER_URL must start with"),
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG must be one of"),
        ("REQUEST_BODY_MAX_BYTES", "2MB", "REQUEST_BODY_MAX_BYTES must be an integer"),
        ("VALIDATION_REQUEUE_AFTER_SECONDS", "0", "must be at least 1"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be a logging level name"),
    ],
)
def test_a_bad_variable_stops_the_service_with_a_clear_message(variable, value, message):
    environment = {key: val for key, val in os.environ.items() if key not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    environment[variable] = value
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode != 0
    assert message in completed.stderr


def test_production_requires_a_secret_key():
    environment = {key: val for key, val in os.environ.items() if key != "DJANGO_SECRET_KEY"}
    environment["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/presence"
    completed = subprocess.run(
        [sys.executable, "manage.py", "check"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert completed.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in completed.stderr


def test_env_helpers_parse_good_values(monkeypatch):
    monkeypatch.setenv("X_FLAG", "Yes")
    monkeypatch.setenv("X_NUMBER", "42")
    monkeypatch.setenv("X_URL", "redis://127.0.0.1:6379/0")
    assert env_bool("X_FLAG") is True
    assert env_int("X_NUMBER", 1, minimum=1) == 42
    assert env_url("X_URL", ("redis",)) == "redis://127.0.0.1:6379/0"
    with pytest.raises(ImproperlyConfigured):
        env_url("X_URL", ("postgres",))


@pytest.mark.embedded
@pytest.mark.django_db
def test_the_embedded_default_runs_sqlite_in_wal_with_immediate_transactions():
    assert connection.vendor == "sqlite"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.embedded
def test_without_a_broker_tasks_run_in_process(settings):
    assert settings.CELERY_TASK_ALWAYS_EAGER is True


def test_the_soap_mount_answers_a_post_without_a_trailing_slash_and_never_redirects(client):
    response = client.post("/PresenceRegistration/v1", data="<x/>", content_type="text/xml")
    assert response.status_code not in (301, 302, 307, 308)
    assert response["Content-Type"].startswith("text/xml")
    wrong_address = client.post("/PresenceRegistration/v1/", data="<x/>", content_type="text/xml")
    assert wrong_address["Content-Type"].startswith("text/xml")  # a SOAP fault, never an HTML page


def test_the_rest_mount_answers_problem_json(client):
    response = client.get("/REST/presenceRegistration/v1/presenceRegistrations/1")
    assert response["Content-Type"] == "application/problem+json"
