"""What every submit service shares: the batch size check, per-item admission and results,
the retried store, and the `registration.created` events with the validation hand-off.

`registration_submit_batch` (presences) and `registration_submit_cleaning_batch` (cleaning)
are built from these; so is every later batch service.
"""

from collections import Counter
from collections.abc import Callable, Sequence
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
from registrations.domain.rows import RegistrationRow
from registrations.domain.vocabulary import Channel, Sector, Status
from registrations.models import Registration
from registrations.services.inserts import registration_of

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


class ItemResult:
    """The outcome of one item, in the order of the request.

    `stored` is set when the item is stored: the new row as written (`RegistrationRow`, no
    model instance on the hot path: the gateways answer from it), or the stored
    `Registration` it resends (`replayed`), or, for a cancel, the registration it names.
    `registration` is the same as a `Registration`, built from the row only when asked (the
    console, the demo, tests). `errors` is set when the item was refused, and then nothing
    was written for it.
    """

    __slots__ = ("_registration", "errors", "replayed", "row")

    def __init__(
        self,
        registration: Registration | None = None,
        errors: list[ItemError] | None = None,
        replayed: bool = False,
        *,
        row: RegistrationRow | None = None,
    ) -> None:
        self._registration = registration
        self.row = row
        self.errors: list[ItemError] = errors if errors is not None else []
        self.replayed = replayed

    @classmethod
    def answered(cls, stored: "Registration | RegistrationRow", *, replayed: bool = False) -> "ItemResult":
        """The result of a stored item: a new row, or a registration found stored (`replayed`)."""
        if isinstance(stored, RegistrationRow):
            return cls(row=stored, replayed=replayed)
        return cls(registration=stored, replayed=replayed)

    @property
    def stored(self) -> Registration | RegistrationRow | None:
        return self.row if self.row is not None else self._registration

    @property
    def registration(self) -> Registration | None:
        if self._registration is None and self.row is not None:
            self._registration = registration_of(self.row)
        return self._registration

    def __repr__(self) -> str:
        return f"ItemResult(stored={self.stored!r}, errors={self.errors!r}, replayed={self.replayed})"


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


def record_created(created: Sequence[RegistrationRow], caller: Caller, channel: Channel, now: datetime) -> None:
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
