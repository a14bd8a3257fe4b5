"""What every submit service shares: the batch size check, per-item admission and results,
the retried store, and the `registration.created` events with the validation hand-off.

`registration_submit_batch` (presences) and `registration_submit_cleaning_batch` (cleaning)
are built from these; so is every later batch service.
"""

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from django.db import IntegrityError, transaction

from config.observability import metrics
from history.events import EventType
from history.services import NewEvent, history_record_many
from registrations import tasks
from registrations.domain.authorisation import Caller
from registrations.domain.exceptions import BatchSizeError, ItemError, NotAuthorisedError
from registrations.domain.limits import MAX_BATCH
from registrations.domain.vocabulary import Channel, Sector, Status
from registrations.models import Registration

__all__ = [
    "ItemResult",
    "admit_each",
    "check_batch_size",
    "count_item_errors",
    "record_created",
    "start_submission",
    "store_with_retry",
]

_INSERT_ATTEMPTS = 3


@dataclass
class ItemResult:
    """The outcome of one item, in the order of the request.

    `registration` is set when the item is stored (or was already stored: `replayed`);
    `errors` is set when it was refused, and then nothing was written for it.
    """

    registration: Registration | None = None
    errors: list[ItemError] = field(default_factory=list)
    replayed: bool = False


def check_batch_size(items: Sequence[object]) -> None:
    if not 1 <= len(items) <= MAX_BATCH:
        raise BatchSizeError(f"a call carries 1 to {MAX_BATCH} items, this one has {len(items)}")


def start_submission(items: Sequence[object], caller: Caller) -> None:
    """The whole-call checks every submit service starts with.

    Raises BatchSizeError (0 or more than 200 items), NotAuthorisedError (caller may not register).
    """
    check_batch_size(items)
    if not caller.may_register:
        raise NotAuthorisedError("this client may consult registrations but not register them")


_Item = TypeVar("_Item")
_Entry = TypeVar("_Entry")


def admit_each(
    items: Sequence[_Item], admit: Callable[[int, _Item], _Entry | list[ItemError]]
) -> tuple[list[ItemResult], list[_Entry]]:
    """One result per item; the admitted entries, or each refused item's errors in its result."""
    results = [ItemResult() for _ in items]
    admitted: list[_Entry] = []
    for index, item in enumerate(items):
        outcome = admit(index, item)
        if isinstance(outcome, list):
            results[index].errors = outcome
        else:
            admitted.append(outcome)
    return results, admitted


def store_with_retry(store: Callable[[], None]) -> None:
    """Run an atomic store again when a concurrent call stored one of its rows between our
    check and our insert (PostgreSQL, concurrent resends): the retry answers with the
    winner's rows. Raises the IntegrityError after the last attempt."""
    for attempt in range(_INSERT_ATTEMPTS):
        try:
            store()
            return
        except IntegrityError:
            if attempt == _INSERT_ATTEMPTS - 1:
                raise


def record_created(created: list[Registration], caller: Caller, channel: Channel, now: datetime) -> None:
    """The `registration.created` events of new registrations (new chains), and their
    validation handed to Celery after commit, one task for the batch. Shared by every
    submit service; must run in the transaction that inserted them."""
    history_record_many(
        [
            NewEvent(
                registration_id=registration.pk,
                registration_date=registration.registration_date,
                event_type=EventType.CREATED,
                actor=caller.actor,
                channel=channel,
                data={"status": Status.REGISTERED.label, "sector": registration.sector}
                | ({"event": registration.event_type} if registration.event_type else {}),
            )
            for registration in created
        ],
        occurred_at=now,
        new_chains=True,
    )
    ids = [registration.pk for registration in created]
    if ids:
        accepted = Counter(registration.sector for registration in created)
        transaction.on_commit(lambda: _committed(ids, accepted, channel), robust=True)


def _committed(registration_ids: list[int], accepted: Counter[int], channel: Channel) -> None:
    """Once the batch is committed (one callback per batch): count it, hand its validation off."""
    for sector, count in accepted.items():
        metrics.REGISTRATIONS_ACCEPTED.labels(Sector(sector).name.lower(), str(channel).lower()).inc(count)
    _hand_off_validation(registration_ids)


def count_item_errors(results: Sequence[ItemResult], *, operation: str, channel: Channel) -> None:
    """The per-item error codes of a batch's answer, for the metrics (never written anywhere)."""
    codes = Counter(int(error.code) for result in results for error in result.errors)
    for code, count in codes.items():
        metrics.ITEM_ERRORS.labels(operation, str(channel).lower(), str(code)).inc(count)


def _hand_off_validation(registration_ids: list[int]) -> None:
    # Through the module, so that a benchmark timing the hand-off sees every call.
    tasks.enqueue_validation(registration_ids)
