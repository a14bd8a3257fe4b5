"""A request log whose every INSERT the database refuses, as a locked table would."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

FAILING_INSERT = {
    "sqlite": [
        "CREATE TRIGGER test_requestlog_locked BEFORE INSERT ON requestlog_requestlog "
        "BEGIN SELECT RAISE(ABORT, 'database table is locked'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION test_requestlog_locked() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION 'database table is locked'; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER test_requestlog_locked BEFORE INSERT ON requestlog_requestlog "
        "FOR EACH ROW EXECUTE FUNCTION test_requestlog_locked()",
    ],
}
REMOVE_FAILING_INSERT = {
    "sqlite": ["DROP TRIGGER test_requestlog_locked"],
    "postgresql": [
        "DROP TRIGGER test_requestlog_locked ON requestlog_requestlog",
        "DROP FUNCTION test_requestlog_locked()",
    ],
}


@contextmanager
def log_writes_failing() -> Iterator[None]:
    """Every INSERT into the request log fails in the database, as with a locked table. Needs a
    transactional test: the registrations must really commit."""
    with connection.cursor() as cursor:
        for statement in FAILING_INSERT[connection.vendor]:
            cursor.execute(statement)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for statement in REMOVE_FAILING_INSERT[connection.vendor]:
                cursor.execute(statement)
