"""A workplace the console's pages can tell a story about, built through the real services.

- `story`: a construction presence validated FAILED (remark 1, no Dimona), then revalidated
  after the registers changed (remark 1 cleared, remark 16 added: the employer stopped being
  active), read by inspection, and placed under legal hold by an operator.
- `cancelled`: another employer's presence on the same workplace (remarks 1, 4, 12, 15),
  cancelled by an operator (HOLIDAY).
- `checked_in`: a cleaning IN with no OUT (on site now); `checked_out`: an IN and its OUT
  (gone again); `corrected`: a cleaning IN an operator corrected.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import time_machine
from django.utils import timezone

from registrations.domain.authorisation import Caller
from registrations.models import Channel, ClientRole, DimonaPeriod, Enterprise, Person, Registration
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.corrections import CorrectionInput, registration_correct_cleaning
from registrations.services.presences import (
    CancelInput,
    registration_cancel_batch,
    registration_submit_batch,
    registrations_consulted,
)
from registrations.services.retention import registrations_set_legal_hold
from registrations.validation.run import registration_revalidate, registration_validate_batch
from tests.factories import caller_for, make_client, make_declaration, make_niss, presence

OPERATOR = Caller.for_operator("cor")


@dataclass(frozen=True)
class ConsoleWorld:
    workplace_id: str
    story: Registration
    cancelled: Registration
    checked_in: Registration
    checked_out: Registration
    corrected: Registration
    correction: Registration


@contextmanager
def clear_of_midnight() -> Iterator[None]:
    """Cleaning events may be at most 10 minutes old, and "on site today" counts the INs of
    today: in the first minutes after midnight (Brussels) the clock moves on to 00:20, never
    back (a browser would drop a session cookie dated in the past)."""
    now = timezone.localtime()
    safe = datetime.combine(now.date(), time(0, 20), tzinfo=now.tzinfo)
    if now >= safe:
        yield
        return
    with time_machine.travel(safe, tick=True):
        yield


def _reload(registration: Registration) -> Registration:
    return Registration.objects.get(pk=registration.pk)


def _presence(caller: Caller, niss: str, workplace_id: str) -> Registration:
    [result] = registration_submit_batch(
        items=[presence(caller=caller, niss=niss, workplace_id=workplace_id)], caller=caller, channel=Channel.WS
    )
    assert result.registration is not None, result.errors
    registration_validate_batch(registration_ids=[result.registration.pk])
    return _reload(result.registration)


def _cleaning(caller: Caller, niss: str, workplace_id: str, kind: str, minutes_ago: int) -> Registration:
    [result] = registration_submit_cleaning_batch(
        items=[
            CleaningInput(
                event_type=kind,
                event_at=timezone.now() - timedelta(minutes=minutes_ago),
                niss=niss,
                workplace_id=workplace_id,
                enterprise_number=caller.enterprise_number,
                latitude=50.8465,
                longitude=4.3517,
            )
        ],
        caller=caller,
    )
    assert result.registration is not None, result.errors
    return _reload(result.registration)


def build_console_world() -> ConsoleWorld:
    builder = caller_for(make_client())
    employer = Enterprise.objects.create(
        enterprise_number=builder.enterprise_number, name="Bouw NV", active_from=date(2020, 1, 1)
    )
    declaration = make_declaration(
        builder=builder.enterprise_number,
        street_name="Rue de la Loi",
        house_number="16",
        post_code="1000",
        municipality_name="Bruxelles",
    )
    workplace = declaration.number
    worker = make_niss()
    Person.objects.create(niss=worker, given_name="An", family_name="Peeters")
    story = _presence(builder, worker, workplace)
    DimonaPeriod.objects.create(
        employer=builder.enterprise_number, niss=worker, start="2020-01-01", worker_type="employee"
    )
    employer.active_to = date(2021, 1, 1)
    employer.save()
    registration_revalidate(registration_ids=[story.pk])
    inspection = caller_for(make_client(ClientRole.INSPECTION))
    registrations_consulted(caller=inspection, registrations=[story], channel=Channel.REST)
    registrations_set_legal_hold(registration_ids=[story.pk], hold=True, caller=OPERATOR)

    stranger = caller_for(make_client())
    cancelled = _presence(stranger, make_niss(), workplace)
    registration_cancel_batch(items=[CancelInput(cancelled.pk, "HOLIDAY")], caller=OPERATOR, channel=Channel.ADMIN)

    cleaner = caller_for(make_client())
    Person.objects.create(niss=(on_site := make_niss()), given_name="Bea", family_name="Claes")
    checked_in = _cleaning(cleaner, on_site, workplace, "IN", minutes_ago=8)
    gone = make_niss()
    _cleaning(cleaner, gone, workplace, "IN", minutes_ago=9)
    checked_out = _cleaning(cleaner, gone, workplace, "OUT", minutes_ago=2)
    forgot = make_niss()
    corrected = _cleaning(cleaner, forgot, workplace, "IN", minutes_ago=7)
    correction = registration_correct_cleaning(
        correction=CorrectionInput(corrected.pk, "OUT", timezone.now() - timedelta(minutes=1), "OUT forgotten"),
        caller=OPERATOR,
    )
    registration_validate_batch(registration_ids=[checked_in.pk, checked_out.pk, corrected.pk, correction.pk])
    return ConsoleWorld(
        workplace_id=workplace,
        story=_reload(story),
        cancelled=_reload(cancelled),
        checked_in=_reload(checked_in),
        checked_out=_reload(checked_out),
        corrected=_reload(corrected),
        correction=_reload(correction),
    )
