"""Construction and meat presences: submit and cancel (both gateways, the console), and
inspection's reads recorded as consultations."""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.partitioning import months_of_ids
from history.events import EventType
from history.services import NewEvent, history_record_many
from registrations.domain.authorisation import Caller, CallerRole
from registrations.domain.clock import caller_today
from registrations.domain.exceptions import ItemError, ItemErrorCode
from registrations.domain.identifiers import (
    normalise_enterprise_number,
    normalise_limosa_id,
    normalise_niss,
    normalise_workplace_id,
)
from registrations.domain.vocabulary import CancellationReason, Channel, Sector, Status
from registrations.models import Registration
from registrations.selectors.reference import workplace_sectors
from registrations.selectors.registrations import is_cleaning_event, registrations_visible_to
from registrations.services.batches import (
    ItemResult,
    admit_each,
    check_batch_size,
    count_item_errors,
    record_created,
    start_submission,
    store_with_retry,
)
from registrations.services.revalidation import duplicates_changed

logger = logging.getLogger(__name__)

# Which sectors each channel may cancel (spec §4.1 code 10) and until when (code 9).
_CANCELLABLE_SECTORS = {
    Channel.WS: {Sector.CONSTRUCTION, Sector.SECURITY, Sector.MEAT},
    Channel.REST: {Sector.CLEANING},
    Channel.ADMIN: set(Sector),
}
_REST_CANCEL_DAYS = 30


@dataclass(frozen=True)
class PresenceInput:
    """One construction or meat presence as a gateway received it (SOAP `registerPresences`).

    Exactly one person: `niss` with `enterprise_number`, or `limosa_id`.
    `submitted` is what the client sent, kept verbatim on the registration.
    """

    workplace_id: str
    registration_date: date | None = None
    niss: str | None = None
    enterprise_number: str | int | None = None
    limosa_id: str | None = None
    client_reference: str = ""
    submitted: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CancelInput:
    registration_id: int
    reason: str


@dataclass
class _Admitted:
    index: int
    registration_date: date
    niss: str
    limosa_id: str
    enterprise_number: str
    workplace_id: str

    @property
    def dedup_key(self) -> str:
        person = self.niss or f"L{self.limosa_id}"
        return f"{self.registration_date.isoformat()}|{self.workplace_id}|{self.enterprise_number}|{person}"


def _admit_person(item: PresenceInput) -> tuple[str, str, str, list[ItemError]]:
    """The person and employer of an item: (niss, enterprise, limosa_id, errors). Either a
    NISS with a CompanyID, or a LimosaId alone (the contract's xs:choice)."""
    if item.limosa_id is not None:
        if item.niss is not None or item.enterprise_number is not None:
            return (
                "",
                "",
                "",
                [ItemError(ItemErrorCode.PERSON_ID_INVALID, "Give either INSS with CompanyID, or LimosaId")],
            )
        limosa = normalise_limosa_id(item.limosa_id)
        return ("", "", "", [limosa]) if isinstance(limosa, ItemError) else ("", "", limosa, [])
    company = (
        normalise_enterprise_number(item.enterprise_number)
        if item.enterprise_number is not None
        else ItemError(ItemErrorCode.COMPANY_ID_MALFORMED, "CompanyID is missing")
    )
    niss = (
        normalise_niss(item.niss)
        if item.niss is not None
        else ItemError(ItemErrorCode.PERSON_ID_INVALID, "INSS or LimosaId is missing")
    )
    errors = [checked for checked in (company, niss) if isinstance(checked, ItemError)]
    if errors:
        return "", "", "", errors
    return str(niss), str(company), "", []


def _admit(index: int, item: PresenceInput, today: date) -> _Admitted | list[ItemError]:
    """The admission checks of spec §4.1 (codes 2-6). Collects every error of the item."""
    niss, enterprise, limosa, errors = _admit_person(item)
    workplace = normalise_workplace_id(item.workplace_id)
    if isinstance(workplace, ItemError):
        errors.append(workplace)
    registration_date = item.registration_date or today
    if registration_date not in (today, today + timedelta(days=1)):
        errors.append(ItemError(ItemErrorCode.REGISTRATION_DATE_NOT_ALLOWED))
    if errors or isinstance(workplace, ItemError):
        return sorted(errors, key=lambda error: error.code)
    return _Admitted(index, registration_date, niss, limosa, enterprise, workplace)


