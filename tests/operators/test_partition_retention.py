"""PostgreSQL: the retention purge drops whole months (docs/adr/0018, docs/adr/0010), after
moving what a legal hold keeps back into the tables, and pg_partman's maintenance keeps the
months ahead, with an alarm when they run short.

In the PostgreSQL pass only (`postgres`): the embedded SQLite default is not partitioned and
purges row by row (tests/operators/test_retention.py).
"""

import logging
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from config.partitioning import MONTHS_AHEAD_ALARM
from feed.models import FeedEvent
from history.models import HistoryEvent, PurgeRecord
from history.selectors import history_for_registration, history_verify
from registrations.domain.authorisation import Caller
from registrations.models import Registration
from registrations.selectors.partitions import partition_health
from registrations.services.partitions import partitions_maintain
from registrations.services.retention import registrations_purge_expired, registrations_set_legal_hold
from registrations.tasks import maintain_partitions
from tests.factories import make_declaration, make_enterprise_number
from tests.operators.conftest import logged_in, make_registration

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

NOW = "2026-11-26 10:00 +01:00"
OLD_MONTH = date(2019, 10, 1)  # wholly before the cutoff of 2026-11-26 (2019-11-26)
TABLES = ("registrations_registration", "history_historyevent")


def exists(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return bool(cursor.fetchone()[0])


def old_partitions() -> list[str]:
    return [f"{table}_p{OLD_MONTH:%Y_%m}" for table in TABLES]


@pytest.fixture
def old_month():
    """October 2019 as a partition of both tables, as pg_partman made it seven years ago."""
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(
                "SELECT partman.create_partition_time(%s, ARRAY[%s::timestamptz])", [f"public.{table}", OLD_MONTH]
            )
    assert all(exists(name) for name in old_partitions())
    return OLD_MONTH


@pytest.fixture
def world(old_month):
    operator = Caller.for_operator("ada")
    with time_machine.travel(NOW, tick=False):
        held_workplace = make_declaration(builder=make_enterprise_number(), legal_hold=True)
        world = {
            "expired": make_registration(registration_date=date(2019, 10, 5)),
            "expired_too": make_registration(registration_date=date(2019, 10, 31)),
            "held": make_registration(registration_date=date(2019, 10, 6)),
            "held_workplace": make_registration(
                registration_date=date(2019, 10, 7), workplace_id=held_workplace.number
            ),
            # The cutoff's own month is partly kept: it leaves row by row.
            "expired_in_part": make_registration(registration_date=date(2019, 11, 25)),
            "kept": make_registration(registration_date=date(2019, 11, 26)),
        }
        registrations_set_legal_hold(registration_ids=[world["held"].pk], hold=True, caller=operator)
    FeedEvent.objects.create(
        position=1,
        registration=world["expired"],
        event_type="registration.created",
        occurred_at=timezone.now(),
        history_event_id=HistoryEvent.objects.filter(registration_id=world["expired"].pk).get().pk,
        published_at=timezone.now(),
    )
    return world


def test_the_purge_drops_a_whole_month_and_keeps_the_held_rows_searchable(world):
    held, held_workplace = world["held"], world["held_workplace"]
    with time_machine.travel(NOW, tick=False):
        report = registrations_purge_expired()

    assert not any(exists(name) for name in old_partitions())
    left = set(Registration.objects.values_list("id", flat=True))
    assert left == {held.pk, held_workplace.pk, world["kept"].pk}
    # The held rows are where operators search: the tables themselves (their DEFAULT partition).
    assert Registration.objects.filter(niss=held.niss, registration_date=held.registration_date).get().legal_hold
    assert Registration.objects.get(pk=held_workplace.pk).workplace_id == held_workplace.workplace_id
    # Their history came along whole, hashes and all.
    assert [event.event_type for event in history_for_registration(registration_id=held.pk)] == [
        "registration.created",
        "registration.legal_hold",
    ]
    assert history_verify(registration_id=held.pk)
    assert history_verify(registration_id=held_workplace.pk)
    gone = [world["expired"].pk, world["expired_too"].pk, world["expired_in_part"].pk]
    assert not HistoryEvent.objects.filter(registration_id__in=gone).exists()
    assert not FeedEvent.objects.filter(registration_id=world["expired"].pk).exists()
    # One record for the run: the dropped month's rows and the row-by-row ones together.
    [record] = PurgeRecord.objects.all()
    assert (record.registrations_deleted, record.events_deleted, record.held) == (3, 3, 2)
    assert (report.registrations, report.events, report.held) == (3, 3, 2)


def test_a_second_purge_finds_nothing_more_and_keeps_the_held_rows(world):
    with time_machine.travel(NOW, tick=False):
        registrations_purge_expired()
        again = registrations_purge_expired()
    assert (again.registrations, again.events, again.held) == (0, 0, 2)
    assert PurgeRecord.objects.count() == 1
    assert Registration.objects.filter(pk=world["held"].pk).exists()


def test_the_maintenance_keeps_months_ahead():
    assert maintain_partitions.delay().get() >= MONTHS_AHEAD_ALARM
    health = partition_health()
    assert health is not None
    assert health.ok


def test_a_row_of_a_month_without_partition_is_stored_then_given_its_month(caplog):
    today = timezone.localdate()
    far = today.replace(year=today.year + 3)
    registration = make_registration(registration_date=far)  # beyond the months made ahead
    before = partition_health()
    assert before is not None
    assert before.default_rows == 2  # the registration and its event, in the DEFAULT partitions
    assert not before.ok  # what the dashboard and the metrics show
    with caplog.at_level(logging.WARNING, logger="registrations.services.partitions"):
        after = partitions_maintain()
    assert after is not None
    assert after.default_rows == 0
    assert "moved from its DEFAULT partition" in caplog.text
    assert exists(f"registrations_registration_p{far:%Y_%m}")
    assert Registration.objects.get(pk=registration.pk).registration_date == far
    assert history_verify(registration_id=registration.pk)


def test_the_alarm_rings_when_the_months_ahead_run_short(caplog):
    today = timezone.localdate()
    # A year on, with pg_partman's maintenance not keeping up (it works from the database's
    # clock, which the test does not move): the months made ahead are all past.
    with (
        time_machine.travel(today.replace(year=today.year + 1, day=1), tick=False),
        caplog.at_level(logging.WARNING, logger="registrations.services.partitions"),
    ):
        health = partitions_maintain()
    assert health is not None
    assert health.months_short
    assert not health.ok
    assert "months ahead are ready (alarm below 2)" in caplog.text


def test_the_dashboard_shows_the_months_ahead_and_the_default_rows(viewer):
    today = timezone.localdate()
    make_registration(registration_date=today.replace(year=today.year + 3))  # into the DEFAULT partitions
    health = partition_health()
    assert health is not None
    page = logged_in(viewer).get("/admin/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<strong id="partition-months-ahead">{health.months_ahead}</strong>' in page
    assert '<strong id="partition-default-rows" class="alarm">2</strong>' in page
