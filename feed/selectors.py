"""Reading the feed: a caller's page of events, its subscriptions, the operators' figures.

A page is read in windows of positions: the events of a window, then which of their
registrations the caller may see, asked of `registrations_visible_to` (the rule of get and
search, evaluated now). A request reads at most SCAN_LIMIT positions, so a caller who sees
few events pays for a bounded read and comes back with the cursor, which always moves on.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from feed.documents import event_document
from feed.domain import attempt_hash
from feed.models import Delivery, DeliveryAttempt, FeedEvent, FeedHead, Subscription
from history.selectors import outbox_size
from registrations.domain.authorisation import Caller
from registrations.selectors.registrations import registrations_visible_to

if TYPE_CHECKING:
    from registrations.models import Registration

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
WINDOW = 2000  # positions read per query
SCAN_LIMIT = 20_000  # positions read per request at most
LAG_SAMPLE = 2000


def feed_head() -> int:
    """The last position given: every event up to it is committed and readable."""
    position: int | None = FeedHead.objects.filter(pk=1).values_list("position", flat=True).first()
    return position or 0


@dataclass(frozen=True)
class FeedPage:
    items: list[dict[str, Any]]  # the events' documents, in feed order
    registrations: list["Registration"]  # the registrations they are about (each once)
    cursor: int  # the position to read after next time
    more: bool  # whether events after the cursor are already there


def _visible_in(caller: Caller, events: list[FeedEvent]) -> dict[int, "Registration"]:
    ids = {event.registration_id for event in events}
    return {registration.pk: registration for registration in registrations_visible_to(caller).filter(id__in=ids)}


def feed_page(*, caller: Caller, after: int, limit: int = DEFAULT_LIMIT) -> FeedPage:
    """The caller's events after position `after`, oldest first, at most `limit` (1..500).

    At least once and in order: positions are given in commit order, so everything up to
    the cursor returned has been seen, and nothing will appear behind it later.
    """
    head = feed_head()
    found: list[tuple[FeedEvent, Registration]] = []
    position = after
    while position < head and len(found) < limit and position - after < SCAN_LIMIT:
        window_end = min(position + WINDOW, head)
        events = list(FeedEvent.objects.filter(position__gt=position, position__lte=window_end).order_by("position"))
        visible = _visible_in(caller, events)
        position = window_end
        for event in events:
            if event.registration_id in visible:
                found.append((event, visible[event.registration_id]))
                if len(found) == limit:
                    position = event.position
                    break
    registrations = list({registration.pk: registration for _, registration in found}.values())
    return FeedPage(
        items=[event_document(event, registration) for event, registration in found],
        registrations=registrations,
        cursor=position,
        more=position < head,
    )


# --- subscriptions -------------------------------------------------------------------------


def subscriptions_of(*, caller: Caller) -> list[Subscription]:
    """The caller's subscriptions, newest first (deleted ones are gone for the client)."""
    if caller.client_id is None:
        return []
    return list(Subscription.objects.filter(client_id=caller.client_id).exclude(state=Subscription.State.DELETED))


def subscription_of(*, caller: Caller, subscription_id: UUID) -> Subscription | None:
    """One of the caller's subscriptions; None for an unknown one or another client's."""
    if caller.client_id is None:
        return None
    return (
        Subscription.objects.filter(id=subscription_id, client_id=caller.client_id)
        .exclude(state=Subscription.State.DELETED)
        .first()
    )


def due_lane_heads(now: datetime) -> QuerySet[Delivery]:
    """The deliveries due now that head their lane: no earlier delivery of the same
    registration to the same subscription is still pending (those wait for it)."""
    earlier = Delivery.objects.filter(
        subscription_id=OuterRef("subscription_id"),
        registration_id=OuterRef("registration_id"),
        state=Delivery.State.PENDING,
        event_id__lt=OuterRef("event_id"),
    )
    return Delivery.objects.filter(state=Delivery.State.PENDING, next_attempt_at__lte=now).exclude(Exists(earlier))


