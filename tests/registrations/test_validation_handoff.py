"""The validation hand-off and its outbox guarantee: a Redis outage delays, never loses."""

import io
import logging
import time
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from config.celery import app as celery_app
from history.models import HistoryEvent
from registrations import tasks
from registrations.models import ClientRole, Registration, Status
from registrations.services.presences import registration_submit_batch
from registrations.tasks import requeue_waiting_validations
from registrations.validation.run import registration_validate_batch
from tests.conftest import free_port, use_broker
from tests.factories import caller_for, make_client, presence

# Each hand-off: the function a service calls, the task it publishes, and what it passes.
HAND_OFFS = [
    (tasks.enqueue_validation, "validate_registrations", [1, 2]),
    (tasks.enqueue_revalidation, "revalidate_registrations", [1, 2]),
    (tasks.enqueue_geocoding, "geocode_registration", 1),
]


@celery_app.task(name="tests.registrations.takes_two_arguments")
def _takes_two_arguments(first, second):
    """A task whose signature no hand-off matches: calling it is a programming error."""


@pytest.fixture
def employer(db):
    return caller_for(make_client(ClientRole.ENTERPRISE))


def wait_until(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.django_db
def test_a_redelivered_validation_changes_nothing(employer):
    [result] = registration_submit_batch(items=[presence(caller=employer)], caller=employer, channel="WS")
    assert registration_validate_batch(registration_ids=[result.registration.pk]) == 1
    assert registration_validate_batch(registration_ids=[result.registration.pk]) == 0
    assert result.registration.history_events.filter(event_type="registration.validated").count() == 1


@pytest.mark.django_db
def test_the_sweeper_validates_registrations_left_waiting(employer, settings):
    settings.VALIDATION_REQUEUE_AFTER_SECONDS = 60
    results = registration_submit_batch(
        items=[presence(caller=employer) for _ in range(3)], caller=employer, channel="WS"
    )
    fresh, *old = [result.registration.pk for result in results]
    Registration.objects.filter(pk__in=old).update(created_at=timezone.now() - timedelta(minutes=5))

    assert requeue_waiting_validations() == 2  # eager: queued and run in-process
    assert set(Registration.objects.filter(status=Status.REGISTERED).values_list("pk", flat=True)) == {fresh}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_registration_submitted_while_redis_is_down_is_validated_after_it_returns(
    employer, own_redis, real_broker, start_worker, settings
):
    use_broker(own_redis.url)
    own_redis.stop()  # Redis is down while the client submits

    started = time.monotonic()
    results = registration_submit_batch(
        items=[presence(caller=employer) for _ in range(5)], caller=employer, channel="WS"
    )
    assert time.monotonic() - started < 10, "a broker outage must not hang the client"
    ids = [result.registration.pk for result in results]
    assert all(result.errors == [] for result in results)  # accepted and stored
    assert set(Registration.objects.filter(pk__in=ids).values_list("status", flat=True)) == {Status.REGISTERED}

    own_redis.start()  # back, empty: the lost publish is not in it
    start_worker(own_redis.url)
    settings.VALIDATION_REQUEUE_AFTER_SECONDS = 1
    time.sleep(1.1)
    assert requeue_waiting_validations() == 5

    assert wait_until(lambda: not Registration.objects.filter(pk__in=ids, status=Status.REGISTERED).exists())
    validated = HistoryEvent.objects.filter(registration_id__in=ids, event_type="registration.validated")
    assert sorted(validated.values_list("registration_id", flat=True)) == sorted(ids)  # once each


@pytest.mark.django_db
def test_10000_pending_registrations_are_validated_in_a_bounded_number_of_queries_per_batch(
    employer, settings, django_assert_max_num_queries
):
    settings.VALIDATION_REQUEUE_AFTER_SECONDS = 1
    for _ in range(50):
        registration_submit_batch(items=[presence(caller=employer) for _ in range(200)], caller=employer, channel="WS")
    Registration.objects.update(created_at=timezone.now() - timedelta(minutes=5))

    batches = 10_000 // 200
    # One query to find the waiting ids, then per batch of 200: a fixed set (reference facts,
    # row lock, bulk update, history chain heads, history insert, savepoints) of at most 20.
    with django_assert_max_num_queries(1 + batches * 20):
        assert requeue_waiting_validations() == 10_000
    assert not Registration.objects.filter(status=Status.REGISTERED).exists()
    assert HistoryEvent.objects.filter(event_type="registration.validated").count() == 10_000


@pytest.mark.parametrize(("hand_off", "task_name", "argument"), HAND_OFFS)
def test_a_hand_off_to_an_unreachable_broker_is_reported_not_raised(real_broker, caplog, hand_off, task_name, argument):
    use_broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there: connection refused
    with caplog.at_level(logging.WARNING, logger="registrations.tasks"):
        assert hand_off(argument) is False
    assert "hand-off failed" in caplog.text


@pytest.mark.parametrize(("hand_off", "task_name", "argument"), HAND_OFFS)
def test_a_programming_error_in_a_hand_off_propagates_instead_of_passing_for_a_broker_outage(
    monkeypatch, caplog, hand_off, task_name, argument
):
    monkeypatch.setattr(tasks, task_name, _takes_two_arguments)
    with pytest.raises(TypeError):
        hand_off(argument)
    assert "hand-off failed" not in caplog.text


@pytest.mark.django_db
def test_run_sweeps_once_validates_what_was_left_waiting(employer, settings):
    settings.VALIDATION_REQUEUE_AFTER_SECONDS = 60
    [result] = registration_submit_batch(items=[presence(caller=employer)], caller=employer, channel="WS")
    Registration.objects.filter(pk=result.registration.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    out = io.StringIO()
    call_command("run_sweeps", "--once", stdout=out)
    assert "1 waiting queued" in out.getvalue()
    assert Registration.objects.get(pk=result.registration.pk).status != Status.REGISTERED
