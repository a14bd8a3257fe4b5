"""The operators' console: login lockout, failed-login log, session limits, password rules."""

import logging
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import Client as DjangoClient
from django.utils import timezone

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"  # noqa: S105 - a test operator's password


@pytest.fixture
def operator(django_user_model):
    return django_user_model.objects.create_user(username="olga", password=PASSWORD, is_staff=True)


def log_in(http: DjangoClient, password: str, username: str = "olga"):
    return http.post("/admin/login/?next=/admin/", {"username": username, "password": password})


def is_logged_in(http: DjangoClient) -> bool:
    return http.get("/admin/").status_code == 200


def test_thirty_wrong_passwords_lock_the_account_even_for_the_right_one(operator):
    http = DjangoClient()
    for attempt in range(30):
        log_in(http, f"guess-{attempt}")
    answer = log_in(http, PASSWORD)
    assert answer.status_code == 429
    assert not is_logged_in(http)
    # Another address, browser and cookie jar: the count is kept per username, in the database.
    elsewhere = DjangoClient(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="other")
    assert log_in(elsewhere, PASSWORD).status_code == 429
    assert AccessAttempt.objects.filter(username="olga").exists()


def test_the_lockout_ends_after_its_cool_off(operator, settings):
    http = DjangoClient()
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(http, f"guess-{attempt}")
    assert log_in(http, PASSWORD).status_code == 429
    with time_machine.travel(timezone.now() + settings.AXES_COOLOFF_TIME + timedelta(seconds=1)):
        log_in(http, PASSWORD)
        assert is_logged_in(http)


def test_a_few_typos_then_the_right_password_log_in(operator, settings):
    http = DjangoClient()
    for attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        log_in(http, f"typo-{attempt}")
    log_in(http, PASSWORD)
    assert is_logged_in(http)


def test_a_failed_login_is_logged_with_the_username_and_never_the_password(operator, caplog):
    with caplog.at_level(logging.INFO):
        log_in(DjangoClient(), "secret-guess-1")
    failures = [record.getMessage() for record in caplog.records if "login failure" in record.getMessage()]
    assert failures
    assert all('username: "olga"' in line for line in failures)
    assert "secret-guess-1" not in caplog.text


@pytest.fixture
def logged_in_operator(operator) -> DjangoClient:
    http = DjangoClient()
    log_in(http, PASSWORD)
    assert is_logged_in(http)
    return http


def test_an_idle_session_expires(logged_in_operator, settings):
    with time_machine.travel(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 1)):
        assert not is_logged_in(logged_in_operator)


def test_an_active_session_ends_at_its_maximum_age(logged_in_operator, settings):
    start = timezone.now()
    maximum = timedelta(seconds=settings.SESSION_MAX_AGE_SECONDS)
    step = timedelta(seconds=settings.SESSION_COOKIE_AGE // 2)
    elapsed = step
    while elapsed < maximum - timedelta(minutes=1):
        with time_machine.travel(start + elapsed):
            assert is_logged_in(logged_in_operator)  # never idle long enough to expire
        elapsed += step
    with time_machine.travel(start + maximum + timedelta(minutes=1)):
        assert not is_logged_in(logged_in_operator)


def test_session_defaults_fit_an_office_day(settings):
    assert settings.SESSION_COOKIE_AGE <= 3600
    assert 8 * 3600 <= settings.SESSION_MAX_AGE_SECONDS <= 12 * 3600


@pytest.mark.parametrize(
    "password",
    [
        "Tr0ub4dor&3",  # 11 characters
        "123456789012345",  # numbers only
        "password1234",  # common
    ],
)
def test_weak_operator_passwords_are_refused(operator, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=operator)


def test_a_password_like_the_username_is_refused(django_user_model):
    user = django_user_model.objects.create_user(username="olga.vandenbroucke", is_staff=True)
    with pytest.raises(ValidationError, match="too similar"):
        validate_password("olga.vandenbroucke", user=user)


def test_a_long_uncommon_password_is_accepted(operator):
    validate_password("violet tractor on the 7th dune", user=operator)
