"""Who gets a registration's events: the parties that may see it under spec §8, by the
same rules as get and search. A builder gets its subcontractors' registrations on its
site, a professional its mandating employers', inspection everything (each delivery is a
recorded consultation), another enterprise nothing."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from feed.models import Delivery
from feed.services.subscriptions import subscription_create
from feed.tasks import sweep_feed
from history.models import HistoryEvent
from registrations.models import ClientMandate, ClientRole
from tests.factories import caller_for, make_client, make_declaration, presence
from tests.feed.receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def site():
    """A Declaration of Works: a builder and a subcontractor, each with a client."""
    builder, subcontractor = make_client(ClientRole.ENTERPRISE), make_client(ClientRole.ENTERPRISE)
    declaration = make_declaration(builder=builder.enterprise_number, subcontractors=(subcontractor.enterprise_number,))
    return {"builder": builder, "subcontractor": subcontractor, "workplace": declaration.number}


@pytest.fixture
def receivers():
    started: dict[str, Receiver] = {}

    def receiver(name: str) -> Receiver:
        started[name] = Receiver().start()
        return started[name]

    yield receiver
    for one in started.values():
        one.stop()


def _registrations(received: Receiver, secret: str) -> set[int]:
    return {message.verified(secret)["data"]["registration"]["id"] for message in received.messages()}


def test_each_party_gets_the_events_it_may_see_and_no_other(webhook_settings, receivers, site, submit):
    subcontractor = caller_for(site["subcontractor"])
    mandated = make_client(ClientRole.PROFESSIONAL, mandates=[site["subcontractor"].enterprise_number])
    parties = {
        "builder": site["builder"],
        "professional": mandated,
        "inspection": make_client(ClientRole.INSPECTION),
        "stranger": make_client(ClientRole.ENTERPRISE),
    }
    subscribed = {
        name: (subscription_create(caller=caller_for(client), target_url=receivers(name).url), client)
        for name, client in parties.items()
    }

    on_site, elsewhere = submit(
        subcontractor, [presence(caller=subcontractor, workplace_id=site["workplace"]), presence(caller=subcontractor)]
    )

    def seen(name: str) -> set[int]:
        made, _ = subscribed[name]
        return {d.registration_id for d in Delivery.objects.filter(subscription=made.subscription, state="delivered")}

    assert seen("builder") == {on_site.pk}  # its site only
    assert seen("professional") == {on_site.pk, elsewhere.pk}  # its mandating employer's
    assert seen("inspection") == {on_site.pk, elsewhere.pk}
    assert seen("stranger") == set()
    inspection = subscribed["inspection"][1]
    consulted = HistoryEvent.objects.filter(event_type="registration.consulted", actor=f"client:{inspection.pk}")
    assert consulted.filter(registration_id=on_site.pk).count() == 2  # created and failed, each a read


def test_a_workplace_filter_keeps_only_that_workplace(webhook_settings, receivers, site, submit):
    subcontractor = caller_for(site["subcontractor"])
    receiver = receivers("own")
    made = subscription_create(caller=subcontractor, target_url=receiver.url, workplace_id=site["workplace"])

    on_site, _elsewhere = submit(
        subcontractor, [presence(caller=subcontractor, workplace_id=site["workplace"]), presence(caller=subcontractor)]
    )

    assert _registrations(receiver, made.secret) == {on_site.pk}


def test_a_party_that_may_no_longer_see_a_registration_is_not_sent_its_pending_events(
    webhook_settings, receivers, site, submit
):
    """A mandate ends while a delivery waits: the delivery is withdrawn, nothing is sent."""
    subcontractor = caller_for(site["subcontractor"])
    professional = make_client(ClientRole.PROFESSIONAL, mandates=[site["subcontractor"].enterprise_number])
    receiver = receivers("professional")
    receiver.answer = lambda _message: (503, {})
    made = subscription_create(caller=caller_for(professional), target_url=receiver.url)
    submit(subcontractor, [presence(caller=subcontractor)])
    assert len(receiver.messages()) == 1

    ClientMandate.objects.filter(client=professional).delete()
    receiver.answer = lambda _message: (200, {})
    with time_machine.travel(timezone.now() + timedelta(seconds=6)):
        sweep_feed()  # the retry is due: the delivery is checked again, and withdrawn

    assert len(receiver.messages()) == 1
    assert set(Delivery.objects.filter(subscription=made.subscription).values_list("state", flat=True)) == {
        Delivery.State.WITHDRAWN
    }
