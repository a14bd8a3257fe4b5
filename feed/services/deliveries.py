"""Delivering webhooks: a subscription's due deliveries, in order, each attempt recorded.

One run at a time per subscription (a lease on its row, which a dead worker's run loses when
it expires), so its attempts are recorded one batch after the other, chained, and its
receiver is never hit by two workers at once. A run takes the due deliveries in feed order,
each the earliest pending one of its registration (the lane): a later event of a
registration waits until the earlier one is delivered or given up. A batch's first message
goes alone, the others up to WEBHOOK_PARALLEL_SENDS at once (they are of different
registrations). Each attempt is signed afresh (Standard Webhooks), sent to the address the
SSRF check resolved, and recorded: outcome, response code, duration. A delivery is sent
again until the receiver answers 2xx (at least once): a receiver may see a message twice,
with the same `webhook-id`.

After a failure the delivery waits for the next delay of WEBHOOK_RETRY_SCHEDULE_SECONDS and
is given up after the last one. When the failure is the receiver's as a whole (no answer, a
5xx, a redirect, a forbidden address), the subscription pauses until that retry, and the
retried delivery goes first: a receiver that is down is probed by one message at a time. A
subscription whose every attempt fails for WEBHOOK_DISABLE_AFTER_SECONDS, or whose receiver
answers 410 Gone, is disabled; the operators see it in the console, and the client's events
stay readable in the cursor feed.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.db import connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from feed import sender
from feed.documents import event_document
from feed.domain import Outcome, attempt_hash, next_attempt_at, receiver_is_down, webhook_id
from feed.models import Delivery, DeliveryAttempt, Subscription
from feed.selectors import due_lane_heads, subscription_has_due
from feed.services.subscriptions import signing_secrets, subscription_disable
from feed.signing import UnreadableSecretError, signature
from feed.targets import TargetRefusedError, parse_target
from registrations.domain.authorisation import Caller
from registrations.domain.vocabulary import Channel
from registrations.selectors.clients import caller_for_client
from registrations.selectors.registrations import registrations_visible_to
from registrations.services.presences import registrations_consulted

if TYPE_CHECKING:
    from registrations.models import Registration

# A batch's sends take at most 1 + (DUE_BATCH - 1) / WEBHOOK_PARALLEL_SENDS rounds of one
# attempt's deadline (connect + read timeouts): 5 x 8 s by default. No batch starts after
# RUN_SECONDS, so a run ends within about 70 s, inside its lease (renewed before each batch)
# and the task's time limits (feed/tasks.py).
LEASE_SECONDS = 120
RUN_SECONDS = 30
DUE_BATCH = 32
RUN_BUDGET = 500  # attempts per run at most; the task hands off the rest


@dataclass
class DeliveryRun:
    busy: bool = False  # another run holds the subscription
    delivered: int = 0
    failed: int = 0
    withdrawn: int = 0
    more_due: bool = False  # this run did something and more is due now: the task hands it off again

    @property
    def progressed(self) -> bool:
        return bool(self.delivered or self.failed or self.withdrawn)


class _Lease:
    """The subscription's delivery lease; renewed before each batch, released at the end."""

    def __init__(self, subscription_id: UUID) -> None:
        self.subscription_id = subscription_id
        self.until: datetime | None = None

    def take(self) -> bool:
        now = timezone.now()
        until = now + timedelta(seconds=LEASE_SECONDS)
        taken = (
            Subscription.objects.filter(id=self.subscription_id, state=Subscription.State.ACTIVE)
            .filter(Q(busy_until__isnull=True) | Q(busy_until__lt=now))
            .update(busy_until=until)
        )
        self.until = until if taken else None
        return bool(taken)

    def renew(self) -> bool:
        """False when the lease was lost (it expired and another run took it)."""
        until = timezone.now() + timedelta(seconds=LEASE_SECONDS)
        renewed = Subscription.objects.filter(id=self.subscription_id, busy_until=self.until).update(busy_until=until)
        self.until = until if renewed else None
        return bool(renewed)

    def release(self) -> None:
        if self.until is not None:
            Subscription.objects.filter(id=self.subscription_id, busy_until=self.until).update(busy_until=None)


def _due(subscription: Subscription, now: datetime, limit: int) -> list[Delivery]:
    """The subscription's due deliveries that head their lane, in feed order."""
    heads = due_lane_heads(now).filter(subscription=subscription).select_related("event")
    return list(heads.order_by("event_id")[:limit])


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "")[:255]
    except ValueError:
        return ""


def _headers(message_id: str, secrets: list[str], body: str) -> dict[str, str]:
    now = timezone.now()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature(secrets_in_use=secrets, message_id=message_id, timestamp=now, body=body),
    }


def _send(subscription: Subscription, document: dict[str, Any], secrets: list[str]) -> sender.Sent:
    try:
        target = parse_target(subscription.target_url)
    except TargetRefusedError:
        return sender.Sent(Outcome.ADDRESS_NOT_ALLOWED, None, 0)
    body = json.dumps(document, separators=(",", ":"), ensure_ascii=True)
    return sender.post(target, body.encode(), _headers(document["id"], secrets, body))


