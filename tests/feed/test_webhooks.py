"""Webhooks end to end, against a real receiver on loopback that verifies every message with
`standardwebhooks`: delivery, retries, order per registration, disabling, secret rotation."""

import pytest

from feed.models import Delivery, DeliveryAttempt
from feed.services.subscriptions import subscription_create
from registrations.domain.vocabulary import ClientRole
from tests.factories import caller_for, make_client, make_niss, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    """An enterprise client that registers its own people (and so sees their registrations)."""
    return caller_for(make_client(ClientRole.ENTERPRISE))


def test_each_event_of_a_registration_reaches_its_sender_signed(webhook_settings, receiver, employer, submit):
    made = subscription_create(caller=employer, target_url=receiver.url)
    niss = make_niss()

    [registration] = submit(employer, [presence(caller=employer, niss=niss)])

    messages = receiver.messages()
    bodies = [message.verified(made.secret) for message in messages]
    assert [body["type"] for body in bodies] == ["registration.created", "registration.failed"]
    assert {body["data"]["registration"]["id"] for body in bodies} == {registration.pk}
    assert [message.webhook_id for message in messages] == [body["id"] for body in bodies]
    assert bodies[1]["data"]["remarks"]  # the remarks it failed on
    assert all(niss not in message.body.decode() for message in messages)  # never the person
    assert all(message.path == "/hooks/presence?token=abc" for message in messages)
    delivered = Delivery.objects.filter(subscription=made.subscription)
    assert set(delivered.values_list("state", flat=True)) == {Delivery.State.DELIVERED}
    attempt = DeliveryAttempt.objects.filter(subscription_id=made.subscription.pk).first()
    assert attempt is not None
    assert (attempt.outcome, attempt.status_code, attempt.target_host) == ("delivered", 200, "127.0.0.1")
