"""PostgreSQL: registrations and history are partitioned by month (docs/adr/0018), and what the
service reads touches only the months it asks for, shown by the planner's own EXPLAIN of the
queries the selectors send.

In the PostgreSQL pass only (`postgres`): the embedded SQLite default is not partitioned.
"""

import re
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.partitioning import MONTH_SHIFT, month_of_id
from history.selectors import history_for_registration
from registrations.domain.vocabulary import Channel
from registrations.models import ClientRole, Registration
from registrations.selectors.inspection import inspection_snapshot
from registrations.selectors.registrations import SearchCriteria, registration_get, registration_search
from registrations.services.presences import registration_submit_batch
from registrations.validation.run import registration_validate_waiting
from tests.factories import caller_for, make_client, presence

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

PARTITION = re.compile(r"\b((?:registrations_registration|history_historyevent)_(?:p\d{4}_\d{2}|default))\b")


def partition_of(table: str, day: date) -> str:
    return f"{table}_p{day:%Y_%m}"


def partitions_read(read: Callable[[], object], table: str) -> set[str]:
    """The partitions of `table` left in the plans of the queries `read` sends to it."""
    with CaptureQueriesContext(connection) as queries:
        read()
    read_here: set[str] = set()
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            sql = query["sql"]
            if f'"{table}"' not in sql or not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            read_here |= {name for name in PARTITION.findall(plan) if name.startswith(table)}
    assert read_here, f"no query read {table}"
    return read_here


@pytest.fixture
def employer():
    return caller_for(make_client(ClientRole.ENTERPRISE))


@pytest.fixture
def inspection():
    return caller_for(make_client(ClientRole.INSPECTION))


def register(caller, day: date, **fields) -> Registration:
    [result] = registration_submit_batch(
        items=[presence(caller=caller, registration_date=day, **fields)], caller=caller, channel=Channel.WS
    )
    assert result.registration is not None
    return result.registration


def test_the_tables_are_partitioned_by_month_with_a_default_partition():
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid ORDER BY 1")
        assert [row[0] for row in cursor.fetchall()] == ["history_historyevent", "registrations_registration"]
        cursor.execute(
            "SELECT to_regclass('registrations_registration_default'), to_regclass('history_historyevent_default')"
        )
        assert all(cursor.fetchone())


def test_the_database_gives_an_id_that_names_its_month_and_fits_xs_long(employer):
    day = timezone.localdate()
    registration = register(employer, day)
    first, after = month_of_id(registration.pk)
    assert first <= day < after
    assert registration.pk >> MONTH_SHIFT == (day.year - 2000) * 12 + day.month
    assert registration.pk < 2**53  # xs:long, and exact as a JSON number too
    assert Registration.objects.get(pk=registration.pk).registration_date == day


def test_a_get_by_id_reads_one_partition(employer):
    today = timezone.localdate()
    registration = register(employer, today)
    table = Registration._meta.db_table
    read = partitions_read(lambda: registration_get(caller=employer, registration_id=registration.pk), table)
    assert read == {partition_of(table, today)}


def test_a_search_of_seven_days_reads_only_their_months(employer):
    today = timezone.localdate()
    register(employer, today)
    start = today - timedelta(days=6)
    criteria = SearchCriteria(periods=[(start, today)])
    table = Registration._meta.db_table
    read = partitions_read(lambda: registration_search(caller=employer, criteria=criteria), table)
    assert read == {partition_of(table, start), partition_of(table, today)}


def test_the_history_of_one_registration_reads_one_partition(employer):
    today = timezone.localdate()
    registration = register(employer, today)
    table = "history_historyevent"
    read = partitions_read(lambda: history_for_registration(registration_id=registration.pk), table)
    assert read == {partition_of(table, today)}


def test_an_inspection_reads_only_the_months_around_its_day(employer, inspection):
    today = timezone.localdate()
    registration = register(employer, today)
    table = Registration._meta.db_table
    read = partitions_read(
        lambda: inspection_snapshot(
            caller=inspection, workplace_id=registration.workplace_id, day=today, now=timezone.now()
        ),
        table,
    )
    around = {partition_of(table, today + timedelta(days=shift)) for shift in (-1, 0, 1)}
    assert read <= around


def test_the_validation_reads_only_the_months_of_its_registrations(employer):
    today = timezone.localdate()
    registration = register(employer, today)
    table = Registration._meta.db_table
    read = partitions_read(lambda: registration_validate_waiting(registration_ids=[registration.pk]), table)
    assert read == {partition_of(table, today)}
