"""A registration's history as the console shows it: the core's status timeline
(registrations/selectors/timeline.py, which alone reads history payloads) put into the
operator's words, one row per event, with the recorded payload kept for a "raw" view."""

import json
from dataclasses import dataclass
from datetime import datetime

from django.utils.translation import gettext

from history.events import EventType
from registrations.admin.labels import (
    actor_label,
    channel_label,
    reason_label,
    remark_text,
    status_code,
    status_label,
)
from registrations.domain.authorisation import Caller
from registrations.selectors.clients import client_names
from registrations.selectors.timeline import TimelineEntry, registration_timeline


@dataclass(frozen=True)
class TimelineRow:
    """One event in words. `stored_status`: the stored status the event recorded ("" when it
    records none), `status` its words and `status_code` the contract's spelling; `facts`:
    short sentences (IN/OUT, reason, note); `correction`/`corrects`: registration ids the
    template links to; `payload`: the recorded data, as indented JSON."""

    sequence: int
    occurred_at: datetime
    event_type: str
    kind: str
    title: str
    who: str
    channel: str
    stored_status: str
    status: str
    status_code: str
    facts: list[str]
    remarks_added: list[str]
    remarks_cleared: list[str]
    no_remark: bool
    correction: int | None
    corrects: int | None
    payload: str


def timeline_rows(*, operator: Caller, registration_id: int) -> list[TimelineRow]:
    """Every event of the registration, oldest first, inspection's consultations included."""
    entries = registration_timeline(caller=operator, registration_id=registration_id)
    names = client_names(actors={entry.actor for entry in entries})
    return [_row(entry, names) for entry in entries]


def _row(entry: TimelineEntry, names: dict[str, str]) -> TimelineRow:
    stored = entry.stored_status
    return TimelineRow(
        sequence=entry.sequence,
        occurred_at=entry.occurred_at,
        event_type=entry.event_type,
        kind=entry.event_type.rsplit(".", 1)[-1],
        title=_title(entry),
        who=actor_label(entry.actor, names),
        channel=channel_label(entry.channel),
        stored_status=stored or "",
        status=status_label(stored) if stored else "",
        status_code=status_code(stored) if stored else "",
        facts=_facts(entry),
        remarks_added=[remark_text(number) for number in entry.remarks_added],
        remarks_cleared=[remark_text(number) for number in entry.remarks_cleared],
        no_remark=entry.remarks == (),
        correction=entry.correction,
        corrects=entry.corrects,
        payload=json.dumps(dict(entry.payload), ensure_ascii=False, indent=2, sort_keys=True),
    )


def _title(entry: TimelineEntry) -> str:
    if entry.event_type == EventType.LEGAL_HOLD:
        return gettext("legal hold placed") if entry.legal_hold else gettext("legal hold lifted")
    if entry.event_type in EventType.values:
        return str(EventType(entry.event_type).label)
    return entry.event_type


def _facts(entry: TimelineEntry) -> list[str]:
    facts = []
    if entry.cleaning_event:
        facts.append(gettext("cleaning event %(event)s") % {"event": entry.cleaning_event})
    if entry.reason:
        facts.append(gettext("reason: %(reason)s") % {"reason": reason_label(entry.reason)})
    if entry.note:
        facts.append(gettext("note: %(note)s") % {"note": entry.note})
    return facts
