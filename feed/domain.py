"""The feed's vocabulary and pure rules: event types, cursors, the retry schedule, outcomes.

No model and no query here: what an event of the feed is called and says, how a cursor is
spelled, when the next attempt of a failed delivery is due and which failures mean that the
receiver as a whole is down (docs/feed.md).
"""

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.db import models

from history.events import EventType


class FeedEventType(models.TextChoices):
    """What a party is told about a registration it may see (docs/feed.md)."""

    CREATED = "registration.created"
    VALIDATED = "registration.validated"  # a validation found no remark (again, after a revalidation)
    FAILED = "registration.failed"  # a validation found remarks (or others, after a revalidation)
    CANCELLED = "registration.cancelled"
    CORRECTED = "registration.corrected"  # an operator recorded a correcting event


# The history's validation events carry the contract's spelling of the status.
_VALIDATION_OUTCOMES = {"VALIDATED": FeedEventType.VALIDATED, "FAILED": FeedEventType.FAILED}


def feed_event_of(event_type: str, data: Mapping[str, Any]) -> tuple[FeedEventType, dict[str, Any]]:
    """The feed's type and facts for a published history event (history.events.PUBLISHED_EVENT_TYPES).

    Raises ValueError for a history event the feed does not publish.
    """
    match event_type:
        case EventType.CREATED:
            return FeedEventType.CREATED, {}
        case EventType.VALIDATED | EventType.REVALIDATED:
            outcome = _VALIDATION_OUTCOMES[str(data["status"])]
            return outcome, {
                "remarks": sorted(int(number) for number in data.get("remarks", [])),
                "revalidation": event_type == EventType.REVALIDATED,
            }
        case EventType.CANCELLED:
            return FeedEventType.CANCELLED, {"reason": str(data.get("reason", ""))}
        case EventType.CORRECTED:
            return FeedEventType.CORRECTED, {"correction": int(data["correction"])}
    raise ValueError(f"the feed does not publish {event_type!r} events")


def webhook_id(position: int) -> str:
    """The event's id: the feed item's `id` and the `webhook-id` of every delivery of it,
    so a receiver that reads both recognises an event it already has."""
    return f"evt_{position}"


# --- cursors ------------------------------------------------------------------------------

_CURSOR_PREFIX = "p1."


class InvalidCursorError(ValueError):
    pass


def cursor_of(position: int) -> str:
    """The opaque cursor after `position`: clients store it and give it back, nothing more."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{position}".encode()).decode().rstrip("=")


def position_of(cursor: str) -> int:
    """The position a cursor stands for; raises InvalidCursorError for anything we did not issue."""
    if not cursor.isascii() or len(cursor) > 40:
        raise InvalidCursorError(cursor)
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursorError(cursor) from exc
    digits = decoded.removeprefix(_CURSOR_PREFIX)
    if decoded == digits or not digits.isdigit() or len(digits) > 18 or cursor_of(int(digits)) != cursor:
        raise InvalidCursorError(cursor)
    return int(digits)


# --- delivery outcomes and the retry schedule ----------------------------------------------


class Outcome(StrEnum):
    """How one attempt ended."""

    DELIVERED = "delivered"  # a 2xx answer
    REFUSED = "refused"  # a 4xx answer (but 408, 410, 429): this message, not the receiver
    GONE = "gone"  # 410: the receiver asks to be disabled
    UNAVAILABLE = "unavailable"  # 5xx, 408 or 429
    REDIRECTED = "redirected"  # a 3xx, never followed
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"  # no connection, TLS failure, a broken answer
    ADDRESS_NOT_ALLOWED = "address-not-allowed"  # the target resolved to a forbidden address
    OTHER = "other"  # an answer outside 2xx-5xx


def outcome_of_status(status: int) -> Outcome:
    if 200 <= status < 300:
        return Outcome.DELIVERED
    if 300 <= status < 400:
        return Outcome.REDIRECTED
    if status == 410:
        return Outcome.GONE
    if status in (408, 429) or 500 <= status < 600:
        return Outcome.UNAVAILABLE
    if 400 <= status < 500:
        return Outcome.REFUSED
    return Outcome.OTHER


def receiver_is_down(outcome: Outcome) -> bool:
    """Whether the failure is the receiver's as a whole, not this message's: then its other
    deliveries wait for the retry of this one instead of each trying on its own."""
    return outcome not in (Outcome.DELIVERED, Outcome.REFUSED)


def next_attempt_at(failed_at: datetime, retry_index: int, schedule: Sequence[int]) -> datetime | None:
    """When the next attempt is due after the `retry_index`-th failure in a row (from 0), or
    None when the schedule is spent and the delivery is given up."""
    if retry_index >= len(schedule):
        return None
    return failed_at + timedelta(seconds=schedule[retry_index])


def attempt_hash(
    *,
    subscription_id: str,
    seq: int,
    delivery_id: int,
    webhook_id: str,
    attempted_at: datetime,
    duration_ms: int,
    outcome: str,
    status_code: int | None,
    target_host: str,
    prev_hash: str,
) -> str:
    """SHA-256 over a canonical JSON form of one attempt and its predecessor's hash: the
    attempt log is chained per subscription as the history is per registration."""
    canonical = json.dumps(
        {
            "subscription": subscription_id,
            "seq": seq,
            "delivery": delivery_id,
            "id": webhook_id,
            "at": attempted_at.astimezone(UTC).isoformat(),
            "ms": duration_ms,
            "outcome": outcome,
            "status": status_code,
            "host": target_host,
            "prev": prev_hash,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()