def _disable_reason(subscription: Subscription, sent: sender.Sent, now: datetime) -> str | None:
    if sent.outcome == Outcome.GONE:
        return "the receiver answered 410 Gone"
    since = subscription.failing_since
    if since is not None and now - since >= timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS):
        last = f"HTTP {sent.status_code}" if sent.status_code else sent.outcome
        return f"every attempt failed since {since:%Y-%m-%d %H:%M} UTC (last: {last})"
    return None


@dataclass(frozen=True)
class _Attempted:
    delivery: Delivery
    registration: "Registration"
    attempted_at: datetime
    sent: sender.Sent


def _apply(subscription: Subscription, attempted: _Attempted) -> str | None:
    """An attempt's consequences for its delivery and its subscription's health; returns a
    reason to disable the subscription, if any."""
    delivery, sent, at = attempted.delivery, attempted.sent, attempted.attempted_at
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_outcome = sent.status_code, sent.outcome
    if sent.outcome == Outcome.DELIVERED:
        delivery.state, delivery.delivered_at = Delivery.State.DELIVERED, at
        subscription.failing_since = subscription.paused_until = None
        subscription.last_delivered_at = at
        return None
    retry_at = next_attempt_at(at, delivery.retry_index, settings.WEBHOOK_RETRY_SCHEDULE_SECONDS)
    if retry_at is None:
        delivery.state = Delivery.State.FAILED
    else:
        delivery.retry_index += 1
        delivery.next_attempt_at = retry_at
        if receiver_is_down(Outcome(sent.outcome)):
            subscription.paused_until = retry_at
    subscription.failing_since = subscription.failing_since or at
    return _disable_reason(subscription, sent, at)


@transaction.atomic
def _record(subscription_id: UUID, attempts: list[_Attempted]) -> str | None:
    """Write a batch's attempts, chained in the order they were sent, and their consequences,
    in one transaction; returns a reason to disable the subscription, if any."""
    subscription = Subscription.objects.select_for_update().get(id=subscription_id)
    host = _host_of(subscription.target_url)
    rows, reason = [], None
    for attempted in attempts:
        seq, prev_hash = subscription.attempts_seq + 1, subscription.attempts_hash
        message_id = webhook_id(attempted.delivery.event_id)
        row = DeliveryAttempt(
            delivery=attempted.delivery,
            subscription_id=subscription_id,
            seq=seq,
            webhook_id=message_id,
            attempted_at=attempted.attempted_at,
            duration_ms=attempted.sent.duration_ms,
            outcome=attempted.sent.outcome,
            status_code=attempted.sent.status_code,
            target_host=host,
            prev_hash=prev_hash,
        )
        row.hash = attempt_hash(
            subscription_id=str(subscription_id),
            seq=seq,
            delivery_id=attempted.delivery.pk,
            webhook_id=message_id,
            attempted_at=attempted.attempted_at,
            duration_ms=row.duration_ms,
            outcome=row.outcome,
            status_code=row.status_code,
            target_host=host,
            prev_hash=prev_hash,
        )
        rows.append(row)
        subscription.attempts_seq, subscription.attempts_hash = seq, row.hash
        reason = _apply(subscription, attempted) or reason
    DeliveryAttempt.objects.bulk_create(rows)
    _save_deliveries([attempted.delivery for attempted in attempts])
    subscription.save(
        update_fields=["attempts_seq", "attempts_hash", "failing_since", "paused_until", "last_delivered_at"]
    )
    return reason


_RETRY_FIELDS = ["attempts", "last_status_code", "last_outcome", "state", "retry_index", "next_attempt_at"]


def _save_deliveries(deliveries: list[Delivery]) -> None:
    """The delivered ones in one UPDATE per response code (a batch usually has one), with the
    batch's last attempt time as their `delivered_at`; the others, rarer and each with its
    own retry time, one by one."""
    delivered: dict[int | None, list[Delivery]] = {}
    for delivery in deliveries:
        if delivery.state == Delivery.State.DELIVERED:
            delivered.setdefault(delivery.last_status_code, []).append(delivery)
        else:
            delivery.save(update_fields=_RETRY_FIELDS)
    for status_code, group in delivered.items():
        Delivery.objects.filter(pk__in=[delivery.pk for delivery in group]).update(
            state=Delivery.State.DELIVERED,
            delivered_at=max(delivery.delivered_at or timezone.now() for delivery in group),
            attempts=F("attempts") + 1,
            last_status_code=status_code,
            last_outcome=Outcome.DELIVERED,
        )


@dataclass
class _Batch:
    """One batch of a run: lane heads, so each of a different registration."""

    subscription: Subscription
    caller: Caller
    deliveries: list[Delivery]
    visible: dict[int, "Registration"]


def _withdraw(deliveries: list[Delivery]) -> int:
    """The client may no longer see these registrations (a mandate ended): nothing is sent."""
    pending = Delivery.objects.filter(pk__in=[delivery.pk for delivery in deliveries], state=Delivery.State.PENDING)
    return pending.update(state=Delivery.State.WITHDRAWN)


