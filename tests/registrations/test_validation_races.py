"""Validation reads its batch without locking it (issue 14): the one UPDATE that writes the
verdicts applies only to rows still waiting, and only those get an event."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from history.models import HistoryEvent
from registrations.models import ClientRole, Registration, Status
from registrations.services import batches
from registrations.services.presences import registration_submit_batch
from registrations.validation import run
from registrations.validation.run import registration_validate_batch
from tests.factories import caller_for, make_client, presence


def _submit(count):
    employer = caller_for(make_client(ClientRole.ENTERPRISE))
    items = [presence(caller=employer) for _ in range(count)]
    results = registration_submit_batch(items=items, caller=employer, channel="WS")
    return [result.registration.pk for result in results]


def _validated_events(registration_id: int) -> int:
    return HistoryEvent.objects.filter(registration_id=registration_id, event_type="registration.validated").count()


@pytest.mark.django_db
def test_a_registration_cancelled_while_its_batch_is_evaluated_stays_cancelled(monkeypatch):
    ids = _submit(3)
    evaluate = run.evaluate

    def cancelled_meanwhile(registrations, facts):
        Registration.objects.filter(pk=ids[1]).update(status=Status.CANCELLED)  # as a cancel would
        return evaluate(registrations, facts)

    monkeypatch.setattr(run, "evaluate", cancelled_meanwhile)

    assert registration_validate_batch(registration_ids=ids) == 2
    statuses = dict(Registration.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses[ids[1]] == Status.CANCELLED
    assert statuses[ids[0]] != Status.REGISTERED
    assert statuses[ids[2]] != Status.REGISTERED
    assert [_validated_events(pk) for pk in ids] == [1, 0, 1]


@pytest.mark.postgres
def test_two_deliveries_of_one_batch_at_once_validate_each_registration_once(transactional_db, monkeypatch):
    monkeypatch.setattr(batches, "_hand_off_validation", lambda ids: None)  # the two deliveries are ours
    ids = _submit(5)
    both_read = threading.Barrier(2, timeout=30)
    evaluate = run.evaluate

    def after_both_read(registrations, facts):
        both_read.wait()  # each delivery has read the batch as waiting before either writes
        return evaluate(registrations, facts)

    monkeypatch.setattr(run, "evaluate", after_both_read)

    def deliver() -> int:
        try:
            return registration_validate_batch(registration_ids=ids)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        validated = sorted(pool.map(lambda _: deliver(), range(2)))

    assert validated == [0, 5]
    assert [_validated_events(pk) for pk in ids] == [1] * 5
    assert not Registration.objects.filter(pk__in=ids, status=Status.REGISTERED).exists()
