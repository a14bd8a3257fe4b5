"""Validation by real `celery -A config worker` processes on a real Redis (not eager)."""

import signal
import sqlite3
import time

import psycopg
import pytest
import redis
from django.db import connection

from history.models import HistoryEvent
from registrations.models import ClientRole, Registration, Status
from registrations.services.presences import registration_submit_batch
from tests.conftest import use_broker
from tests.factories import caller_for, make_client, presence

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def wait_until(condition, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def submit_200():
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    results = registration_submit_batch(
        items=[presence(caller=caller) for _ in range(200)], caller=caller, channel="WS"
    )
    return [result.registration.pk for result in results]


def all_validated(ids):
    return not Registration.objects.filter(pk__in=ids, status=Status.REGISTERED).exists()


def validated_once_each(ids):
    validated = HistoryEvent.objects.filter(registration_id__in=ids, event_type="registration.validated")
    return sorted(validated.values_list("registration_id", flat=True)) == sorted(ids)


class RowLock:
    """Holds the registrations' rows from another connection, so a worker blocks mid-task."""

    def __init__(self, ids):
        settings = connection.settings_dict
        if connection.vendor == "postgresql":
            self.connection = psycopg.connect(
                host=settings["HOST"] or "127.0.0.1",
                port=settings["PORT"] or 5432,
                user=settings["USER"],
                password=settings["PASSWORD"] or None,
                dbname=settings["NAME"],
            )
            self.connection.execute("SELECT id FROM registrations_registration WHERE id = ANY(%s) FOR UPDATE", [ids])
        else:
            self.connection = sqlite3.connect(settings["NAME"], isolation_level=None)
            self.connection.execute("BEGIN IMMEDIATE")  # the write lock: the worker's IMMEDIATE waits

    def release(self):
        self.connection.rollback()
        self.connection.close()


def test_a_200_item_batch_is_validated_end_to_end_by_a_worker(own_redis, real_broker, start_worker):
    use_broker(own_redis.url)
    start_worker(own_redis.url)
    ids = submit_200()
    assert wait_until(lambda: all_validated(ids))
    assert validated_once_each(ids)


def test_a_worker_killed_mid_batch_leaves_every_registration_validated_exactly_once(
    own_redis, real_broker, start_worker
):
    use_broker(own_redis.url)
    ids = submit_200()  # the task waits in Redis: no worker yet
    lock = RowLock(ids)
    try:
        worker = start_worker(own_redis.url, CELERY_VISIBILITY_TIMEOUT="10")
        broker = redis.Redis.from_url(own_redis.url)
        # The worker has taken the task (it sits in kombu's unacknowledged set) and is blocked in it.
        assert wait_until(lambda: broker.hlen("unacked") == 1, timeout=60)
        time.sleep(0.5)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert Registration.objects.filter(pk__in=ids, status=Status.REGISTERED).count() == 200  # nothing half-done
    finally:
        lock.release()

    start_worker(own_redis.url, CELERY_VISIBILITY_TIMEOUT="10")  # the task comes back after the timeout
    assert wait_until(lambda: all_validated(ids))
    time.sleep(1)  # a second delivery, if any, would have written by now
    assert validated_once_each(ids)
