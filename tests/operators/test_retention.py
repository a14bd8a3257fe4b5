"""Retention: registrations and their history older than 7 years leave, except on legal hold;
the purge is the only way history rows leave, and every purge is logged (append-only)."""

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from history.models import HistoryEvent, HistoryIsAppendOnlyError, PurgeRecord
from registrations.domain.retention import retention_cutoff
from registrations.models import Registration
from registrations.services.retention import registrations_purge_expired
from registrations.tasks import purge_expired_registrations
from tests.factories import make_declaration, make_enterprise_number
from tests.operators.conftest import make_registration

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date(2026, 11, 26)
EXPIRED = date(2019, 11, 25)  # 7 years and a day ago
KEPT = date(2019, 11, 26)  # exactly 7 years ago: kept


@pytest.fixture
def world():
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        held_workplace = make_declaration(builder=make_enterprise_number(), legal_hold=True)
        yield {
            "expired": make_registration(registration_date=EXPIRED),
            "kept": make_registration(registration_date=KEPT),
            "held": make_registration(registration_date=EXPIRED, legal_hold=True),
            "held_workplace": make_registration(registration_date=EXPIRED, workplace_id=held_workplace.number),
        }


def test_the_cutoff_is_seven_years_in_brussels_days():
    assert retention_cutoff(TODAY) == KEPT
    assert retention_cutoff(date(2028, 2, 29)) == date(2021, 2, 28)


def test_a_dry_run_reports_and_deletes_nothing(world):
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        out = io.StringIO()
        call_command("purge_expired", "--dry-run", stdout=out)
    assert out.getvalue().strip() == (
        "would purge 1 registration(s) and 1 history event(s) dated before 2019-11-26; kept under legal hold: 2"
    )
    assert Registration.objects.count() == 4
    assert not PurgeRecord.objects.exists()


def test_expired_registrations_leave_with_their_history_except_under_legal_hold(world):
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        out = io.StringIO()
        call_command("purge_expired", "--actor", "operator:ada", stdout=out)
    assert "purged 1 registration(s) and 1 history event(s)" in out.getvalue()
    left = set(Registration.objects.values_list("id", flat=True))
    assert left == {world["kept"].pk, world["held"].pk, world["held_workplace"].pk}
    assert not HistoryEvent.objects.filter(registration_id=world["expired"].pk).exists()
    assert HistoryEvent.objects.filter(registration_id=world["held"].pk).exists()
    [record] = PurgeRecord.objects.all()
    assert (record.actor, record.cutoff, record.registrations_deleted, record.events_deleted, record.held) == (
        "operator:ada",
        KEPT,
        1,
        1,
        2,
    )


def test_the_periodic_task_purges_as_the_system(world):
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        assert purge_expired_registrations.delay().get() == 1
        assert registrations_purge_expired().registrations == 0  # nothing left to do
    assert PurgeRecord.objects.get().actor == "system"  # an empty run is not logged


def test_the_purge_log_cannot_be_changed_or_deleted(world):
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        registrations_purge_expired()
    record = PurgeRecord.objects.get()
    with pytest.raises(HistoryIsAppendOnlyError):
        record.save()
    with pytest.raises(HistoryIsAppendOnlyError):
        PurgeRecord.objects.all().delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE history_purgerecord SET registrations_deleted = 0")


@pytest.mark.postgres
def test_on_postgresql_history_rows_leave_only_through_the_purge(world):
    event = HistoryEvent.objects.filter(registration_id=world["expired"].pk).first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM history_historyevent WHERE id = %s", [event.pk])
    # The purge's switch is transaction-local: it does not outlive the purge's transaction.
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        registrations_purge_expired()
    other = HistoryEvent.objects.filter(registration_id=world["kept"].pk).first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM history_historyevent WHERE id = %s", [other.pk])
    assert HistoryEvent.objects.filter(pk=other.pk).exists()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM history_purgerecord")
    assert PurgeRecord.objects.count() == 1


def test_recent_registrations_are_untouched(world):
    recent = make_registration(registration_date=TODAY - timedelta(days=1))
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        registrations_purge_expired()
    assert Registration.objects.filter(pk=recent.pk).exists()


def test_the_embedded_default_purges_from_run_sweeps(world):
    out = io.StringIO()
    with time_machine.travel("2026-11-26 10:00 +01:00", tick=False):
        call_command("run_sweeps", "--once", stdout=out)
    assert "retention: 1 expired registrations purged" in out.getvalue()
    assert not Registration.objects.filter(pk=world["expired"].pk).exists()