def registration_submit_batch(*, items: Sequence[PresenceInput], caller: Caller, channel: Channel) -> list[ItemResult]:
    """Admit and store 1..200 construction or meat presences; one result per item, in order.

    Items failing admission get their errors and store nothing; one bad item never fails the
    others. A presence this sender already registered (same person, employer, workplace and
    date, not cancelled) is answered with the stored registration (`replayed`), so a client
    retrying after a lost answer never creates a second row. Stored registrations are
    SUCCESSFULLY REGISTERED, each with a `registration.created` event, and their validation
    is handed to Celery after commit (one task for the batch).

    Raises BatchSizeError (0 or more than 200 items), NotAuthorisedError (caller may not register).
    """
    start_submission(items, caller)
    today = caller_today(caller)
    results, admitted = admit_each(items, lambda index, item: _admit(index, item, today))
    if admitted:
        sectors = workplace_sectors({entry.workplace_id for entry in admitted})
        store_with_retry(lambda: _store_admitted(admitted, items, results, sectors, caller, channel))
    count_item_errors(results, operation="register", channel=channel)
    return results


def _active_registrations_of_sender(caller: Caller, dedup_keys: set[str]) -> dict[str, Registration]:
    """The sender's not-cancelled registrations of these presences, by dedup key."""
    if caller.client_id is None:  # operators: no sender, no resend to recognise
        return {}
    stored = Registration.objects.filter(sender_id=caller.client_id, dedup_key__in=dedup_keys)
    return {registration.dedup_key: registration for registration in stored.exclude(status=Status.CANCELLED)}


@transaction.atomic
def _store_admitted(
    admitted: list[_Admitted],
    items: Sequence[PresenceInput],
    results: list[ItemResult],
    sectors: dict[str, Sector],
    caller: Caller,
    channel: Channel,
) -> None:
    existing = _active_registrations_of_sender(caller, {entry.dedup_key for entry in admitted})
    now = timezone.now()
    new_rows: list[tuple[int, Registration]] = []
    for entry in admitted:
        if entry.dedup_key in existing:
            results[entry.index] = ItemResult(registration=existing[entry.dedup_key], replayed=True)
            continue
        item = items[entry.index]
        registration = Registration(
            sector=_presence_sector(sectors.get(entry.workplace_id)),
            channel=channel,
            sender_id=caller.client_id,
            sender_enterprise_number=caller.enterprise_number,
            sender_role=caller.role.value,
            created_at=now,
            registration_date=entry.registration_date,
            niss=entry.niss,
            limosa_id=entry.limosa_id,
            enterprise_number=entry.enterprise_number,
            workplace_id=entry.workplace_id,
            client_reference=item.client_reference,
            submitted=item.submitted,
            dedup_key=entry.dedup_key,
        )
        if caller.client_id:
            # The same presence twice in one batch: the second answer is the first's row.
            existing[entry.dedup_key] = registration
        new_rows.append((entry.index, registration))
    created = Registration.objects.bulk_create([registration for _, registration in new_rows])
    for (index, _), registration in zip(new_rows, created, strict=True):
        results[index] = ItemResult(registration=registration)
    record_created(created, caller, channel, now)


def _presence_sector(declared: Sector | None) -> Sector:
    """The sector a presence is stored in: its workplace's, when that is a presence sector.

    A presence is never a cleaning event, even on a cleaning workplace: cleaning is real-time
    IN/OUT over REST only (spec §6), and a presence has neither. It stays the presence it is,
    in the default sector, and validation says the site is not subject to it (remark 13).
    """
    if declared is None or declared == Sector.CLEANING:
        return Sector.CONSTRUCTION
    return declared


def registration_cancel_batch(*, items: Sequence[CancelInput], caller: Caller, channel: Channel) -> list[ItemResult]:
    """Cancel 1..200 registrations; one result per item, in order (codes 1, 7-11).

    A registration the caller may not see is reported as unknown (7), exactly like one that
    does not exist. Cancelling is terminal and writes a `registration.cancelled` event.

    Raises BatchSizeError.
    """
    check_batch_size(items)
    with transaction.atomic():
        results = _cancel_locked(items, caller, channel)
    count_item_errors(results, operation="cancel", channel=channel)
    return results


