"""Delivering webhooks: a subscription's due deliveries, in order, each attempt recorded.

One run at a time per subscription (a lease on its row, which a dead worker's run loses when
it expires), so its attempts are written one after the other, chained, and its receiver is
never hit by two workers at once. A run sends the due deliveries in feed order, each the
earliest pending one of its registration (the lane): a later event of a registration waits
until the earlier one is delivered or given up. Each attempt is signed afresh (Standard
Webhooks), sent to the address the SSRF check resolved, and recorded: outcome, response code,
duration. A delivery is sent again, at least once, until the receiver answers 2xx; a
receiver may therefore see a message twice, with the same `webhook-id`.

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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.db.models import Q
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

LEASE_SECONDS = 90
RUN_SECONDS = 30  # no attempt starts later in a run; its lease outlives the last one
DUE_BATCH = 50
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
    """The subscription's delivery lease; renewed before each attempt, released at the end."""

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


@transaction.atomic
def _record(subscription_id: UUID, delivery: Delivery, sent: sender.Sent, attempted_at: datetime) -> str | None:
    """Write the attempt (chained) and its consequences; returns a reason to disable, if any."""
    subscription = Subscription.objects.select_for_update().get(id=subscription_id)
    seq = subscription.attempts_seq + 1
    host = _host_of(subscription.target_url)
    message_id = webhook_id(delivery.event_id)
    digest = attempt_hash(
        subscription_id=str(subscription_id),
        seq=seq,
        delivery_id=delivery.pk,
        webhook_id=message_id,
        attempted_at=attempted_at,
        duration_ms=sent.duration_ms,
        outcome=sent.outcome,
        status_code=sent.status_code,
        target_host=host,
        prev_hash=subscription.attempts_hash,
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        subscription_id=subscription_id,
        seq=seq,
        webhook_id=message_id,
        attempted_at=attempted_at,
        duration_ms=sent.duration_ms,
        outcome=sent.outcome,
        status_code=sent.status_code,
        target_host=host,
        prev_hash=subscription.attempts_hash,
        hash=digest,
    )
    subscription.attempts_seq, subscription.attempts_hash = seq, digest
    delivery.attempts += 1
    delivery.last_status_code, delivery.last_outcome = sent.status_code, sent.outcome
    reason = None
    if sent.outcome == Outcome.DELIVERED:
        delivery.state, delivery.delivered_at = Delivery.State.DELIVERED, attempted_at
        subscription.failing_since = subscription.paused_until = None
        subscription.last_delivered_at = attempted_at
    else:
        retry_at = next_attempt_at(attempted_at, delivery.retry_index, settings.WEBHOOK_RETRY_SCHEDULE_SECONDS)
        if retry_at is None:
            delivery.state = Delivery.State.FAILED
        else:
            delivery.retry_index += 1
            delivery.next_attempt_at = retry_at
            if receiver_is_down(Outcome(sent.outcome)):
                subscription.paused_until = retry_at
        subscription.failing_since = subscription.failing_since or attempted_at
        reason = _disable_reason(subscription, sent, attempted_at)
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "last_outcome",
            "state",
            "delivered_at",
            "retry_index",
            "next_attempt_at",
        ]
    )
    subscription.save(
        update_fields=["attempts_seq", "attempts_hash", "failing_since", "paused_until", "last_delivered_at"]
    )
    return reason


@dataclass
class _Batch:
    """One batch of a run: what to send, and what to record once it is sent."""

    subscription: Subscription
    caller: Caller
    deliveries: list[Delivery]
    visible: dict[int, "Registration"]
    consulted: list["Registration"] = field(default_factory=list)


def _withdraw(delivery: Delivery) -> None:
    """The client may no longer see the registration (a mandate ended): nothing is sent."""
    Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.PENDING).update(state=Delivery.State.WITHDRAWN)


def _send_batch(batch: _Batch, secrets: list[str], lease: _Lease, run: DeliveryRun, stop_at: float) -> bool:
    """Send a batch; False when the run must stop (receiver down, disabled, lease lost, time)."""
    for delivery in batch.deliveries:
        if time.monotonic() > stop_at or not lease.renew():
            return False
        registration = batch.visible.get(delivery.registration_id)
        if registration is None:
            _withdraw(delivery)
            run.withdrawn += 1
            continue
        attempted_at = timezone.now()
        sent = _send(batch.subscription, event_document(delivery.event, registration), secrets)
        reason = _record(batch.subscription.pk, delivery, sent, attempted_at)
        if sent.outcome == Outcome.DELIVERED:
            run.delivered += 1
            batch.consulted.append(registration)
            continue
        run.failed += 1
        if reason is not None:
            subscription_disable(subscription_id=batch.subscription.pk, reason=reason)
            return False
        if receiver_is_down(sent.outcome):
            return False
    return True


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
    while run.delivered + run.failed < budget and (batch := _next_batch(subscription_id, budget)):
        try:
            secrets = signing_secrets(batch.subscription, now=timezone.now())
        except UnreadableSecretError:
            subscription_disable(
                subscription_id=subscription_id,
                reason="its secret no longer decrypts (WEBHOOK_SECRETS_KEY changed): rotate it, then enable",
            )
            break
        going_on = _send_batch(batch, secrets, lease, run, stop_at)
        # Inspection's reads are recorded (spec §3.2): a webhook that reached it is one.
        registrations_consulted(caller=batch.caller, registrations=batch.consulted, channel=Channel.REST)
        if not going_on:
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
