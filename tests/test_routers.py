"""The read-replica router (config/routers.py): searches and single reads go to `replica`,
everything else to `default`. In tests `replica` is the primary under another name (TEST
MIRROR), so the queries' destination is checked through each connection's query log."""

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.routers import REPLICA, ReplicaRouter, replica_reads, replica_reads_allowed
from registrations.models import ClientRole, Registration
from registrations.selectors.registrations import SearchCriteria, registration_get, registration_search
from registrations.services.presences import registration_submit_batch
from tests.factories import caller_for, make_client, presence

router = ReplicaRouter()


def test_reads_go_to_the_primary_unless_a_selector_allows_the_replica():
    assert router.db_for_read(Registration) == "default"
    with replica_reads_allowed():
        assert router.db_for_read(Registration) == REPLICA
    assert router.db_for_read(Registration) == "default"


def test_writes_and_migrations_always_go_to_the_primary():
    with replica_reads_allowed():
        assert router.db_for_write(Registration) == "default"
    assert router.allow_migrate("default", "registrations")
    assert not router.allow_migrate(REPLICA, "registrations")
    assert router.allow_relation(object(), object())


def test_the_mark_ends_when_the_selector_returns_even_on_error() -> None:
    @replica_reads
    def failing() -> None:
        assert router.db_for_read(Registration) == REPLICA
        raise ValueError

    with pytest.raises(ValueError):  # noqa: PT011  # the selector's own error passes through
        failing()
    assert router.db_for_read(Registration) == "default"


@pytest.mark.django_db
def test_a_read_inside_a_transaction_on_the_primary_stays_on_the_primary():
    with transaction.atomic(), replica_reads_allowed():
        assert router.db_for_read(Registration) == "default"


@pytest.fixture
def replica_router(settings):
    settings.DATABASE_ROUTERS = ["config.routers.ReplicaRouter"]


def _registration_selects(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if 'FROM "registrations_registration"' in q["sql"]]


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA])
def test_search_and_get_read_the_replica_and_registering_writes_the_primary(replica_router):
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    today = timezone.localdate()
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        [result] = registration_submit_batch(items=[presence(caller=caller)], caller=caller, channel="WS")
    assert on_replica.captured_queries == []  # admission's dedup query read the primary
    stored = result.registration
    assert stored is not None

    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
    ):
        page = registration_search(caller=caller, criteria=SearchCriteria(periods=[(today, today)]))
        found = registration_get(caller=caller, registration_id=stored.pk)
    assert [r.pk for r in page.registrations] == [stored.pk]
    assert found is not None
    assert found.pk == stored.pk
    assert len(_registration_selects(on_replica)) == 2
    assert _registration_selects(on_primary) == []