def _send_all(batch: _Batch, secrets: list[str]) -> list[_Attempted]:
    """Send the batch's messages: the first alone (a receiver that is down gets that one
    only), then the others WEBHOOK_PARALLEL_SENDS at a time. They are of different
    registrations, so the order among them does not matter."""
    items = [
        (delivery, batch.visible[delivery.registration_id])
        for delivery in batch.deliveries
        if delivery.registration_id in batch.visible
    ]
    if not items:
        return []

    def send(item: tuple[Delivery, "Registration"]) -> _Attempted:
        delivery, registration = item
        attempted_at = timezone.now()
        sent = _send(batch.subscription, event_document(delivery.event, registration), secrets)
        return _Attempted(delivery, registration, attempted_at, sent)

    first, rest = send(items[0]), items[1:]
    parallel = min(settings.WEBHOOK_PARALLEL_SENDS, len(rest))
    if receiver_is_down(first.sent.outcome) or not rest:
        return [first]
    if parallel <= 1:
        return [first, *(send(item) for item in rest)]

    def send_in_thread(item: tuple[Delivery, "Registration"]) -> _Attempted:
        try:
            return send(item)
        finally:
            # Django opens a connection per thread; a sending thread closes its own when done
            # (otherwise each run would leave one open until the thread object is collected).
            connections.close_all()

    with ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="webhook") as pool:
        return [first, *pool.map(send_in_thread, rest)]


def _send_batch(batch: _Batch, secrets: list[str], run: DeliveryRun) -> bool:
    """Send a batch and record it; False when the run must stop (receiver down, disabled)."""
    run.withdrawn += _withdraw([d for d in batch.deliveries if d.registration_id not in batch.visible])
    attempts = _send_all(batch, secrets)
    reason = _record(batch.subscription.pk, attempts) if attempts else None
    delivered = [attempted.registration for attempted in attempts if attempted.sent.outcome == Outcome.DELIVERED]
    run.delivered += len(delivered)
    run.failed += len(attempts) - len(delivered)
    # Inspection's reads are recorded (spec §3.2): a webhook that reached it is one.
    registrations_consulted(caller=batch.caller, registrations=delivered, channel=Channel.REST)
    if reason is not None:
        subscription_disable(subscription_id=batch.subscription.pk, reason=reason)
        return False
    return not any(receiver_is_down(attempted.sent.outcome) for attempted in attempts)


def _next_batch(subscription_id: UUID, budget: int) -> _Batch | None:
    subscription = Subscription.objects.select_related("client").filter(id=subscription_id).first()
    if subscription is None or subscription.state != Subscription.State.ACTIVE or not subscription.client.is_active:
        return None
    now = timezone.now()
    if subscription.paused_until is not None and subscription.paused_until > now:
        return None
    deliveries = _due(subscription, now, min(DUE_BATCH, budget))
    if not deliveries:
        return None
    caller = caller_for_client(subscription.client)
    visible = registrations_visible_to(caller).filter(id__in={delivery.registration_id for delivery in deliveries})
    return _Batch(subscription, caller, deliveries, {registration.pk: registration for registration in visible})


def _run(subscription_id: UUID, lease: _Lease, budget: int) -> DeliveryRun:
    run = DeliveryRun()
    stop_at = time.monotonic() + RUN_SECONDS
    while run.delivered + run.failed < budget and time.monotonic() < stop_at and lease.renew():
        batch = _next_batch(subscription_id, budget - run.delivered - run.failed)
        if batch is None:
            break
        try:
            secrets = signing_secrets(batch.subscription, now=timezone.now())
        except UnreadableSecretError:
            subscription_disable(
                subscription_id=subscription_id,
                reason="its secret no longer decrypts (WEBHOOK_SECRETS_KEY changed): rotate it, then enable",
            )
            break
        if not _send_batch(batch, secrets, run):
            break
    return run


def subscription_deliver(*, subscription_id: UUID, budget: int = RUN_BUDGET) -> DeliveryRun:
    """Send a subscription's due deliveries (at most `budget` attempts, RUN_SECONDS long).

    Returns what happened and whether deliveries are still due (the caller hands them off
    again). Another run in progress for the same subscription makes this one a no-op.
    """
    lease = _Lease(subscription_id)
    if not lease.take():
        return DeliveryRun(busy=True)
    try:
        run = _run(subscription_id, lease, budget)
    finally:
        lease.release()
    # Checked after the release: a delivery made while the lease was held had its hand-off
    # turned away as busy, and is picked up here. A run that did nothing hands off nothing
    # (the sweep retries), so runs never chase each other.
    run.more_due = run.progressed and subscription_has_due(subscription_id=subscription_id)
    return run


@transaction.atomic
def deliveries_redeliver(*, delivery_ids: list[int]) -> int:
    """An operator sends deliveries again, whatever became of them, with a fresh retry
    schedule; returns how many will go (those of active subscriptions). The lanes still
    hold: a redelivered event goes before the later pending events of its registration."""
    return Delivery.objects.filter(id__in=delivery_ids, subscription__state=Subscription.State.ACTIVE).update(
        state=Delivery.State.PENDING, retry_index=0, next_attempt_at=timezone.now()
    )
