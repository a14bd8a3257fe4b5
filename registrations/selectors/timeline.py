"""A registration's status timeline: its history, decoded once for every gateway.

History events keep what happened as JSON (`HistoryEvent.data`, written by the services).
This selector is the one reader of those payloads: each gateway shows the entries in its own
words (REST's history, SOAP's ValidationHistory) and never looks inside an event itself.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any

from history.events import EventType
from history.models import HistoryEvent
from history.selectors import history_for_registration
from registrations.domain.authorisation import Caller
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Status
from registrations.selectors.lifecycle import PresenceStatus, Validity, status_after, validity_after

_STATUS_BY_LABEL = {str(status.label): status for status in Status}
# The events that record the stored status (their data carry its contract label).
_STATUS_EVENTS = {EventType.CREATED, EventType.VALIDATED, EventType.REVALIDATED, EventType.CANCELLED}


@dataclass(frozen=True)
class TimelineEntry:
    """One history event of a registration, with what it says about its status.

    `stored_status`: the stored (SOAP) status the event recorded, None for an event that
    records none (consulted, corrected, legal hold). `status`: the public status after the
    event (`lifecycle.PresenceStatus`), None when the event does not touch it. `validity`:
    what a validation found. `remarks`: the remark numbers a validation recorded (empty: none),
    None when the event records no validation; `remarks_added` and `remarks_cleared`: how they
    differ from the previous validation's (empty for an event that records none). `reason`: a
    cancellation's; `note`: an operator's correction note; `correction`: the registration
    that corrects this one (a `registration.corrected` event); `corrects`: the one a
    correction's `registration.created` corrects; `cleaning_event`: IN or OUT, on a cleaning
    event's creation; `legal_hold`: whether a hold was placed (True) or lifted (False).
    `payload`: the event's data as recorded, read-only, for an operator who wants the raw
    record (the console shows it; the gateways present the fields above).
    """

    sequence: int
    event_type: str
    occurred_at: datetime
    actor: str
    channel: str
    stored_status: Status | None = None
    status: PresenceStatus | None = None
    validity: Validity | None = None
    remarks: tuple[int, ...] | None = None
    reason: str | None = None
    note: str | None = None
    remarks_added: tuple[int, ...] = ()
    remarks_cleared: tuple[int, ...] = ()
    correction: int | None = None
    corrects: int | None = None
    cleaning_event: str | None = None
    legal_hold: bool | None = None
    payload: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}), compare=False)


def registration_timeline(*, caller: Caller, registration_id: int) -> list[TimelineEntry]:
    """Every history event of a registration the caller may see, oldest first.

    Inspection's consultations are listed only for callers who see everything (inspection
    and operators): to anyone else, who read their data stays out of sight. The caller's
    right to see the registration itself is checked by the gateway's get, before this.
    """
    entries: list[TimelineEntry] = []
    status: PresenceStatus | None = None
    remarks: tuple[int, ...] = ()
    for event in history_for_registration(registration_id=registration_id):
        if event.event_type == EventType.CONSULTED and not caller.sees_everything:
            continue
        entry = _entry(event, status, remarks)
        status = entry.status or status
        remarks = remarks if entry.remarks is None else entry.remarks
        entries.append(entry)
    return entries


def _entry(event: HistoryEvent, previous: PresenceStatus | None, previous_remarks: tuple[int, ...]) -> TimelineEntry:
    data: dict[str, Any] = event.data if isinstance(event.data, dict) else {}
    stored = _stored_status(event.event_type, data)
    corrected = event.event_type == EventType.CORRECTED
    touches_status = stored is not None or corrected
    remarks = _remarks(data)
    return TimelineEntry(
        sequence=event.seq,
        event_type=event.event_type,
        occurred_at=event.occurred_at,
        actor=event.actor,
        channel=event.channel,
        stored_status=stored,
        status=status_after(previous, stored=stored, corrected=corrected) if touches_status else None,
        validity=None if stored is None else validity_after(stored),
        remarks=remarks,
        reason=str(data["reason"]) if data.get("reason") else None,
        note=str(data["note"]) if data.get("note") else None,
        remarks_added=tuple(n for n in remarks or () if n not in previous_remarks),
        remarks_cleared=() if remarks is None else tuple(n for n in previous_remarks if n not in remarks),
        correction=_registration_id(data.get("correction")),
        corrects=_registration_id(data.get("corrects")),
        cleaning_event=str(data["event"]) if data.get("event") in ("IN", "OUT") else None,
        legal_hold=bool(data["hold"]) if event.event_type == EventType.LEGAL_HOLD and "hold" in data else None,
        payload=MappingProxyType(dict(data)),
    )


def _registration_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _stored_status(event_type: str, data: dict[str, Any]) -> Status | None:
    if event_type not in _STATUS_EVENTS:
        return None
    return _STATUS_BY_LABEL.get(str(data.get("status")), Status.REGISTERED)


def _remarks(data: dict[str, Any]) -> tuple[int, ...] | None:
    """The known remark numbers a validation recorded; a retired number is left out."""
    recorded = data.get("remarks")
    if not isinstance(recorded, list):
        return None
    return tuple(number for number in recorded if number in REMARKS)
