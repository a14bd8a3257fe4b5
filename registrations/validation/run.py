"""Running the rule engine and recording its outcome (asynchronous validation, spec §4.2)."""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from config.observability import metrics
from config.partitioning import months_of_ids
from history.events import EventType
from history.services import NewEvent, history_record_many
from registrations.domain.vocabulary import Sector, Status
from registrations.models import Registration
from registrations.validation.engine import evaluate
from registrations.validation.facts import ReferenceFacts

WORKER_ACTOR = "worker"
WORKER_CHANNEL = "WORKER"  # history channel of asynchronous work
# What no rule, no event and no later step of the task reads: the submission as sent (the
# largest column, a JSON document decoded per row) stays in the database.
UNREAD_FIELDS = ("submitted",)


def _status_for(mask: int) -> Status:
    return Status.VALIDATED if mask == 0 else Status.FAILED


def _event_data(registration: Registration) -> dict[str, object]:
    return {"status": Status(registration.status).label, "remarks": registration.remarks}


def registration_validate_batch(*, registration_ids: Sequence[int]) -> int:
    """Validate the registrations of a batch still waiting for it; returns how many.

    As `registration_validate_waiting`, which also returns the registrations themselves.
    """
    return len(registration_validate_waiting(registration_ids=registration_ids))


def registration_validate_waiting(*, registration_ids: Sequence[int]) -> list[Registration]:
    """Validate the registrations of a batch still waiting for it; returns them, validated.

    Sets VALIDATED (no remark) or FAILED (remarks) and writes one `registration.validated`
    event each, in one transaction. Registrations already validated or cancelled are left
    alone (and not returned), so a re-delivered or duplicated task changes nothing.

    The rows are read without a lock: the one UPDATE that writes the verdicts applies only
    to rows still waiting when it runs (it waits for a concurrent writer's commit, then
    checks again), and only the rows it wrote get an event. A registration cancelled, or
    validated by a duplicate task, while this one evaluated is so left as it is, as with the
    row lock before, without writing a lock into each row ahead of the UPDATE.
    """
    with transaction.atomic():
        waiting = list(
            Registration.objects.filter(
                months_of_ids(registration_ids), id__in=registration_ids, status=Status.REGISTERED
            )
            .defer(*UNREAD_FIELDS)
            .order_by("id")
        )
        changed = _apply(waiting, EventType.VALIDATED, only_changes=False)
    _count_verdicts(changed, EventType.VALIDATED)
    return changed


def registration_revalidate(
    *, registration_ids: Sequence[int], actor: str = WORKER_ACTOR, channel: str = WORKER_CHANNEL
) -> int:
    """Re-run validation on VALIDATED or FAILED registrations; returns how many changed.

    Only a change of status or of the remark set writes a `registration.revalidated` event,
    recorded with `actor` and `channel` (the worker's, or an operator's from the admin).
    """
    with transaction.atomic():
        current = list(
            Registration.objects.select_for_update()
            .filter(
                months_of_ids(registration_ids), id__in=registration_ids, status__in=[Status.VALIDATED, Status.FAILED]
            )
            .defer(*UNREAD_FIELDS)
            .order_by("id")
        )
        changed = _apply(current, EventType.REVALIDATED, only_changes=True, actor=actor, channel=channel)
    _count_verdicts(changed, EventType.REVALIDATED)
    return len(changed)


