"""The webhook screens: subscriptions, deliveries and attempts for every operator; a notice
for a subscription disabled because it kept failing; redeliver (correctors), disable and
enable (administrators); the delivery lag on the dashboard; never a secret on a page."""

import importlib

import pytest
from django.apps import apps
from django.db import connection

from feed.models import Delivery, Subscription
from feed.services.subscriptions import subscription_create
from feed.tasks import sweep_feed
from registrations.models import Channel, ClientRole
from registrations.services.presences import registration_submit_batch
from tests.factories import caller_for, make_client, presence
from tests.feed.receiver import Receiver
from tests.operators.conftest import logged_in

pytestmark = pytest.mark.django_db

_GRANTS = importlib.import_module("feed.migrations.0003_operator_groups")


@pytest.fixture(autouse=True)
def feed_permissions(viewer, corrector, administrator):
    """The groups' webhook permissions, as the feed's migration grants them (a flush by an
    earlier transactional test leaves groups without them)."""
    _GRANTS.grant(apps, connection.schema_editor())


@pytest.fixture
def receiver(settings):
    """A receiver on this host, which an operator allowed (http, loopback)."""
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    settings.WEBHOOK_DELIVER_AFTER_PUBLISHING = True
    started = Receiver().start()
    yield started
    started.stop()


def submit(django_capture_on_commit_callbacks, caller) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        registration_submit_batch(items=[presence(caller=caller)], caller=caller, channel=Channel.WS)


@pytest.fixture
def delivered(receiver, django_capture_on_commit_callbacks):
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    made = subscription_create(caller=caller, target_url=receiver.url, event_types=["registration.created"])
    submit(django_capture_on_commit_callbacks, caller)
    return made


def _action(http, model: str, action: str, ids) -> object:
    return http.post(f"/admin/feed/{model}/", {"action": action, "_selected_action": [str(i) for i in ids]})


def test_every_operator_sees_the_lists_and_filters(viewer, delivered, receiver):
    other = caller_for(make_client(ClientRole.PROFESSIONAL))
    subscription_create(caller=other, target_url=receiver.url)  # two clients: the client filter shows
    http = logged_in(viewer)
    client_id, subscription_id = delivered.subscription.client_id, delivered.subscription.pk
    for path, rows in (
        ("/admin/feed/subscription/", 2),
        ("/admin/feed/subscription/?state__exact=disabled", 0),
        ("/admin/feed/subscription/?failing=yes", 0),
        (f"/admin/feed/subscription/?q={client_id}", 1),
        (f"/admin/feed/subscription/?client__id__exact={client_id}", 1),
        ("/admin/feed/delivery/?state__exact=pending&retrying=yes", 0),
        (f"/admin/feed/delivery/?q={subscription_id}", 1),
        ("/admin/feed/deliveryattempt/?outcome__exact=delivered", 1),
    ):
        response = http.get(path)
        assert response.status_code == 200, path
        assert response.context["cl"].result_count == rows, path
    page = http.get(f"/admin/feed/subscription/{delivered.subscription.pk}/change/").content.decode()
    assert delivered.secret not in page
    assert delivered.subscription.secret not in page  # not even encrypted


def test_a_subscription_disabled_for_failing_is_announced(viewer, receiver, django_capture_on_commit_callbacks):
    receiver.answer = lambda _message: (410, {})
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    subscription_create(caller=caller, target_url=receiver.url)
    submit(django_capture_on_commit_callbacks, caller)

    page = logged_in(viewer).get("/admin/feed/subscription/").content.decode()
    assert "1 subscription(s) disabled because they kept failing" in page
    assert "410 Gone" in page


def test_a_corrector_redelivers_and_a_viewer_may_not(viewer, corrector, delivered, receiver):
    delivery = Delivery.objects.get(subscription=delivered.subscription)
    assert len(receiver.messages()) == 1

    _action(logged_in(viewer), "delivery", "redeliver_selected", [delivery.pk])
    assert len(receiver.messages()) == 1  # no such action for a viewer

    response = _action(logged_in(corrector), "delivery", "redeliver_selected", [delivery.pk])
    assert response.status_code == 302
    sweep_feed()  # (the hand-off waits for a commit the test transaction never makes)
    messages = receiver.messages()
    assert len(messages) == 2
    assert messages[0].webhook_id == messages[1].webhook_id
    assert messages[1].verifies_with(delivered.secret)
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (Delivery.State.DELIVERED, 2)


def test_an_administrator_disables_and_enables_a_subscription(corrector, administrator, delivered):
    pk = delivered.subscription.pk
    _action(logged_in(corrector), "subscription", "disable_selected", [pk])
    assert Subscription.objects.get(pk=pk).state == Subscription.State.ACTIVE  # correctors may not

    _action(logged_in(administrator), "subscription", "disable_selected", [pk])
    disabled = Subscription.objects.get(pk=pk)
    assert disabled.state == Subscription.State.DISABLED
    assert disabled.disabled_reason == "disabled by operator ada"

    _action(logged_in(administrator), "subscription", "enable_selected", [pk])
    assert Subscription.objects.get(pk=pk).state == Subscription.State.ACTIVE


def test_the_dashboard_shows_the_delivery_lag(viewer, delivered):
    page = logged_in(viewer).get("/admin/dashboard/").content.decode()
    assert 'id="webhooks"' in page
    assert "Webhook delivery lag p50" in page
    assert "over the latest delivery." in page  # one delivery: the singular


def test_the_attempt_log_cannot_be_edited_even_by_an_administrator(administrator, delivered):
    http = logged_in(administrator)
    attempt_list = http.get("/admin/feed/deliveryattempt/").content.decode()
    assert "delivered" in attempt_list
    assert http.get("/admin/feed/deliveryattempt/add/").status_code == 403
    delivery = Delivery.objects.get(subscription=delivered.subscription)
    assert http.post(f"/admin/feed/delivery/{delivery.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(pk=delivery.pk).exists()
