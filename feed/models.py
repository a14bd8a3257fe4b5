"""The feed's tables: its events in commit order, the webhook subscriptions, their deliveries
and the append-only log of every attempt (docs/feed.md, docs/adr/0017)."""

import uuid
from typing import Any, NoReturn

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from feed.domain import FeedEventType, Outcome

OUTCOMES = [(outcome.value, outcome.value) for outcome in Outcome]


class FeedHead(models.Model):
    """The last position given to an event. One row, locked by the publisher: positions are
    given one transaction at a time, so they are dense and a position never commits after a
    higher one (what makes a cursor safe to resume from)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    position = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("feed head")

    def __str__(self) -> str:
        return f"feed head at {self.position}"


class FeedEvent(models.Model):
    """One published history event, at its place in the feed.

    Which parties may read it is not stored: the cursor feed asks `registrations_visible_to`
    at every read, as get and search do. Leaves with its registration (retention purge).
    """

    position = models.BigIntegerField(_("position"), primary_key=True)
    # No database constraint: registrations are partitioned (docs/adr/0018-partitioning-and-keys.md);
    # the ORM's cascade and the retention purge remove a registration's feed events.
    registration = models.ForeignKey(
        "registrations.Registration",
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="+",
        verbose_name=_("registration"),
    )
    event_type = models.CharField(_("event"), max_length=32, choices=FeedEventType.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    # The event's own facts (remarks, reason, correction), in the feed's words.
    facts = models.JSONField(_("facts"), default=dict)
    # The history event it publishes; a plain id, as the history leaves first in a purge.
    history_event_id = models.BigIntegerField(_("history event"))
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("feed event")
        verbose_name_plural = _("feed events")
        ordering = ["position"]

    def __str__(self) -> str:
        return f"{self.event_type} of registration {self.registration_id} at {self.position}"


class Subscription(models.Model):
    """A client's webhook: where to send which events, signed with which secret."""

    class State(models.TextChoices):
        ACTIVE = "active", _("active")
        DISABLED = "disabled", _("disabled (kept failing)")
        DELETED = "deleted", _("deleted by the client")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(
        "registrations.Client", on_delete=models.CASCADE, related_name="+", verbose_name=_("client")
    )
    target_url = models.CharField(_("target URL"), max_length=2048)
    event_types = models.JSONField(_("event types"), default=list)
    workplace_id = models.CharField(_("only this workplace"), max_length=13, blank=True)
    # Encrypted (feed/secrets.py). During a rotation's overlap the previous one signs too.
    secret = models.TextField(_("secret (encrypted)"))
    previous_secret = models.TextField(_("previous secret (encrypted)"), blank=True)
    previous_secret_expires_at = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.ACTIVE)
    created_at = models.DateTimeField(_("created at"))
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)
    # Health: since when every attempt failed (empty after a success), and until when the
    # receiver is left alone after a failure of its own (receiver_is_down).
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    paused_until = models.DateTimeField(_("paused until"), null=True, blank=True)
    last_delivered_at = models.DateTimeField(_("last delivered at"), null=True, blank=True)
    # One delivery run at a time per subscription (feed/services/deliveries.py): the lease
    # of the run in progress, which a dead worker's run loses when it expires.
    busy_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The head of the attempt log's hash chain for this subscription.
    attempts_seq = models.PositiveBigIntegerField(default=0, editable=False)
    attempts_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["-created_at"]
        permissions = [("manage_subscription", _("Can disable or enable a webhook subscription"))]
        indexes = [models.Index(fields=["client", "state"], name="subscription_client_state")]

    def __str__(self) -> str:
        return f"subscription {self.id}"


class Delivery(models.Model):
    """One event to send to one subscription, until a receiver said 2xx or the schedule ran out.

    Deliveries of the same registration to the same subscription go in order: the earliest
    still pending one goes first, and the others wait for it (the registration is its lane).
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("given up (retry schedule spent)")
        ABANDONED = "abandoned", _("abandoned (subscription disabled or deleted)")
        WITHDRAWN = "withdrawn", _("withdrawn (the client may no longer see it)")

    id = models.BigAutoField(primary_key=True)
    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("subscription")
    )
    event = models.ForeignKey(FeedEvent, on_delete=models.CASCADE, related_name="+", verbose_name=_("event"))
    registration_id = models.BigIntegerField(_("registration"))  # the lane (= event.registration_id)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PENDING)
    retry_index = models.PositiveSmallIntegerField(_("failures in a row"), default=0)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    created_at = models.DateTimeField(_("created at"))
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last response code"), null=True, blank=True)
    last_outcome = models.CharField(_("last outcome"), max_length=24, choices=OUTCOMES, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-id"]
        permissions = [("redeliver_delivery", _("Can send a webhook delivery again"))]
        constraints = [models.UniqueConstraint(fields=["subscription", "event"], name="delivery_once_per_event")]
        indexes = [
            # The lane: is an earlier delivery of this registration still pending?
            models.Index(
                fields=["subscription", "registration_id", "event"],
                name="delivery_pending_lane",
                condition=Q(state="pending"),
            ),
            # What is due, for the run and the sweep.
            models.Index(fields=["next_attempt_at"], name="delivery_pending_due", condition=Q(state="pending")),
            # The dashboard's lag, on the latest deliveries.
            models.Index(fields=["delivered_at"], name="delivery_delivered_at", condition=Q(state="delivered")),
        ]

    def __str__(self) -> str:
        return f"delivery {self.id} of event {self.event_id}"


class AttemptLogIsAppendOnlyError(Exception):
    def __init__(self) -> None:
        super().__init__("delivery attempts are append-only: they cannot be changed or deleted")


class DeliveryAttemptQuerySet(models.QuerySet["DeliveryAttempt"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AttemptLogIsAppendOnlyError

    def delete(self) -> NoReturn:
        raise AttemptLogIsAppendOnlyError


class DeliveryAttempt(models.Model):
    """One attempt to deliver, as it happened: append-only (model, queryset, database trigger)
    and hash-chained per subscription, like the history (docs/adr/0006)."""

    id = models.BigAutoField(primary_key=True)
    # No database constraint: the log outlives the deliveries a retention purge removes.
    delivery = models.ForeignKey(Delivery, on_delete=models.DO_NOTHING, db_constraint=False, related_name="attempt_log")
    subscription_id = models.UUIDField(_("subscription"))
    seq = models.PositiveBigIntegerField(_("sequence"))
    webhook_id = models.CharField(_("webhook-id"), max_length=40)
    attempted_at = models.DateTimeField(_("attempted at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"))
    outcome = models.CharField(_("outcome"), max_length=24, choices=OUTCOMES)
    status_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    target_host = models.CharField(_("target host"), max_length=255)  # never the path: it may carry a token
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = DeliveryAttemptQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["subscription_id", "seq"], name="attempt_unique_seq")]

    def __str__(self) -> str:
        return f"attempt {self.seq} of subscription {self.subscription_id}: {self.outcome}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AttemptLogIsAppendOnlyError
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AttemptLogIsAppendOnlyError
