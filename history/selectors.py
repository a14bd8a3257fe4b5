"""Reading history."""

from config.partitioning import months_of_ids
from history.models import HistoryEvent, OutboxEntry
from history.services import event_hash


def history_for_registration(*, registration_id: int) -> list[HistoryEvent]:
    """Every event of one registration, oldest first."""
    in_its_month = months_of_ids([registration_id])
    return list(HistoryEvent.objects.filter(in_its_month, registration_id=registration_id).order_by("seq"))


def history_for_registrations(*, registration_ids: list[int]) -> dict[int, list[HistoryEvent]]:
    """Events of several registrations in one query, each list oldest first."""
    grouped: dict[int, list[HistoryEvent]] = {registration_id: [] for registration_id in registration_ids}
    events = HistoryEvent.objects.filter(months_of_ids(registration_ids), registration_id__in=registration_ids)
    events = events.order_by("registration_id", "seq")
    for event in events:
        grouped[event.registration_id].append(event)
    return grouped


def history_verify(*, registration_id: int) -> bool:
    """True when the chain is unbroken: every hash recomputes and links to its predecessor."""
    prev_hash = ""
    for expected_seq, event in enumerate(history_for_registration(registration_id=registration_id), 1):
        recomputed = event_hash(
            registration_id=event.registration_id,
            seq=event.seq,
            event_type=event.event_type,
            occurred_at=event.occurred_at,
            actor=event.actor,
            channel=event.channel,
            data=event.data,
            prev_hash=event.prev_hash,
        )
        if event.seq != expected_seq or event.prev_hash != prev_hash or event.hash != recomputed:
            return False
        prev_hash = event.hash
    return True


def outbox_pending(*, limit: int) -> list[OutboxEntry]:
    """The oldest committed outbox entries with their events, in the order they were written."""
    return list(OutboxEntry.objects.select_related("event").order_by("id")[:limit])


def outbox_size() -> int:
    """How many published events wait for the feed's publisher (the dashboard, the sweep)."""
    return OutboxEntry.objects.count()
