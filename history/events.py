"""The catalogue of history event types (documented in docs/events.md).

The value is the stable code every gateway and document uses; the label is what the
operators' console shows, in the operator's language.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    CREATED = "registration.created", _("registered")
    VALIDATED = "registration.validated", _("validated")  # first validation: status + remarks
    REVALIDATED = "registration.revalidated", _("validated again")  # status or remark set changed later
    CANCELLED = "registration.cancelled", _("cancelled")
    CONSULTED = "registration.consulted", _("consulted by inspection")  # read by inspection (spec §3.2)
    # an operator recorded a correcting event (the original stays)
    CORRECTED = "registration.corrected", _("corrected")
    # an operator placed or lifted a legal hold (retention)
    LEGAL_HOLD = "registration.legal_hold", _("legal hold")


# The facts a party that may see the registration is told about, through the cursor feed and
# its webhooks (feed/, docs/feed.md): history_record_many puts each of them in the outbox, in
# the transaction that records it. Inspection's reads and legal holds concern nobody else.
PUBLISHED_EVENT_TYPES = frozenset(
    {EventType.CREATED, EventType.VALIDATED, EventType.REVALIDATED, EventType.CANCELLED, EventType.CORRECTED}
)
