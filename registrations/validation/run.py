"""Running the rule engine and recording its outcome (asynchronous validation, spec §4.2)."""

from collections import Counter
from collections.abc import Sequence
from datetime import datetime

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
    """
    with transaction.atomic():
        waiting = list(
            Registration.objects.select_for_update()
            .filter(months_of_ids(registration_ids), id__in=registration_ids, status=Status.REGISTERED)
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
            .order_by("id")
        )
        changed = _apply(current, EventType.REVALIDATED, only_changes=True, actor=actor, channel=channel)
    _count_verdicts(changed, EventType.REVALIDATED)
    return len(changed)


def _write_outcomes(registrations: list[Registration], validated_at: datetime) -> None:
    """One UPDATE for the whole batch. (Django's bulk_update builds a CASE expression per
    column that costs more than the rest of the validation; UPDATE ... FROM a VALUES list
    works on PostgreSQL and SQLite >= 3.33 alike.)"""
    if not registrations:
        return
    table = Registration._meta.db_table
    rows = ", ".join(["(CAST(%s AS BIGINT), %s, CAST(%s AS BIGINT), CAST(%s AS INTEGER))"] * len(registrations))
    params: list[int | str | datetime] = []
    for registration in registrations:
        params += [registration.pk, registration.status, registration.remark_mask, registration.sector]
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH outcome(id, status, remark_mask, sector) AS (VALUES {rows}) "  # noqa: S608 - placeholders only
            f"UPDATE {table} SET status = outcome.status, remark_mask = outcome.remark_mask, "
            "sector = outcome.sector, validated_at = %s "
            f"FROM outcome WHERE {table}.id = outcome.id",
            [*params, validated_at],
        )


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
    changed = []
    for registration in registrations:
        mask = masks[registration.pk]
        if only_changes and mask == registration.remark_mask:
            continue  # the status follows from the mask: nothing changed
        registration.remark_mask = mask
        registration.status = _status_for(mask)
        registration.validated_at = now
        changed.append(registration)
    _write_outcomes(changed, now)
    history_record_many(
        [
            NewEvent(
                registration_id=registration.pk,
                event_type=event_type,
                actor=actor,
                channel=channel,
                data=_event_data(registration),
            )
            for registration in changed
        ],
        occurred_at=now,
    )
    return changed
