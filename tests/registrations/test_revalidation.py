"""Revalidation: reference changes (import, admin) and the periodic sweep (spec §3.1)."""

import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from history.selectors import history_for_registration
from registrations.models import DimonaPeriod, Enterprise, Person, Registration, Status
from registrations.services.presences import registration_submit_batch
from registrations.tasks import revalidate_recent_failures
from registrations.validation.run import registration_revalidate, registration_validate_batch
from tests.factories import caller_for, make_client, make_declaration, make_niss, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """An employer, its worker in the National Register and a declaration: no Dimona yet."""
    caller = caller_for(make_client())
    niss = make_niss()
    Person.objects.create(niss=niss, given_name="An", family_name="Peeters")
    Enterprise.objects.create(enterprise_number=caller.enterprise_number, name="Bouw NV", active_from="2020-01-01")
    declaration = make_declaration(builder=caller.enterprise_number)
    return caller, niss, declaration


def register_and_validate(caller, niss, declaration, employer=None):
    item = presence(caller=caller, niss=niss, workplace_id=declaration.number, enterprise_number=employer)
    [result] = registration_submit_batch(items=[item], caller=caller, channel="WS")
    registration_validate_batch(registration_ids=[result.registration.pk])
    return Registration.objects.get(pk=result.registration.pk)


def statuses(registration):
    return [
        (event.event_type, event.data["status"], event.data["remarks"])
        for event in history_for_registration(registration_id=registration.pk)
        if "remarks" in event.data
    ]


def test_a_late_dimona_import_turns_a_failed_registration_valid(world, tmp_path, django_capture_on_commit_callbacks):
    caller, niss, declaration = world
    registration = register_and_validate(caller, niss, declaration)
    assert registration.status == Status.FAILED
    assert registration.remarks == [1]  # RELATED DIMONA NOT OK

    path = tmp_path / "dimona.json"
    dimona = {
        "employer": caller.enterprise_number,
        "niss": niss,
        "from": "2026-01-01",
        "workerType": "employee",
    }
    path.write_text(json.dumps({"dimonas": [dimona]}))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_reference", str(path), stdout=io.StringIO())

    registration.refresh_from_db()
    assert registration.status == Status.VALIDATED
    assert statuses(registration) == [
        ("registration.validated", "FAILED", [1]),
        ("registration.revalidated", "VALIDATED", []),
    ]


def test_a_dimona_added_in_the_admin_revalidates_too(world, admin_client, django_capture_on_commit_callbacks):
    caller, niss, declaration = world
    registration = register_and_validate(caller, niss, declaration)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            "/admin/registrations/dimonaperiod/add/",
            {
                "employer": caller.enterprise_number,
                "niss": niss,
                "start": "2026-01-01",
                "worker_type": "employee",
            },
        )
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == Status.VALIDATED


def test_a_revalidation_that_changes_nothing_writes_nothing(world):
    caller, niss, declaration = world
    registration = register_and_validate(caller, niss, declaration)
    before = len(history_for_registration(registration_id=registration.pk))
    assert registration_revalidate(registration_ids=[registration.pk]) == 0
    assert len(history_for_registration(registration_id=registration.pk)) == before


def test_a_change_of_remark_set_alone_is_a_new_validation(world):
    caller, niss, declaration = world
    registration = register_and_validate(caller, niss, declaration)
    Person.objects.filter(pk=niss).delete()  # now also NISS IS NOT KNOW IN THE NATIONAL REGISTER
    assert registration_revalidate(registration_ids=[registration.pk]) == 1
    assert statuses(Registration.objects.get(pk=registration.pk))[-1] == (
        "registration.revalidated",
        "FAILED",
        [1, 15],
    )


def test_the_periodic_sweep_revalidates_recent_failures_only(world, settings):
    caller, niss, declaration = world
    recent = register_and_validate(caller, niss, declaration)
    with time_machine.travel(timezone.now() - timedelta(days=36)):  # registered 36 days ago
        old = register_and_validate(caller, make_niss(), declaration)
    DimonaPeriod.objects.create(
        employer=caller.enterprise_number, niss=niss, start="2020-01-01", worker_type="employee"
    )
    DimonaPeriod.objects.create(
        employer=caller.enterprise_number, niss=old.niss, start="2020-01-01", worker_type="employee"
    )
    Person.objects.create(niss=old.niss, given_name="B", family_name="C")

    assert revalidate_recent_failures() == 1  # eager: queued and run in-process
    assert Registration.objects.get(pk=recent.pk).status == Status.VALIDATED
    assert Registration.objects.get(pk=old.pk).status == Status.FAILED


def test_cancelling_the_earlier_duplicate_clears_remark_14_of_the_later_one(world, django_capture_on_commit_callbacks):
    from registrations.models import DimonaPeriod as Dimona
    from registrations.services.presences import CancelInput, registration_cancel_batch

    caller, niss, declaration = world
    Dimona.objects.create(employer=caller.enterprise_number, niss=niss, start="2020-01-01", worker_type="employee")
    first = register_and_validate(caller, niss, declaration)
    other_sender = caller_for(make_client())
    second = register_and_validate(other_sender, niss, declaration, employer=caller.enterprise_number)
    assert (first.remarks, second.remarks) == ([], [14])

    with django_capture_on_commit_callbacks(execute=True):
        registration_cancel_batch(items=[CancelInput(first.pk, "PLANNING")], caller=caller, channel="WS")
    second.refresh_from_db()
    assert (second.status, second.remarks) == (Status.VALIDATED, [])
