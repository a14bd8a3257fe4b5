"""What an event says: one JSON document, the same in the cursor feed and in a webhook's body.

The shape is Standard Webhooks' (`type`, `timestamp`, `data`) with the event's `id`. `data`
holds the event's own facts and the registration it is about, identified by its id, its
workplace, its employer and the sender's own reference: enough to match it, never the
person. No NISS, Limosa id or name is sent: the party may read those through get, which
checks who asks at that moment; a webhook body lands in a receiver's logs and queues, where
a national number has no business (docs/feed.md, "What an event carries").
"""

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from feed.domain import webhook_id
from feed.models import FeedEvent
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Sector

if TYPE_CHECKING:
    from registrations.models import Registration


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _registration(registration: "Registration") -> dict[str, Any]:
    employer = (
        {"enterpriseNumber": registration.enterprise_number}
        if registration.enterprise_number
        else {"foreignVatNumber": registration.foreign_vat_number}
        if registration.foreign_vat_number
        else {}
    )
    day: date = registration.registration_date
    shown: dict[str, Any] = {
        "id": registration.pk,
        "sector": Sector(registration.sector).name.lower(),
        "channel": registration.channel,
        "registrationDate": day.isoformat(),
        "contractualRelationshipReference": registration.workplace_id,
        "employer": employer,
    }
    if registration.client_reference:
        shown["customReference"] = registration.client_reference
    if registration.event_type and registration.event_at is not None:
        shown["type"] = registration.event_type.lower()
        shown["moment"] = _instant(registration.event_at)
    return shown


def _facts(facts: dict[str, Any]) -> dict[str, Any]:
    shown = dict(facts)
    if "remarks" in facts:
        shown["remarks"] = [
            {"number": number, "code": REMARKS[number].rest_code if number in REMARKS else f"CAW_{number:02d}"}
            for number in facts["remarks"]
        ]
    return shown


def event_document(event: FeedEvent, registration: "Registration") -> dict[str, Any]:
    """The event as the cursor feed lists it and a webhook sends it."""
    return {
        "id": webhook_id(event.position),
        "type": event.event_type,
        "timestamp": _instant(event.occurred_at),
        "data": {**_facts(event.facts), "registration": _registration(registration)},
    }
