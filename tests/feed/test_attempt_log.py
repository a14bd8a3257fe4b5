"""The attempt log never lies: append-only at three levels (model, queryset, database) and
hash-chained per subscription, like the history."""

from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from feed.models import AttemptLogIsAppendOnlyError, DeliveryAttempt
from feed.selectors import attempt_log_verify
from feed.services.subscriptions import subscription_create
from feed.tasks import sweep_feed
from registrations.domain.vocabulary import ClientRole
from tests.factories import caller_for, make_client, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged(webhook_settings, receiver, submit):
    """A subscription with a few attempts: failures, then a success."""
    answers = iter([500])
    receiver.answer = lambda _message: (next(answers, 200), {})
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    made = subscription_create(caller=caller, target_url=receiver.url)
    submit(caller, [presence(caller=caller)])
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        sweep_feed()
    return made.subscription


def test_the_attempts_of_a_subscription_form_an_unbroken_chain(logged):
    attempts = list(DeliveryAttempt.objects.filter(subscription_id=logged.pk).order_by("seq"))
    assert [attempt.seq for attempt in attempts] == list(range(1, len(attempts) + 1))
    assert [attempt.outcome for attempt in attempts] == ["unavailable", "delivered", "delivered"]
    assert attempt_log_verify(subscription_id=logged.pk)


def test_an_attempt_cannot_be_changed_or_deleted_through_the_orm(logged):
    attempt = DeliveryAttempt.objects.filter(subscription_id=logged.pk).first()
    assert attempt is not None
    with pytest.raises(AttemptLogIsAppendOnlyError):
        attempt.save()
    with pytest.raises(AttemptLogIsAppendOnlyError):
        attempt.delete()
    with pytest.raises(AttemptLogIsAppendOnlyError):
        DeliveryAttempt.objects.filter(pk=attempt.pk).update(status_code=200)
    with pytest.raises(AttemptLogIsAppendOnlyError):
        DeliveryAttempt.objects.filter(pk=attempt.pk).delete()


def test_the_database_refuses_a_change_behind_the_orm(logged):
    attempt = DeliveryAttempt.objects.filter(subscription_id=logged.pk).first()
    assert attempt is not None
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE feed_deliveryattempt SET status_code = 200 WHERE id = %s", [attempt.pk])


def test_a_rewritten_attempt_breaks_the_chain(logged):
    attempt = DeliveryAttempt.objects.filter(subscription_id=logged.pk, seq=1).get()
    with connection.cursor() as cursor:  # an attacker with the database's keys, past the trigger
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE feed_deliveryattempt DISABLE TRIGGER feed_attempt_append_only")
        else:
            cursor.execute("DROP TRIGGER feed_attempt_append_only")
        cursor.execute("UPDATE feed_deliveryattempt SET status_code = 200 WHERE id = %s", [attempt.pk])
    assert not attempt_log_verify(subscription_id=logged.pk)