def _cancel_locked(items: Sequence[CancelInput], caller: Caller, channel: Channel) -> list[ItemResult]:
    ids = {item.registration_id for item in items}
    found = {
        registration.pk: registration
        for registration in registrations_visible_to(caller).select_for_update().filter(months_of_ids(ids), id__in=ids)
    }
    today = caller_today(caller)
    now = timezone.now()
    results: list[ItemResult] = []
    cancelled: dict[int, Registration] = {}
    for item in items:
        registration = found.get(item.registration_id)
        error = _cancel_error(item, registration, caller, channel, today)
        if error is not None or registration is None:
            results.append(ItemResult(registration=registration, errors=[error] if error else []))
            continue
        registration.status = Status.CANCELLED
        registration.cancelled_at = now
        registration.cancellation_reason = item.reason
        cancelled[registration.pk] = registration
        results.append(ItemResult(registration=registration))
    Registration.objects.bulk_update(cancelled.values(), ["status", "cancelled_at", "cancellation_reason"])
    duplicates_changed(cancelled.values())
    history_record_many(
        [
            NewEvent(
                registration_id=registration.pk,
                event_type=EventType.CANCELLED,
                actor=caller.actor,
                channel=channel,
                data={"status": Status.CANCELLED.label, "reason": registration.cancellation_reason},
            )
            for registration in cancelled.values()
        ],
        occurred_at=now,
    )
    return results


def _cancel_error(
    item: CancelInput,
    registration: Registration | None,
    caller: Caller,
    channel: Channel,
    today: date,
) -> ItemError | None:
    if item.reason not in CancellationReason.values:
        return ItemError(ItemErrorCode.INVALID_CANCELLATION_REASON)
    if registration is None:
        return ItemError(ItemErrorCode.UNKNOWN_REGISTRATION)
    if not _in_service(registration, channel):
        return ItemError(ItemErrorCode.NOT_IN_THIS_SERVICE)
    if not _may_cancel(caller, registration):
        return ItemError(ItemErrorCode.CANCEL_NOT_ALLOWED)
    if registration.status == Status.CANCELLED:
        return ItemError(ItemErrorCode.ALREADY_CANCELLED)
    if _too_late_to_cancel(registration, channel, today):
        return ItemError(ItemErrorCode.TOO_LATE_TO_CANCEL)
    return None


def _in_service(registration: Registration, channel: Channel) -> bool:
    """Whether this channel's service holds the registration (code 10): REST holds only
    cleaning events, never a sector-4 row without its type and moment."""
    if registration.sector not in _CANCELLABLE_SECTORS[channel]:
        return False
    return channel != Channel.REST or is_cleaning_event(registration)


def _may_cancel(caller: Caller, registration: Registration) -> bool:
    """The sender or the employer may cancel; a builder who only sees a subcontractor's
    registration, a professional and inspection may only consult (code 1)."""
    if caller.role == CallerRole.OPERATOR:
        return True
    if caller.role != CallerRole.ENTERPRISE:
        return False
    return registration.sender_id == caller.client_id or registration.enterprise_number == caller.enterprise_number


def _too_late_to_cancel(registration: Registration, channel: Channel, today: date) -> bool:
    if channel == Channel.ADMIN:
        return False
    if registration.sector == Sector.CLEANING:
        # A subtraction: adding the window to a stored 9999-12-31 would leave the calendar.
        return (today - registration.registration_date).days > _REST_CANCEL_DAYS
    return registration.registration_date < today


def registrations_consulted(*, caller: Caller, registrations: Sequence[Registration], channel: Channel) -> None:
    """Record inspection's reads in the history of what it read (spec §3.2, §8)."""
    if not caller.consultations_are_logged or not registrations:
        return
    with transaction.atomic():
        # Lock the chains we append to: concurrent readers must not fork a chain.
        ids = [registration.pk for registration in registrations]
        list(Registration.objects.select_for_update().filter(months_of_ids(ids), id__in=ids).values_list("id"))
        history_record_many(
            [
                NewEvent(
                    registration_id=registration.pk,
                    event_type=EventType.CONSULTED,
                    actor=caller.actor,
                    channel=channel,
                )
                for registration in registrations
            ]
        )
