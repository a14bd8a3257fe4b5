"""The set-wise write path: a batch's rows and their events written with one statement each,
whatever the batch's size, with the same constraints, chains and outbox as one by one."""

from dataclasses import fields
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from history.events import EventType
from history.models import HistoryEvent, OutboxEntry
from history.selectors import history_verify
from registrations.domain.rows import RegistrationRow
from registrations.models import ClientRole, Registration
from registrations.services.cleaning import CleaningInput, registration_submit_cleaning_batch
from registrations.services.inserts import REGISTRATION_COLUMNS
from registrations.services.presences import registration_submit_batch
from tests.factories import caller_for, make_client, make_enterprise_number, make_niss, make_workplace_id, presence

pytestmark = pytest.mark.django_db


@pytest.fixture
def employer():
    return caller_for(make_client(ClientRole.ENTERPRISE))


def _check_in(employer, niss: str | None = None) -> CleaningInput:
    return CleaningInput(
        event_type="IN",
        event_at=timezone.now() - timedelta(seconds=30),
        niss=niss or make_niss(),
        workplace_id=make_workplace_id(),
        enterprise_number=employer.enterprise_number,
        latitude=50.8465,
        longitude=4.3517,
    )


def _statements(submit) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        submit()
    return [query["sql"] for query in captured.captured_queries]


def test_a_200_presence_batch_runs_the_same_statements_as_a_1_presence_batch(employer):
    one = _statements(
        lambda: registration_submit_batch(items=[presence(caller=employer)], caller=employer, channel="WS")
    )
    many = _statements(
        lambda: registration_submit_batch(
            items=[presence(caller=employer) for _ in range(200)], caller=employer, channel="WS"
        )
    )

    assert len(many) == len(one)
    assert Registration.objects.count() == 201


def test_a_200_check_in_batch_runs_the_same_statements_as_a_1_check_in_batch(employer):
    one = _statements(lambda: registration_submit_cleaning_batch(items=[_check_in(employer)], caller=employer))
    many = _statements(
        lambda: registration_submit_cleaning_batch(items=[_check_in(employer) for _ in range(200)], caller=employer)
    )

    assert len(many) == len(one)
    assert Registration.objects.count() == 201


def test_the_rows_and_their_created_events_are_one_insert_each(employer):
    statements = _statements(
        lambda: registration_submit_batch(
            items=[presence(caller=employer) for _ in range(200)], caller=employer, channel="WS"
        )
    )

    inserts = [sql for sql in statements if sql.lstrip().upper().startswith("INSERT")]
    tables = [sql.split()[2].strip('"') for sql in inserts]
    assert tables == [Registration._meta.db_table, HistoryEvent._meta.db_table, OutboxEntry._meta.db_table]


def test_each_new_registration_has_one_verified_created_event_with_its_outbox_entry(employer):
    results = registration_submit_cleaning_batch(items=[_check_in(employer) for _ in range(50)], caller=employer)

    ids = [result.registration.pk for result in results]
    events = HistoryEvent.objects.filter(registration_id__in=ids)
    assert sorted(events.values_list("registration_id", flat=True)) == sorted(ids)
    assert set(events.values_list("event_type", flat=True)) == {EventType.CREATED}
    assert all(history_verify(registration_id=registration_id) for registration_id in ids)
    waiting = set(OutboxEntry.objects.values_list("event_id", flat=True))
    assert set(events.values_list("id", flat=True)) <= waiting


def test_the_answer_carries_what_was_stored(employer):
    item = _check_in(employer)
    [result] = registration_submit_cleaning_batch(items=[item], caller=employer)

    stored = Registration.objects.get(pk=result.stored.pk)
    for column in REGISTRATION_COLUMNS:
        assert getattr(result.stored, column.name) == getattr(stored, column.name), column.name
    assert result.registration == stored


def test_a_resend_and_a_duplicate_inside_the_batch_answer_the_stored_rows(employer):
    first = presence(caller=employer)
    [stored] = registration_submit_batch(items=[first], caller=employer, channel="WS")
    second = presence(caller=employer)

    results = registration_submit_batch(items=[second, first, second], caller=employer, channel="WS")

    assert [result.replayed for result in results] == [False, True, True]
    assert results[1].stored.pk == stored.stored.pk
    assert results[2].stored.pk == results[0].stored.pk
    assert Registration.objects.count() == 2
    assert HistoryEvent.objects.count() == 2


def test_a_check_in_resent_in_the_same_minute_answers_the_stored_row(employer):
    item = _check_in(employer)
    [stored] = registration_submit_cleaning_batch(items=[item], caller=employer)

    [again, duplicate] = registration_submit_cleaning_batch(items=[item, item], caller=employer)

    assert (again.replayed, duplicate.replayed) == (True, True)
    assert again.stored.pk == duplicate.stored.pk == stored.stored.pk
    assert Registration.objects.count() == 1


def test_a_new_check_in_twice_in_one_batch_is_stored_once(employer):
    item = _check_in(employer)

    [new, duplicate] = registration_submit_cleaning_batch(items=[item, item], caller=employer)

    assert (new.replayed, duplicate.replayed) == (False, True)
    assert duplicate.stored.pk == new.stored.pk
    assert Registration.objects.count() == 1


def test_every_column_of_a_registration_is_written_by_the_set_wise_insert():
    """A column added to Registration must be added to REGISTRATION_COLUMNS and RegistrationRow."""
    written = {column.name for column in REGISTRATION_COLUMNS}
    model = {field.attname for field in Registration._meta.concrete_fields} - {"id"}
    assert written == model
    assert {field.name for field in fields(RegistrationRow)} == model | {"id"}


def test_an_employer_on_another_enterprise_gets_its_own_rows(employer):
    other = caller_for(make_client(ClientRole.ENTERPRISE, enterprise_number=make_enterprise_number()))
    item = presence(caller=employer)

    [mine] = registration_submit_batch(items=[item], caller=employer, channel="WS")
    [theirs] = registration_submit_batch(items=[item], caller=other, channel="WS")

    assert not theirs.replayed
    assert theirs.stored.pk != mine.stored.pk
