"""Cleaning: real-time IN/OUT events and their admission (spec §1, §4.2, §6).

A cleaning registration is one event: IN when the work starts, OUT when it stops (a break is
OUT then IN). The person registers in real time, on site, so admission refuses:

* an event more than 10 minutes old (12) or more than 2 minutes ahead (13): no late
  registration, no pre-registration;
* an OUT with no open IN for the same person, place of work and employer (14), an IN while
  one is open (15), and an event earlier than the last one of that state (16);
* the identifier errors of §4.1 (NISS 5, enterprise number 2/3, Declaration of Works 4),
  a bad foreign VAT number or not exactly one employer (17), coordinates that are not a
  place in Belgium (18), an activity outside the catalogue (19), a bad event (20).

The state of a person on a place of work for one employer is the last non-cancelled event
there sent with that employer's authority (its clients, operators): IN = open. A client
that merely names the employer (docs/adr/0008) keeps a state of its own, of what it sent.
Neither another employer's events nor such a client's ever block, close or reveal anything
(spec §8, docs/adr/0011). An open IN is never closed
automatically; a forgotten one is corrected by cancelling it (the employer, within 30 days)
or by an operator.
"""

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

from django.db import connection, transaction
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from registrations.domain.activities import ACTIVITIES
from registrations.domain.authorisation import Caller, speaks_for_employer
from registrations.domain.clock import caller_now
from registrations.domain.exceptions import ItemError, ItemErrorCode
from registrations.domain.identifiers import (
    normalise_enterprise_number,
    normalise_foreign_vat_number,
    normalise_niss,
    normalise_workplace_id,
)
from registrations.domain.rows import RegistrationRow
from registrations.domain.vocabulary import Channel, CleaningEventType, Sector, Status
from registrations.models import Registration
from registrations.registers.addresses import normalise_addresses
from registrations.selectors.registrations import CLEANING_EVENT, SENT_FOR_EMPLOYER
from registrations.services.batches import (
    ItemResult,
    admit_each,
    count_item_errors,
    record_created,
    start_submission,
    store_with_retry,
)
from registrations.services.inserts import registrations_insert

LATE_AFTER = timedelta(minutes=10)
EARLY_BEFORE = timedelta(minutes=2)
# A generous box around Belgium: catches (0, 0), swapped latitude/longitude and typos.
_BELGIUM_LATITUDE = (49.4, 51.6)
_BELGIUM_LONGITUDE = (2.4, 6.5)
_SIX_DECIMALS = Decimal("0.000001")

__all__ = ["CleaningInput", "registration_submit_cleaning_batch"]


@dataclass(frozen=True)
class CleaningInput:
    """One cleaning event as the REST gateway received it.

    `event_type` is IN or OUT (any case); `event_at` must be timezone-aware. Exactly one
    employer: `enterprise_number` or `foreign_vat_number`. Coordinates are optional (the
    place of work may be an address, kept in `submitted`). `submitted` is the item exactly
    as the client sent it.
    """

    event_type: str
    event_at: datetime
    niss: str
    workplace_id: str
    enterprise_number: str | None = None
    foreign_vat_number: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: Mapping[str, str] | None = None  # {postCode, municipalityName, streetName, houseNumber, boxNumber}
    activity: str = ""
    client_reference: str = ""
    submitted: dict[str, Any] = field(default_factory=dict)


class StateKey(NamedTuple):
    """Whose IN/OUT state: one person, on one place of work, for one employer, as kept by
    `keeper`: "" for the employer's own state (its clients' and operators' events), or the
    id of a client naming that employer, which keeps a state of its own (docs/adr/0011)."""

    niss: str
    workplace_id: str
    enterprise_number: str
    foreign_vat_number: str
    keeper: str

    @classmethod
    def of_sender(
        cls,
        *,
        sender_id: UUID | None,
        sender_enterprise_number: str,
        niss: str,
        workplace_id: str,
        enterprise_number: str,
        foreign_vat_number: str,
    ) -> "StateKey":
        for_employer = speaks_for_employer(
            sender_id=sender_id, sender_enterprise_number=sender_enterprise_number, enterprise_number=enterprise_number
        )
        keeper = "" if for_employer else str(sender_id)
        return cls(niss, workplace_id, enterprise_number, foreign_vat_number, keeper)


