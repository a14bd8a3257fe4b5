"""The catalogue of history event types (documented in docs/events.md)."""

from django.db import models


class EventType(models.TextChoices):
    CREATED = "registration.created"
    VALIDATED = "registration.validated"  # first validation: status + remarks
    REVALIDATED = "registration.revalidated"  # status or remark set changed later
    CANCELLED = "registration.cancelled"
    CONSULTED = "registration.consulted"  # read by inspection (spec §3.2)
    CORRECTED = "registration.corrected"  # an operator recorded a correcting event (the original stays)
    LEGAL_HOLD = "registration.legal_hold"  # an operator placed or lifted a legal hold (retention)


# The facts a party that may see the registration is told about, through the cursor feed and
# its webhooks (feed/, docs/feed.md): history_record_many puts each of them in the outbox, in
# the transaction that records it. Inspection's reads and legal holds concern nobody else.
PUBLISHED_EVENT_TYPES = frozenset(
    {EventType.CREATED, EventType.VALIDATED, EventType.REVALIDATED, EventType.CANCELLED, EventType.CORRECTED}
)
