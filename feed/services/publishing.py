"""Publishing: outbox entries become feed events at the next positions, and webhook
deliveries for the subscriptions whose clients may see them (docs/adr/0017).

One transaction per batch, under the lock of the feed's head: the committed outbox entries
are read in the order they were written, numbered from the head on, deleted from the outbox,
and fanned out to deliveries. Because the lock makes publishers take turns and each one
sees only committed entries, positions are dense and commit in order: a reader that has
seen position p will never find a new event at or below p. An entry whose transaction
commits late is simply published in a later batch, at a higher position.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from feed.domain import feed_event_of
from feed.models import Delivery, FeedEvent, FeedHead, Subscription
from history.selectors import outbox_pending
from history.services import outbox_remove
from registrations.selectors.visibility import audiences

PUBLISH_BATCH = 1000


@dataclass(frozen=True)
class Publication:
    events: int
    subscriptions: frozenset[UUID]  # those given new deliveries


def _locked_head() -> FeedHead:
    """The head row, locked for this transaction; made at the highest position if missing."""
    head = FeedHead.objects.select_for_update().filter(pk=1).first()
    if head is not None:
        return head
    last = FeedEvent.objects.aggregate(last=Max("position"))["last"] or 0
    try:
        with transaction.atomic():
            FeedHead.objects.create(pk=1, position=last)
    except IntegrityError:
        pass  # another publisher made it first
    return FeedHead.objects.select_for_update().get(pk=1)


def _fan_out(events: list[FeedEvent]) -> set[UUID]:
    """The deliveries of these events: for each active subscription whose client may see the
    registration (the inverse of registrations_visible_to), whose event types include the
    event's and whose workplace, if any, is the registration's."""
    subscriptions = list(
        Subscription.objects.filter(state=Subscription.State.ACTIVE, client__is_active=True).only(
            "id", "client_id", "event_types", "workplace_id"
        )
    )
    if not subscriptions:
        return set()
    by_client: dict[UUID, list[Subscription]] = defaultdict(list)
    for subscription in subscriptions:
        by_client[subscription.client_id].append(subscription)
    seeing = audiences(registration_ids={event.registration_id for event in events}, among=set(by_client))
    workplaces = dict(
        FeedEvent.objects.filter(position__in=[event.position for event in events]).values_list(
            "registration_id", "registration__workplace_id"
        )
    )
    now = timezone.now()
    deliveries = [
        Delivery(
            subscription=subscription,
            event=event,
            registration_id=event.registration_id,
            next_attempt_at=now,
            created_at=now,
        )
        for event in events
        if event.registration_id in seeing
        for subscription in _interested(by_client, seeing[event.registration_id], event, workplaces)
    ]
    Delivery.objects.bulk_create(deliveries)
    return {delivery.subscription_id for delivery in deliveries}


def _interested(
    by_client: dict[UUID, list[Subscription]],
    clients: Iterable[UUID],
    event: FeedEvent,
    workplaces: dict[int, str],
) -> list[Subscription]:
    workplace = workplaces.get(event.registration_id, "")
    return [
        subscription
        for client_id in clients
        for subscription in by_client[client_id]
        if event.event_type in subscription.event_types
        and (not subscription.workplace_id or subscription.workplace_id == workplace)
    ]


@transaction.atomic
def feed_publish_batch(*, limit: int = PUBLISH_BATCH) -> Publication:
    """Publish up to `limit` outbox entries (oldest first) and fan them out to deliveries."""
    head = _locked_head()
    entries = outbox_pending(limit=limit)
    if not entries:
        return Publication(0, frozenset())
    now = timezone.now()
    events = []
    for offset, entry in enumerate(entries, 1):
        event_type, facts = feed_event_of(entry.event.event_type, entry.event.data)
        events.append(
            FeedEvent(
                position=head.position + offset,
                registration_id=entry.event.registration_id,
                event_type=event_type,
                occurred_at=entry.event.occurred_at,
                facts=facts,
                history_event_id=entry.event.pk,
                published_at=now,
            )
        )
    FeedEvent.objects.bulk_create(events)
    outbox_remove(entry_ids=[entry.pk for entry in entries])
    head.position += len(events)
    head.save(update_fields=["position"])
    return Publication(len(events), frozenset(_fan_out(events)))


def feed_publish(*, limit: int = PUBLISH_BATCH) -> Publication:
    """Publish everything the outbox holds, in batches; returns what was published."""
    events, subscriptions = 0, set[UUID]()
    while True:
        batch = feed_publish_batch(limit=limit)
        events += batch.events
        subscriptions |= batch.subscriptions
        if batch.events < limit:
            return Publication(events, frozenset(subscriptions))