@dataclass
class _Admitted:
    index: int
    event_type: CleaningEventType
    event_at: datetime
    niss: str
    workplace_id: str
    enterprise_number: str
    foreign_vat_number: str
    latitude: Decimal | None
    longitude: Decimal | None
    place_address: dict[str, object] | None = None

    @property
    def employer(self) -> str:
        return self.enterprise_number or self.foreign_vat_number

    def state_key(self, caller: Caller) -> StateKey:
        return StateKey.of_sender(
            sender_id=caller.client_id,
            sender_enterprise_number=caller.enterprise_number,
            niss=self.niss,
            workplace_id=self.workplace_id,
            enterprise_number=self.enterprise_number,
            foreign_vat_number=self.foreign_vat_number,
        )

    @property
    def dedup_key(self) -> str:
        """The same person, place of work, employer, type and minute: a resend, not a new event."""
        minute = self.event_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
        return f"C|{self.niss}|{self.workplace_id}|{self.employer}|{self.event_type}|{minute}"


@dataclass(frozen=True)
class _LastEvent:
    event_type: str
    event_at: datetime


def _employer(item: CleaningInput) -> tuple[str, str] | ItemError:
    if (item.enterprise_number is None) == (item.foreign_vat_number is None):
        return ItemError(ItemErrorCode.EMPLOYER_INVALID)
    if item.enterprise_number is not None:
        checked = normalise_enterprise_number(item.enterprise_number)
        return checked if isinstance(checked, ItemError) else (checked, "")
    vat = normalise_foreign_vat_number(item.foreign_vat_number or "")
    return vat if isinstance(vat, ItemError) else ("", vat)


def _coordinates(item: CleaningInput) -> tuple[Decimal | None, Decimal | None] | ItemError:
    """Both or neither; finite, inside Belgium; stored to 6 decimals (about 10 cm)."""
    if item.latitude is None and item.longitude is None:
        return (None, None)
    if item.latitude is None or item.longitude is None:
        return ItemError(ItemErrorCode.PLACE_OF_WORK_INVALID)
    latitude, longitude = float(item.latitude), float(item.longitude)
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        return ItemError(ItemErrorCode.PLACE_OF_WORK_INVALID)
    low_lat, high_lat = _BELGIUM_LATITUDE
    low_lon, high_lon = _BELGIUM_LONGITUDE
    if not (low_lat <= latitude <= high_lat and low_lon <= longitude <= high_lon):
        return ItemError(ItemErrorCode.PLACE_OF_WORK_INVALID)
    return (
        Decimal(repr(latitude)).quantize(_SIX_DECIMALS),
        Decimal(repr(longitude)).quantize(_SIX_DECIMALS),
    )


def _event(item: CleaningInput, now: datetime) -> tuple[CleaningEventType, datetime] | ItemError:
    kind = item.event_type.strip().upper()
    if kind not in CleaningEventType.values or timezone.is_naive(item.event_at):
        return ItemError(ItemErrorCode.EVENT_INVALID)
    if item.event_at < now - LATE_AFTER:
        return ItemError(ItemErrorCode.EVENT_TOO_LATE)
    if item.event_at > now + EARLY_BEFORE:
        return ItemError(ItemErrorCode.EVENT_IN_FUTURE)
    return (CleaningEventType(kind), item.event_at)


def _admit(index: int, item: CleaningInput, now: datetime) -> _Admitted | list[ItemError]:
    """The per-item checks that need no stored state. Collects every error of the item."""
    niss = normalise_niss(item.niss)
    workplace = normalise_workplace_id(item.workplace_id)
    employer = _employer(item)
    coordinates = _coordinates(item)
    event = _event(item, now)
    errors = [value for value in (niss, workplace, employer, coordinates, event) if isinstance(value, ItemError)]
    if item.activity and item.activity not in ACTIVITIES:
        errors.append(ItemError(ItemErrorCode.ACTIVITY_UNKNOWN))
    # Each isinstance is redundant with `errors` but narrows the types (an assert would vanish
    # under python -O).
    if (
        errors
        or isinstance(niss, ItemError)
        or isinstance(workplace, ItemError)
        or isinstance(employer, ItemError)
        or isinstance(coordinates, ItemError)
        or isinstance(event, ItemError)
    ):
        return sorted(errors, key=lambda error: error.code)
    return _Admitted(index, event[0], event[1], niss, workplace, *employer, *coordinates)


