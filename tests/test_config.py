"""Settings from the environment, failing loudly; the reserved URL mounts."""

import json
import os
import stat
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client as DjangoClient

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


# --- Production settings: secure defaults, all settable, a guard against unsafe starts -------

PRODUCTION_ENVIRONMENT = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": "postgres://presence@127.0.0.1:5432/presence_prod_check",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/8",
    "DJANGO_SECRET_KEY": "p" * 25 + "roduction-only-secret-key-for-tests",
    "NISS_HASH_KEY": "a-niss-hash-key-of-at-least-32-characters",
    "DJANGO_ALLOWED_HOSTS": "presence.example.org",
    "REST_CACHE_URL": "redis://127.0.0.1:6379/8",
}
HTTPS_SETTINGS = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_PROXY_SSL_HEADER",
    "CSRF_TRUSTED_ORIGINS",
    "SESSION_COOKIE_AGE",
    "SESSION_MAX_AGE_SECONDS",
    "AXES_FAILURE_LIMIT",
    "AXES_COOLOFF_TIME",
)
PRINT_SETTINGS = (
    "import django, json; django.setup(); from django.conf import settings;"
    f"print(json.dumps({{name: getattr(settings, name) for name in {HTTPS_SETTINGS!r}}}, default=str))"
)


def run_settings(variables: dict[str, str], *, production: bool = True) -> subprocess.CompletedProcess[str]:
    environment = {key: val for key, val in os.environ.items() if not key.startswith(("DATABASE_", "CELERY_"))}
    environment |= (PRODUCTION_ENVIRONMENT if production else {"DJANGO_SETTINGS_MODULE": "config.settings"}) | variables
    for name, value in variables.items():
        if value is None:
            del environment[name]
    return subprocess.run(
        [sys.executable, "-c", PRINT_SETTINGS], env=environment, capture_output=True, text=True, timeout=60
    )


def settings_under(variables: dict[str, str], *, production: bool = True) -> dict[str, object]:
    completed = run_settings(variables, production=production)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout.splitlines()[-1])


def test_production_defaults_are_https_only():
    values = settings_under({})
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] is None  # trusting a header is opt-in


def test_every_https_and_session_setting_comes_from_the_environment():
    values = settings_under(
        {
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_HSTS_SECONDS": "3600",
            "DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS": "0",
            "DJANGO_SECURE_HSTS_PRELOAD": "1",
            "DJANGO_SESSION_COOKIE_SECURE": "0",
            "DJANGO_CSRF_COOKIE_SECURE": "0",
            "DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
            "DJANGO_CSRF_TRUSTED_ORIGINS": "https://presence.example.org,https://admin.example.org:8443",
            "SESSION_IDLE_TIMEOUT_SECONDS": "900",
            "SESSION_MAX_AGE_SECONDS": "28800",
            "LOGIN_FAILURE_LIMIT": "3",
            "LOGIN_LOCKOUT_MINUTES": "60",
        }
    )
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 3600,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": True,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://presence.example.org", "https://admin.example.org:8443"],
        "SESSION_COOKIE_AGE": 900,
        "SESSION_MAX_AGE_SECONDS": 28800,
        "AXES_FAILURE_LIMIT": 3,
        "AXES_COOLOFF_TIME": "1:00:00",
    }
    assert settings_under({"DJANGO_SECURE_PROXY_SSL_HEADER": "X-Forwarded-Ssl=on"})["SECURE_PROXY_SSL_HEADER"] == [
        "HTTP_X_FORWARDED_SSL",
        "on",
    ]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "presence.example.org", "each origin must look like https://host"),
        ("DJANGO_CSRF_TRUSTED_ORIGINS", "https://presence.example.org/admin/", "each origin must look like"),
        ("DJANGO_SECURE_PROXY_SSL_HEADER", "X Forwarded: https", "must be a header name like X-Forwarded-Proto"),
        ("DJANGO_SECURE_HSTS_SECONDS", "-1", "must be at least 0"),
        ("SESSION_MAX_AGE_SECONDS", "10h", "must be an integer"),
    ],
)
def test_a_bad_https_or_session_variable_stops_the_service(variable, value, message):
    completed = run_settings({variable: value})
    assert completed.returncode != 0
    assert message in completed.stderr


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"DJANGO_DEBUG": "1"}, "DJANGO_DEBUG must be off"),
        ({"DJANGO_SECRET_KEY": "test-only-secret"}, "DJANGO_SECRET_KEY must be at least 50 characters"),
        ({"DJANGO_SECRET_KEY": "x" * 60}, "at least 5 of them different"),
        ({"NISS_HASH_KEY": None}, "NISS_HASH_KEY is required"),
        ({"NISS_HASH_KEY": "short"}, "NISS_HASH_KEY is required: at least 32 characters"),
        ({"NISS_HASH_KEY": PRODUCTION_ENVIRONMENT["DJANGO_SECRET_KEY"]}, "NISS_HASH_KEY must differ"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "k3y-0f-5tartpr0ject" * 3}, "must not be a development key"),
        ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS is required"),
        ({"DJANGO_ALLOWED_HOSTS": " , "}, "DJANGO_ALLOWED_HOSTS is required"),
        ({"REST_CACHE_URL": None}, "REST_CACHE_URL is required"),
        ({"REST_CACHE_URL": ""}, "REST_CACHE_URL is required"),
    ],
)
def test_production_refuses_to_start_unsafe(variables, message):
    completed = run_settings(variables)
    assert completed.returncode != 0
    assert message in completed.stderr