def _write_outcomes(registrations: list[Registration], read: dict[int, str], validated_at: datetime) -> set[int]:
    """One UPDATE for the whole batch, of the rows whose status is still the one `read`
    (id -> status); returns the ids it wrote.

    (Django's bulk_update builds a CASE expression per column that costs more than the rest
    of the validation.) On PostgreSQL the values go as five arrays, unnested: five parameters
    whatever the batch's size; elsewhere as a VALUES list (SQLite >= 3.33 for UPDATE ... FROM,
    3.35 for RETURNING)."""
    if not registrations:
        return set()
    table = Registration._meta.db_table
    rows = [(r.pk, r.registration_date, str(r.status), r.remark_mask, int(r.sector), read[r.pk]) for r in registrations]
    columns = [list(column) for column in zip(*rows, strict=True)]
    if connection.vendor == "postgresql":
        outcome = (
            "SELECT * FROM unnest(%s::bigint[], %s::date[], %s::text[], %s::bigint[], %s::integer[], %s::text[])"
            " AS v(id, registration_date, status, remark_mask, sector, read_status)"
        )
        params: list[Any] = list(columns)
    else:
        outcome = "VALUES " + ", ".join(
            ["(CAST(%s AS BIGINT), %s, %s, CAST(%s AS BIGINT), CAST(%s AS INTEGER), %s)"] * len(registrations)
        )
        params = [value for row in rows for value in row]
    # The batch's dates as constants as well, so that PostgreSQL touches only their months'
    # partitions (docs/adr/0019); the join on (id, date) is the primary key.
    dates = [r.registration_date for r in registrations]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH outcome(id, registration_date, status, remark_mask, sector, read_status) AS ({outcome}) "  # noqa: S608 - placeholders only
            f"UPDATE {table} SET status = outcome.status, remark_mask = outcome.remark_mask, "
            "sector = outcome.sector, validated_at = %s "
            f"FROM outcome WHERE {table}.id = outcome.id AND {table}.registration_date = outcome.registration_date "
            f"AND {table}.registration_date BETWEEN %s AND %s AND {table}.status = outcome.read_status "
            f"RETURNING {table}.id",
            [*params, validated_at, min(dates), max(dates)],
        )
        return {row[0] for row in cursor.fetchall()}


def _follow_declared_sectors(registrations: list[Registration], facts: ReferenceFacts) -> None:
    """Construction and meat registrations take the sector of their Declaration of Works,
    which may have arrived after admission (read with the batch's facts, no query of its own)."""
    presence_sectors = (Sector.CONSTRUCTION, Sector.MEAT)
    for registration in registrations:
        declaration = facts.declarations.get(registration.workplace_id)
        if registration.sector in presence_sectors and declaration and declaration.sector in presence_sectors:
            registration.sector = Sector(declaration.sector)


def _count_verdicts(changed: list[Registration], event_type: EventType) -> None:
    """The verdicts, their remarks and (first validations) the lag since creation, counted
    once the transaction that wrote them is over."""
    kind = "validated" if event_type == EventType.VALIDATED else "revalidated"
    for status, number in Counter(str(registration.status) for registration in changed).items():
        metrics.VALIDATIONS.labels(kind, status).inc(number)
    for remark, number in Counter(remark for registration in changed for remark in registration.remarks).items():
        metrics.REMARKS.labels(str(remark)).inc(number)
    if event_type == EventType.VALIDATED:
        for registration in changed:
            if registration.validated_at is not None:
                metrics.VALIDATION_LAG.observe((registration.validated_at - registration.created_at).total_seconds())


def _apply(
    registrations: list[Registration],
    event_type: EventType,
    *,
    only_changes: bool,
    actor: str = WORKER_ACTOR,
    channel: str = WORKER_CHANNEL,
) -> list[Registration]:
    """Evaluates the batch and records what changed; returns the registrations it changed."""
    if not registrations:
        return []
    # The facts do not depend on the sector, so one read of the Declarations of Works serves
    # both the sector a presence follows and the rules that then apply to it.
    facts = ReferenceFacts.load(registrations)
    _follow_declared_sectors(registrations, facts)
    masks = evaluate(registrations, facts)
    now = timezone.now()
    read = {registration.pk: str(registration.status) for registration in registrations}
    changed = []
    for registration in registrations:
        mask = masks[registration.pk]
        if only_changes and mask == registration.remark_mask:
            continue  # the status follows from the mask: nothing changed
        registration.remark_mask = mask
        registration.status = _status_for(mask)
        registration.validated_at = now
        changed.append(registration)
    written = _write_outcomes(changed, read, now)
    changed = [registration for registration in changed if registration.pk in written]
    history_record_many(
        [
            NewEvent(
                registration_id=registration.pk,
                event_type=event_type,
                actor=actor,
                channel=channel,
                data=_event_data(registration),
                registration_date=registration.registration_date,
            )
            for registration in changed
        ],
        occurred_at=now,
    )
    return changed