def registration_submit_cleaning_batch(
    *, items: Sequence[CleaningInput], caller: Caller, channel: Channel = Channel.REST
) -> list[ItemResult]:
    """Admit and store 1..200 cleaning events; one result per item, in the request's order.

    Items failing admission or the IN/OUT state check get their errors and store nothing;
    one bad item never fails the others. Events of one batch are checked in time order, so
    a batch may carry a person's IN and OUT. An event this sender already stored (same
    person, place of work, type and minute, not cancelled) is answered with the stored
    registration (`replayed`). Stored events are SUCCESSFULLY REGISTERED, sector cleaning,
    each with a `registration.created` event; validation is handed to Celery after commit.

    Raises BatchSizeError (0 or more than 200 items), NotAuthorisedError (caller may not register).
    """
    start_submission(items, caller)
    now = timezone.now()
    decided_at = caller_now(caller)  # the real-time window; stored times stay on the real clock
    results, admitted = admit_each(items, lambda index, item: _admit(index, item, decided_at))
    admitted = _normalise_places(admitted, items, results)
    if admitted:
        store_with_retry(lambda: _store(admitted, items, results, caller, channel, now))
    count_item_errors(results, operation="register", channel=channel)
    return results


def _normalise_places(
    admitted: list[_Admitted], items: Sequence[CleaningInput], results: list[ItemResult]
) -> list[_Admitted]:
    """Submitted addresses checked and normalised against the register (one query); an
    address the register places gives the event its coordinates for the distance check.
    Returns the entries still admitted."""
    with_address = [entry for entry in admitted if items[entry.index].address is not None]
    places = normalise_addresses([items[entry.index].address or {} for entry in with_address])
    refused = set()
    for entry, place in zip(with_address, places, strict=True):
        if isinstance(place, str):
            results[entry.index].errors = [ItemError(ItemErrorCode.PLACE_OF_WORK_INVALID, place)]
            refused.add(entry.index)
            continue
        entry.place_address = place.as_json()
        if entry.latitude is None and place.latitude is not None and place.longitude is not None:
            entry.latitude = Decimal(repr(place.latitude)).quantize(_SIX_DECIMALS)
            entry.longitude = Decimal(repr(place.longitude)).quantize(_SIX_DECIMALS)
    return [entry for entry in admitted if entry.index not in refused]


def _lock_states(keys: Iterable[StateKey]) -> None:
    """Serialise concurrent writers of the same state (person, place of work, employer, keeper).

    PostgreSQL: a transaction-scoped advisory lock per key, all in one statement and in
    sorted order (no deadlock). Writers for another employer, and clients merely naming this
    employer, never wait on these locks, so not even the timing tells them about this
    employer's events. SQLite runs write
    transactions one at a time (IMMEDIATE), nothing to do.
    """
    if connection.vendor != "postgresql":
        return
    locks = sorted({_lock_id(key) for key in keys})
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(h)) FROM unnest(%s::bigint[]) AS h", [locks])


def _lock_id(key: StateKey) -> int:
    """A signed 64-bit lock id: a hash, so no NISS reaches the database's statement log."""
    digest = hashlib.sha256("|".join(("cleaning", *key)).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _last_events(keys: set[StateKey], caller: Caller) -> dict[StateKey, _LastEvent]:
    """The last non-cancelled event of each state, in one query for the whole batch.

    A state counts only its keeper's events (spec §8, docs/adr/0011): the employer's own
    state is what its clients and operators sent, never what a client naming it sent; such
    a client's state is only what it sent itself, so it can neither probe, close nor block
    the employer's events. Filtered by the batch's persons and places (IN lists, indexed by
    person); keys that are not in the batch are dropped here rather than by a 200-term OR
    in SQL. The database ranks each sender's events per person, place and employer (a
    window: the latest first, two at the same instant by id); the states are then merged
    here, because whose state an event belongs to depends on the sender's authority.
    """
    if not keys:
        return {}
    kept_by_caller = SENT_FOR_EMPLOYER | Q(sender_id=caller.client_id) if caller.client_id else SENT_FOR_EMPLOYER
    latest = (
        Registration.objects.filter(
            kept_by_caller,
            sector=Sector.CLEANING,
            niss__in={key.niss for key in keys},
            workplace_id__in={key.workplace_id for key in keys},
        )
        .exclude(status=Status.CANCELLED)
        .filter(CLEANING_EVENT)
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F(name) for name in _KEY_FIELDS],
                order_by=[F("event_at").desc(), F("id").desc()],
            )
        )
        .filter(rank=1)
    )
    found: dict[StateKey, tuple[datetime, int, str]] = {}
    for row in latest.values(*_KEY_FIELDS, "event_type", "event_at", "id"):
        key = StateKey.of_sender(**{name: row[name] for name in _KEY_FIELDS})
        candidate = (row["event_at"], row["id"], row["event_type"])
        if key in keys and (key not in found or candidate[:2] > found[key][:2]):
            found[key] = candidate
    return {key: _LastEvent(event_type, event_at) for key, (event_at, _, event_type) in found.items()}