def test_the_embedded_default_stays_on_plain_http_with_debug():
    values = settings_under({"DJANGO_DEBUG": "1", "DATABASE_URL": None}, production=False)
    assert values["DEBUG"] is True
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False


@pytest.mark.django_db
def test_the_embedded_default_serves_the_admin_over_plain_http(client):
    assert client.get("/admin/login/").status_code == 200


@pytest.mark.django_db
def test_an_admin_login_through_a_tls_proxy_on_another_host_passes_the_origin_check(settings, django_user_model):
    """The proxy terminates TLS for presence.example.org and forwards to web-1:8000."""
    django_user_model.objects.create_user(username="olga", password="correct horse battery staple", is_staff=True)
    settings.ALLOWED_HOSTS = ["web-1"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = {"HTTP_HOST": "web-1:8000", "HTTP_X_FORWARDED_PROTO": "https"}

    def log_in() -> int:
        http = DjangoClient(enforce_csrf_checks=True)
        http.get("/admin/login/", **proxied)
        form = {
            "username": "olga",
            "password": "correct horse battery staple",
            "csrfmiddlewaretoken": http.cookies["csrftoken"].value,
        }
        answer = http.post("/admin/login/", form, HTTP_ORIGIN="https://presence.example.org", **proxied)
        return answer.status_code

    assert log_in() == 403  # "Origin checking failed": the public origin is not this host
    settings.CSRF_TRUSTED_ORIGINS = ["https://presence.example.org"]
    assert log_in() == 302


def test_the_embedded_database_is_created_readable_by_its_owner_only(tmp_path):
    environment = {key: val for key, val in os.environ.items() if not key.startswith(("DATABASE_", "CELERY_"))}
    environment |= {"DJANGO_SETTINGS_MODULE": "config.settings", "SQLITE_PATH": str(tmp_path / "presence.sqlite3")}
    connect = "import django; django.setup(); from django.db import connection; connection.ensure_connection()"
    completed = subprocess.run(
        [sys.executable, "-c", connect], env=environment, capture_output=True, text=True, timeout=60, umask=0o022
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    files = sorted(path.name for path in tmp_path.iterdir())
    assert "presence.sqlite3" in files
    assert {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in files} == dict.fromkeys(files, 0o600)


def run_check_deploy(**variables: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/check_deploy.py"],
        env=os.environ | variables,
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_check_deploy_reports_only_the_warnings_docs_deploy_explains():
    completed = run_check_deploy()
    assert completed.returncode == 0, completed.stderr
    assert "security.W021" in completed.stdout


def test_check_deploy_fails_on_a_warning_docs_deploy_does_not_explain():
    completed = run_check_deploy(DJANGO_SESSION_COOKIE_SECURE="0")
    assert completed.returncode == 1
    assert "security.W012 is not listed with its reason in docs/deploy.md" in completed.stderr


def test_check_deploy_fails_on_an_explanation_for_a_warning_no_longer_reported():
    completed = run_check_deploy(DJANGO_SECURE_HSTS_PRELOAD="1")
    assert completed.returncode == 1
    assert "security.W021 is listed in docs/deploy.md but no longer reported" in completed.stderr


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/PresenceRegistration/v1", "/REST/presenceRegistration/v1/presenceRegistrations", "/admin/login/"]
)
def test_plain_http_is_redirected_to_https_when_required(client, settings, path):
    settings.SECURE_SSL_REDIRECT = True
    answer = client.post(path, data="<x/>", content_type="text/xml")
    assert answer.status_code == 301
    assert answer["Location"] == f"https://testserver{path}"
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert client.post(path, data="<x/>", content_type="text/xml", HTTP_X_FORWARDED_PROTO="https").status_code != 301
