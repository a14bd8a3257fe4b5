"""Webhooks end to end, against a real receiver on loopback that verifies every message with
`standardwebhooks`: delivery, retries, order per registration, disabling, secret rotation."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from feed.models import Delivery, DeliveryAttempt, Subscription
from feed.selectors import feed_page, subscriptions_due
from feed.services.subscriptions import subscription_create, subscription_rotate_secret
from feed.tasks import sweep_feed
from registrations.domain.vocabulary import ClientRole
from tests.factories import caller_for, make_client, make_niss, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    """An enterprise client that registers its own people (and so sees their registrations)."""
    return caller_for(make_client(ClientRole.ENTERPRISE))


def body(message):
    return json.loads(message.body)


def later(seconds: float):
    """Travel `seconds` ahead (the clock keeps ticking), as the retries would wait."""
    return time_machine.travel(timezone.now() + timedelta(seconds=seconds))


def test_each_event_of_a_registration_reaches_its_sender_signed(webhook_settings, receiver, employer, submit, caplog):
    caplog.set_level("DEBUG")
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
    assert "delivery run of subscription" in caplog.text
    assert niss not in caplog.text  # nor in a log line
    assert all(message.path == "/hooks/presence?token=abc" for message in messages)
    delivered = Delivery.objects.filter(subscription=made.subscription)
    assert set(delivered.values_list("state", flat=True)) == {Delivery.State.DELIVERED}
    attempt = DeliveryAttempt.objects.filter(subscription_id=made.subscription.pk).first()
    assert attempt is not None
    assert (attempt.outcome, attempt.status_code, attempt.target_host) == ("delivered", 200, "127.0.0.1")


def test_only_the_subscribed_event_types_are_sent(webhook_settings, receiver, employer, submit):
    made = subscription_create(caller=employer, target_url=receiver.url, event_types=["registration.failed"])

    submit(employer, [presence(caller=employer), presence(caller=employer)])

    assert [message.verified(made.secret)["type"] for message in receiver.messages()] == ["registration.failed"] * 2


def test_a_failed_delivery_is_retried_on_the_schedule_until_the_receiver_answers(
    webhook_settings, receiver, employer, submit
):
    answers = iter([503, 500])
    receiver.answer = lambda _message: (next(answers, 200), {})
    made = subscription_create(caller=employer, target_url=receiver.url, event_types=["registration.created"])
    receiver.secrets = [made.secret]

    submit(employer, [presence(caller=employer)])
    assert len(receiver.messages()) == 1
    sweep_feed()  # not due yet: the receiver is left alone
    assert len(receiver.messages()) == 1
    with later(6):
        sweep_feed()  # the first retry, 5 s later
        with later(301):
            sweep_feed()  # the second, 5 min after it

    attempts = list(DeliveryAttempt.objects.filter(subscription_id=made.subscription.pk).order_by("seq"))
    assert [(a.outcome, a.status_code) for a in attempts] == [
        ("unavailable", 503),
        ("unavailable", 500),
        ("delivered", 200),
    ]
    messages = receiver.messages()
    assert len({message.webhook_id for message in messages}) == 1  # the same message, sent again
    assert all(message.valid[made.secret] for message in messages)
    delivery = Delivery.objects.get(subscription=made.subscription)
    assert (delivery.state, delivery.attempts) == (Delivery.State.DELIVERED, 3)
    made.subscription.refresh_from_db()
    assert made.subscription.failing_since is None


def test_the_events_of_a_registration_arrive_in_order_while_others_go_on(webhook_settings, receiver, employer, submit):
    made = subscription_create(caller=employer, target_url=receiver.url)
    receiver.secrets = [made.secret]
    first = [True]

    def refuse_the_first(_message):
        # A 400 is about that message, not the receiver: the others go on meanwhile.
        refused, first[0] = first[0], False
        return (400 if refused else 200), {}

    receiver.answer = refuse_the_first
    one, two = submit(employer, [presence(caller=employer), presence(caller=employer)])

    def seen():
        return [(body(m)["data"]["registration"]["id"], body(m)["type"]) for m in receiver.messages()]

    assert seen() == [
        (one.pk, "registration.created"),  # refused: retried in 5 s
        (two.pk, "registration.created"),
        (two.pk, "registration.failed"),  # while one's failure waits behind its creation
    ]
    with later(6):
        sweep_feed()
    assert seen()[3:] == [(one.pk, "registration.created"), (one.pk, "registration.failed")]
    assert all(message.valid[made.secret] for message in receiver.messages())
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.DELIVERED}


def test_a_receiver_that_is_down_is_probed_by_one_message_at_a_time(webhook_settings, receiver, employer, submit):
    receiver.answer = lambda _message: (503, {})
    made = subscription_create(caller=employer, target_url=receiver.url, event_types=["registration.created"])

    submit(employer, [presence(caller=employer) for _ in range(5)])

    assert len(receiver.messages()) == 1  # the others wait for its retry
    receiver.answer = lambda _message: (200, {})
    with later(6):
        sweep_feed()
    assert len({message.webhook_id for message in receiver.messages()}) == 5
    assert Delivery.objects.filter(subscription=made.subscription, state=Delivery.State.DELIVERED).count() == 5


def test_a_subscription_that_keeps_failing_is_disabled_and_its_events_stay_in_the_feed(
    webhook_settings, receiver, employer, submit
):
    webhook_settings.WEBHOOK_RETRY_SCHEDULE_SECONDS = [5, 60, 600]
    webhook_settings.WEBHOOK_DISABLE_AFTER_SECONDS = 665
    receiver.answer = lambda _message: (500, {})
    made = subscription_create(caller=employer, target_url=receiver.url)

    [registration] = submit(employer, [presence(caller=employer)])
    for seconds in (6, 61, 601, 10):
        with later(seconds):
            sweep_feed()
        webhook_settings.WEBHOOK_DISABLE_AFTER_SECONDS -= seconds  # the travels do not add up: shift the bar

    subscription = Subscription.objects.get(pk=made.subscription.pk)
    assert subscription.state == Subscription.State.DISABLED
    assert "every attempt failed since" in subscription.disabled_reason
    assert "HTTP 500" in subscription.disabled_reason
    assert not Delivery.objects.filter(subscription=subscription, state=Delivery.State.PENDING).exists()
    before = len(receiver.messages())
    with later(3600):
        sweep_feed()
    assert len(receiver.messages()) == before  # nothing more is sent
    page = feed_page(caller=employer, after=0)
    assert [item["type"] for item in page.items] == ["registration.created", "registration.failed"]
    assert {item["data"]["registration"]["id"] for item in page.items} == {registration.pk}


def test_a_receiver_answering_410_gone_is_disabled_at_once(webhook_settings, receiver, employer, submit):
    receiver.answer = lambda _message: (410, {})
    made = subscription_create(caller=employer, target_url=receiver.url)

    submit(employer, [presence(caller=employer)])

    subscription = Subscription.objects.get(pk=made.subscription.pk)
    assert (subscription.state, subscription.disabled_reason) == (
        Subscription.State.DISABLED,
        "the receiver answered 410 Gone",
    )
    assert len(receiver.messages()) == 1


def test_after_a_rotation_both_secrets_sign_until_the_overlap_ends(webhook_settings, receiver, employer, submit):
    made = subscription_create(caller=employer, target_url=receiver.url, event_types=["registration.created"])
    rotated = subscription_rotate_secret(caller=employer, subscription_id=made.subscription.pk)
    assert rotated.secret != made.secret

    submit(employer, [presence(caller=employer)])
    [during] = receiver.messages()
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert during.verifies_with(rotated.secret)
    assert during.verifies_with(made.secret)  # a receiver not yet switched still verifies

    receiver.clear()
    with later(86400 + 1):
        submit(employer, [presence(caller=employer)])
        [after] = receiver.messages()
        assert len(after.headers["webhook-signature"].split(" ")) == 1
        assert after.verifies_with(rotated.secret)
        assert not after.verifies_with(made.secret)


def test_a_second_rotation_drops_the_oldest_secret_at_once(webhook_settings, receiver, employer, submit):
    made = subscription_create(caller=employer, target_url=receiver.url, event_types=["registration.created"])
    second = subscription_rotate_secret(caller=employer, subscription_id=made.subscription.pk)
    third = subscription_rotate_secret(caller=employer, subscription_id=made.subscription.pk)

    submit(employer, [presence(caller=employer)])

    [message] = receiver.messages()
    assert message.verifies_with(third.secret)
    assert message.verifies_with(second.secret)
    assert not message.verifies_with(made.secret)


def test_no_secret_is_stored_in_clear(webhook_settings, receiver, employer):
    made = subscription_create(caller=employer, target_url=receiver.url)
    rotated = subscription_rotate_secret(caller=employer, subscription_id=made.subscription.pk)

    stored = Subscription.objects.values_list("secret", "previous_secret").get(pk=made.subscription.pk)
    assert made.secret not in "".join(stored)
    assert rotated.secret not in "".join(stored)
    assert made.secret.removeprefix("whsec_") not in "".join(stored)


def test_the_sweep_hands_off_one_run_per_subscription_whatever_it_has_to_send(
    webhook_settings, receiver, employer, submit
):
    receiver.answer = lambda _message: (503, {})
    made = subscription_create(caller=employer, target_url=receiver.url)
    submit(employer, [presence(caller=employer) for _ in range(3)])  # 6 events, all waiting

    with later(6):
        assert subscriptions_due() == [made.subscription.pk]