def _ready(now: datetime) -> Q:
    """Subscriptions a run may send for now: active, client active, not paused."""
    return Q(state=Subscription.State.ACTIVE, client__is_active=True) & (
        Q(paused_until__isnull=True) | Q(paused_until__lte=now)
    )


def subscription_has_due(*, subscription_id: UUID) -> bool:
    """Whether a run would find something to send for this subscription now."""
    now = timezone.now()
    if not Subscription.objects.filter(_ready(now), id=subscription_id).exists():
        return False
    return due_lane_heads(now).filter(subscription_id=subscription_id).exists()


def subscriptions_due() -> list[UUID]:
    """The subscriptions with something to send now and no run in progress (the sweep)."""
    now = timezone.now()
    ready = Subscription.objects.filter(_ready(now)).filter(Q(busy_until__isnull=True) | Q(busy_until__lt=now))
    heads = due_lane_heads(now).filter(subscription__in=ready)
    # order_by(): without it the model's ordering joins the DISTINCT and every row comes back.
    return list(heads.order_by().values_list("subscription_id", flat=True).distinct())


def attempt_log_verify(*, subscription_id: UUID) -> bool:
    """True when a subscription's attempt log is whole: 1, 2, 3, ... without a gap, each
    hash recomputes and links to its predecessor, and the subscription's head is the last."""
    prev_hash = ""
    attempts = DeliveryAttempt.objects.filter(subscription_id=subscription_id).order_by("seq")
    for expected_seq, attempt in enumerate(attempts, 1):
        recomputed = attempt_hash(
            subscription_id=str(subscription_id),
            seq=attempt.seq,
            delivery_id=attempt.delivery_id,
            webhook_id=attempt.webhook_id,
            attempted_at=attempt.attempted_at,
            duration_ms=attempt.duration_ms,
            outcome=attempt.outcome,
            status_code=attempt.status_code,
            target_host=attempt.target_host,
            prev_hash=attempt.prev_hash,
        )
        if attempt.seq != expected_seq or attempt.prev_hash != prev_hash or attempt.hash != recomputed:
            return False
        prev_hash = attempt.hash
    head = Subscription.objects.filter(id=subscription_id).values_list("attempts_hash", flat=True).first()
    return head is None or head == prev_hash


# --- the operators' figures ------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryFigures:
    lag_p50: timedelta | None  # event -> receiver's 2xx, on the latest deliveries
    lag_p99: timedelta | None
    lag_sample: int
    pending: int
    oldest_pending: Any  # datetime | None: when the oldest pending delivery's event happened
    waiting_to_publish: int  # outbox entries not yet published
    failing: int  # active subscriptions whose every attempt fails at the moment
    disabled: int


def _percentile(values: list[timedelta], share: float) -> timedelta | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(share * len(values)))]


def delivery_figures() -> DeliveryFigures:
    """The dashboard's webhook figures: delivery lag, what waits, who fails. Bounded reads."""
    latest = (
        Delivery.objects.filter(state=Delivery.State.DELIVERED, delivered_at__isnull=False)
        .order_by("-delivered_at")
        .values_list("delivered_at", "event__occurred_at")[:LAG_SAMPLE]
    )
    lags = sorted(delivered - occurred for delivered, occurred in latest if delivered is not None)
    pending = Delivery.objects.filter(state=Delivery.State.PENDING).aggregate(
        n=Count("id"), oldest=Min("event__occurred_at")
    )
    subscriptions = Subscription.objects.aggregate(
        failing=Count("id", filter=Q(state=Subscription.State.ACTIVE, failing_since__isnull=False)),
        disabled=Count("id", filter=Q(state=Subscription.State.DISABLED)),
    )
    return DeliveryFigures(
        lag_p50=_percentile(lags, 0.50),
        lag_p99=_percentile(lags, 0.99),
        lag_sample=len(lags),
        pending=pending["n"],
        oldest_pending=pending["oldest"],
        waiting_to_publish=outbox_size(),
        failing=subscriptions["failing"],
        disabled=subscriptions["disabled"],
    )
