"""A client's webhook subscriptions: making, deleting, rotating the secret; an operator's
disabling and enabling (docs/feed.md)."""

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from feed.domain import FeedEventType
from feed.models import Delivery, Subscription
from feed.signing import UnreadableSecretError, new_secret, seal, unseal
from feed.targets import TargetRefusedError, check_target
from registrations.domain.authorisation import Caller
from registrations.domain.identifiers import normalise_workplace_id


class SubscriptionError(ValueError):
    """A subscription that cannot be made as asked; `field` names the input at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SubscriptionNotFoundError(LookupError):
    """Unknown, deleted, or another client's: the same answer for each."""


@dataclass(frozen=True)
class WithSecret:
    """A subscription and its secret in clear, which the client is shown this once."""

    subscription: Subscription
    secret: str
    previous_secret_expires_at: datetime | None = None


def _event_types(event_types: Sequence[str] | None) -> list[str]:
    if event_types is None:
        return list(FeedEventType.values)
    unknown = sorted(set(event_types) - set(FeedEventType.values))
    if unknown:
        raise SubscriptionError("eventTypes", f"unknown event type(s): {', '.join(unknown)}")
    if not event_types:
        raise SubscriptionError("eventTypes", "at least one event type")
    return [value for value in FeedEventType.values if value in event_types]


def _workplace(workplace_id: str | None) -> str:
    if not workplace_id:
        return ""
    value = normalise_workplace_id(workplace_id)
    if not isinstance(value, str):
        raise SubscriptionError("contractualRelationshipReference", value.description)
    return value


def _client_of(caller: Caller) -> UUID:
    if caller.client_id is None:
        raise SubscriptionError("client", "only an integrator client may subscribe")
    return caller.client_id


@transaction.atomic
def subscription_create(
    *, caller: Caller, target_url: str, event_types: Sequence[str] | None = None, workplace_id: str | None = None
) -> WithSecret:
    """A new active subscription of the caller's client, and its secret.

    `event_types` default to all; `workplace_id` keeps only that workplace's events. The
    target is checked against the SSRF rules now (and again at every attempt). Raises
    SubscriptionError (field, message) for any bad input, a refused target, or a client
    that already has WEBHOOK_MAX_SUBSCRIPTIONS_PER_CLIENT subscriptions.
    """
    client_id = _client_of(caller)
    try:
        check_target(target_url)
    except TargetRefusedError as exc:
        raise SubscriptionError("url", exc.reason) from exc
    types, workplace = _event_types(event_types), _workplace(workplace_id)
    existing = Subscription.objects.select_for_update().filter(client_id=client_id)
    in_use = [row for row in existing if row.state != Subscription.State.DELETED]
    if len(in_use) >= settings.WEBHOOK_MAX_SUBSCRIPTIONS_PER_CLIENT:
        raise SubscriptionError(
            "url", f"a client may have {settings.WEBHOOK_MAX_SUBSCRIPTIONS_PER_CLIENT} subscriptions at most"
        )
    secret = new_secret()
    subscription = Subscription.objects.create(
        client_id=client_id,
        target_url=target_url,
        event_types=types,
        workplace_id=workplace,
        secret=seal(secret),
        created_at=timezone.now(),
    )
    return WithSecret(subscription, secret)


def _own(caller: Caller, subscription_id: UUID) -> Subscription:
    if caller.client_id is None:
        raise SubscriptionNotFoundError(subscription_id)
    found = (
        Subscription.objects.select_for_update()
        .filter(id=subscription_id, client_id=caller.client_id)
        .exclude(state=Subscription.State.DELETED)
        .first()
    )
    if found is None:
        raise SubscriptionNotFoundError(subscription_id)
    return found


def _abandon_pending(subscription: Subscription) -> int:
    return Delivery.objects.filter(subscription=subscription, state=Delivery.State.PENDING).update(
        state=Delivery.State.ABANDONED
    )


@transaction.atomic
def subscription_delete(*, caller: Caller, subscription_id: UUID) -> None:
    """Delete one of the caller's subscriptions: nothing more is sent, what was pending is
    abandoned. The row stays for the operators (its attempts are evidence). Raises
    SubscriptionNotFoundError."""
    subscription = _own(caller, subscription_id)
    subscription.state = Subscription.State.DELETED
    subscription.deleted_at = timezone.now()
    subscription.save(update_fields=["state", "deleted_at"])
    _abandon_pending(subscription)


@transaction.atomic
def subscription_rotate_secret(*, caller: Caller, subscription_id: UUID) -> WithSecret:
    """A new secret for one of the caller's subscriptions. The current one keeps signing
    beside it (two signatures) for WEBHOOK_SECRET_OVERLAP_SECONDS, so a receiver can switch
    without missing a message; a secret rotated out earlier stops at once. Raises
    SubscriptionNotFoundError."""
    subscription = _own(caller, subscription_id)
    secret = new_secret()
    now = timezone.now()
    try:
        unseal(subscription.secret)
        readable = True
    except UnreadableSecretError:
        readable = False  # the key changed: the old secret signs nothing any more
    overlap = settings.WEBHOOK_SECRET_OVERLAP_SECONDS
    keep_previous = readable and overlap > 0
    subscription.previous_secret = subscription.secret if keep_previous else ""
    subscription.previous_secret_expires_at = now + timedelta(seconds=overlap) if keep_previous else None
    subscription.secret = seal(secret)
    subscription.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return WithSecret(subscription, secret, subscription.previous_secret_expires_at)


def signing_secrets(subscription: Subscription, *, now: datetime) -> list[str]:
    """The secrets that sign a message now: the current one, and the previous one during
    its overlap. Raises UnreadableSecretError when the current one does not decrypt."""
    secrets = [unseal(subscription.secret)]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and now < expires:
        with suppress(UnreadableSecretError):  # the current one still signs
            secrets.append(unseal(subscription.previous_secret))
    return secrets


@transaction.atomic
def subscription_disable(*, subscription_id: UUID, reason: str) -> bool:
    """Disable a subscription (it kept failing, or an operator decided); its pending
    deliveries are abandoned, its events stay in the cursor feed. False if not active."""
    subscription = Subscription.objects.select_for_update().filter(id=subscription_id).first()
    if subscription is None or subscription.state != Subscription.State.ACTIVE:
        return False
    subscription.state = Subscription.State.DISABLED
    subscription.disabled_at = timezone.now()
    subscription.disabled_reason = reason[:200]
    subscription.save(update_fields=["state", "disabled_at", "disabled_reason"])
    _abandon_pending(subscription)
    return True


@transaction.atomic
def subscription_enable(*, subscription_id: UUID) -> bool:
    """An operator enables a disabled subscription again: it receives the events published
    from now on (what it missed is in the cursor feed). False if it was not disabled."""
    subscription = Subscription.objects.select_for_update().filter(id=subscription_id).first()
    if subscription is None or subscription.state != Subscription.State.DISABLED:
        return False
    subscription.state = Subscription.State.ACTIVE
    subscription.disabled_at = None
    subscription.disabled_reason = ""
    subscription.failing_since = None
    subscription.paused_until = None
    subscription.save(update_fields=["state", "disabled_at", "disabled_reason", "failing_since", "paused_until"])
    return True