_KEY_FIELDS = (
    "sender_id",
    "sender_enterprise_number",
    "niss",
    "workplace_id",
    "enterprise_number",
    "foreign_vat_number",
)


def _state_error(entry: _Admitted, last: _LastEvent | None) -> ItemError | None:
    if last is not None and entry.event_at < last.event_at:
        return ItemError(ItemErrorCode.EVENT_BEFORE_LAST_EVENT)
    is_open = last is not None and last.event_type == CleaningEventType.IN
    if entry.event_type == CleaningEventType.IN and is_open:
        return ItemError(ItemErrorCode.CHECK_IN_ALREADY_OPEN)
    if entry.event_type == CleaningEventType.OUT and not is_open:
        return ItemError(ItemErrorCode.CHECK_OUT_WITHOUT_CHECK_IN)
    return None


@transaction.atomic
def _store(
    admitted: list[_Admitted],
    items: Sequence[CleaningInput],
    results: list[ItemResult],
    caller: Caller,
    channel: Channel,
    now: datetime,
) -> None:
    keys = {entry.state_key(caller) for entry in admitted}
    _lock_states(keys)
    existing: dict[str, Registration | RegistrationRow] = {}
    if caller.client_id:
        existing = {
            registration.dedup_key: registration
            for registration in Registration.objects.filter(
                sender_id=caller.client_id, dedup_key__in={entry.dedup_key for entry in admitted}
            ).exclude(status=Status.CANCELLED)
        }
    last = _last_events(keys, caller)
    new_rows: list[tuple[int, RegistrationRow]] = []
    for entry in sorted(admitted, key=lambda entry: (entry.event_at, entry.index)):
        if entry.dedup_key in existing:
            results[entry.index] = ItemResult.answered(existing[entry.dedup_key], replayed=True)
            continue
        error = _state_error(entry, last.get(entry.state_key(caller)))
        if error is not None:
            results[entry.index] = ItemResult(errors=[error])
            continue
        row = _new_row(entry, items[entry.index], caller, channel, now)
        last[entry.state_key(caller)] = _LastEvent(entry.event_type, entry.event_at)
        if caller.client_id:
            existing[entry.dedup_key] = row  # the same event twice in one batch
        new_rows.append((entry.index, row))
    created = [row for _, row in new_rows]
    registrations_insert(created)
    for index, row in new_rows:
        results[index] = ItemResult(row=row)
    record_created(created, caller, channel, now)


def _new_row(entry: _Admitted, item: CleaningInput, caller: Caller, channel: Channel, now: datetime) -> RegistrationRow:
    return RegistrationRow(
        sector=Sector.CLEANING,
        channel=channel,
        sender_id=caller.client_id,
        sender_enterprise_number=caller.enterprise_number,
        sender_role=caller.role.value,
        created_at=now,
        registration_date=_brussels_date(entry.event_at),
        niss=entry.niss,
        limosa_id="",
        enterprise_number=entry.enterprise_number,
        foreign_vat_number=entry.foreign_vat_number,
        workplace_id=entry.workplace_id,
        client_reference=item.client_reference,
        submitted=item.submitted,
        event_type=entry.event_type,
        event_at=entry.event_at,
        activity=item.activity,
        latitude=entry.latitude,
        longitude=entry.longitude,
        place_address=entry.place_address,
        dedup_key=entry.dedup_key,
    )


def _brussels_date(moment: datetime) -> date:
    return timezone.localtime(moment).date()
