"""Connection pooling (config/database.py, docs/deploy.md "Connections"): many requests and
threads share a bounded number of PostgreSQL connections, and nothing the service does needs a
connection's session to outlive one request."""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection, connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.postgresql.base import DatabaseWrapper

from registrations.models import Client
from tests.conftest import worker_environment
from tests.processes import http_get, listening, running, wait_for

SHOW_DATABASE = (
    "import django, json; django.setup(); from django.conf import settings;"
    "db = settings.DATABASES['default'];"
    "print(json.dumps([db['OPTIONS'].get('pool'), db['CONN_MAX_AGE'], db['DISABLE_SERVER_SIDE_CURSORS']]))"
)
PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/presence_pool_settings",
    "DJANGO_SECRET_KEY": "pool-test-secret-" + "s" * 40,
    "NISS_HASH_KEY": "pool-test-niss-hash-key-" + "n" * 20,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "REST_CACHE_URL": "redis://127.0.0.1:1/11",
}


def database_settings_under(variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "-c", SHOW_DATABASE],
        env={**environment, **PRODUCTION, **variables},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_pools_its_connections_by_default():
    completed = database_settings_under({})
    assert completed.returncode == 0, completed.stderr[-2000:]
    pool, conn_max_age, server_side_cursors_off = json.loads(completed.stdout.splitlines()[-1])
    assert pool == {"min_size": 1, "max_size": 4, "timeout": 10}
    assert conn_max_age == 0  # Django refuses persistent connections beside a pool
    assert server_side_cursors_off is False


def test_without_a_pool_connections_persist_and_pgbouncer_can_turn_server_side_cursors_off():
    completed = database_settings_under({"DATABASE_POOL_MAX_SIZE": "0", "DATABASE_SERVER_SIDE_CURSORS": "0"})
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert json.loads(completed.stdout.splitlines()[-1]) == [None, 60, True]


def test_a_bad_pool_size_stops_the_service_with_a_clear_message():
    completed = database_settings_under({"DATABASE_POOL_MAX_SIZE": "many"})
    assert completed.returncode != 0
    assert "DATABASE_POOL_MAX_SIZE" in completed.stderr


POOL_MAX = 3


@pytest.fixture
def pooled_wrapper() -> Iterator[Callable[[], BaseDatabaseWrapper]]:
    """Makes Django connections to the test database that all draw on one pool of at most
    POOL_MAX server connections (one connection object per thread, as Django keeps them)."""
    settings_dict = dict(connection.settings_dict)
    settings_dict["OPTIONS"] = {
        **settings_dict["OPTIONS"],
        "pool": {"min_size": 1, "max_size": POOL_MAX, "timeout": 60},
        "application_name": "presence-pool-test",
    }
    settings_dict["CONN_MAX_AGE"] = 0
    made: list[BaseDatabaseWrapper] = []

    def make() -> BaseDatabaseWrapper:
        made.append(DatabaseWrapper(settings_dict, alias="pooled-test"))
        return made[-1]

    yield make
    if made:
        made[0].close_pool()  # type: ignore[attr-defined]  # django-stubs lack the 5.1 pool API
    gone("presence-pool-test")


def gone(application_name: str) -> None:
    """Wait until no backend of `application_name` remains (a closed or killed client's backend
    lingers a moment), so the test database can be dropped at the end of the run."""
    deadline = time.monotonic() + 30
    while server_connections(application_name, connection.settings_dict["NAME"]) and time.monotonic() < deadline:
        time.sleep(0.1)


def server_connections(application_name: str, database: str) -> int:
    """How many PostgreSQL backends serve `application_name` on `database` (a name of its
    own, so a backend another test left closing is not counted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND application_name = %s",
            [database, application_name],
        )
        return int(cursor.fetchone()[0])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_threads_share_a_bounded_number_of_server_connections(pooled_wrapper):
    backends: list[int] = []

    def unit_of_work(_: int) -> None:
        db = pooled_wrapper()
        with db.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid(), pg_sleep(0.02)")
            backends.append(cursor.fetchone()[0])
        db.close()  # what the end of a request does: the connection goes back to the pool

    observed: list[int] = []
    done = threading.Event()

    def watch() -> None:
        try:
            while not done.is_set():
                observed.append(server_connections("presence-pool-test", connection.settings_dict["NAME"]))
                time.sleep(0.01)
        finally:
            connection.close()  # this thread's own

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=12) as threads:
            list(threads.map(unit_of_work, range(60)))
    finally:
        done.set()
        watcher.join()
        connections.close_all()

    assert len(backends) == 60  # every unit of work ran
    assert len(set(backends)) <= POOL_MAX
    assert 1 <= max(observed) <= POOL_MAX


ITERATE = (
    "import django; django.setup(); from django.conf import settings; from registrations.models import Client;"
    "assert settings.DATABASES['default']['OPTIONS']['pool'];"
    "print(','.join(c.name for c in Client.objects.order_by('name').iterator(chunk_size=4)))"
)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_iterator_streams_on_a_pooled_connection():
    """`.iterator()` reads through a server-side cursor (a named cursor WITH HOLD outside a
    transaction): in a production process, on the built-in pool, the connection stays the
    thread's until the request gives it back, so the cursor lives as long as the loop."""
    for number in range(25):
        Client.objects.create(name=f"pool-{number:02d}", enterprise_number="0200065765", role="enterprise")
    environment = {**production_environment(), "DATABASE_POOL_MAX_SIZE": "1"}
    environment["DATABASE_URL"] += "?application_name=presence-iterator-test"
    completed = subprocess.run(
        [sys.executable, "-c", ITERATE], env=environment, capture_output=True, text=True, timeout=120
    )
    gone("presence-iterator-test")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.split()[-1].split(",") == [f"pool-{number:02d}" for number in range(25)]


def production_environment() -> dict[str, str]:
    """The production settings' environment on this test's database and Redis."""
    environment = {
        **worker_environment(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")),
        **{k: v for k, v in PRODUCTION.items() if k != "DATABASE_URL"},
        "DJANGO_SECURE_SSL_REDIRECT": "0",
    }
    environment["REST_CACHE_URL"] = environment["CELERY_BROKER_URL"]
    return environment


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_gunicorn_threads_share_a_bounded_number_of_connections_under_load(tmp_path: Path):
    """The production settings in real gunicorn workers (threads): 48 readiness probes, each
    reading on three connections at once, never hold more than workers x pool max."""
    workers, pool_max = 2, 2
    database = connection.settings_dict["NAME"]
    port = _free_port()
    environment = {**production_environment(), "DATABASE_POOL_MAX_SIZE": str(pool_max)}
    environment["DATABASE_URL"] += "?application_name=presence-gunicorn-test"
    command = [
        str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers), "--threads", "6", "--worker-class", "gthread",
    ]  # fmt: skip
    output = tmp_path / "gunicorn.log"
    with running(command, environment, output):
        wait_for(lambda: listening(port), "gunicorn listening", output)
        observed: list[int] = []
        with ThreadPoolExecutor(max_workers=12) as clients:
            answers = clients.map(lambda _: http_get(port, "/health/ready")[0], range(48))
            statuses = []
            for status in answers:
                statuses.append(status)
                observed.append(server_connections("presence-gunicorn-test", database))
    gone("presence-gunicorn-test")
    assert statuses == [200] * 48, output.read_text(errors="replace")[-3000:]
    assert 1 <= max(observed) <= workers * pool_max


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# A statement that changes the session: SET (but SET LOCAL and SET CONSTRAINTS end with their
# transaction), LISTEN, a session-level advisory lock, a set_config that is not transaction-local.
SESSION_STATE = re.compile(
    r"""["'](SET (?!LOCAL |CONSTRAINTS )|LISTEN )|PG_ADVISORY_LOCK\(|SET_CONFIG\((?![^)]*,\s*TRUE\))"""
)


def test_no_statement_keeps_session_state_beyond_its_transaction():
    """A pooled connection serves another request next, so nothing the service runs may leave
    state in the connection's session."""
    root = Path(__file__).resolve().parent.parent
    offenders = []
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in {"tests", ".venv", "bench", "chaos"} or "migrations" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if SESSION_STATE.search(line.upper()):
                offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert offenders == []


def test_the_session_state_check_catches_what_it_is_for():
    caught = ['"SET statement_timeout = 0"', "'LISTEN feed'", "pg_advisory_lock(1)", "set_config('a', 'b', false)"]
    allowed = ['"SET LOCAL lock_timeout = 1"', '"SET CONSTRAINTS ALL IMMEDIATE"', "set_config('a', 'on', true)",
               "pg_advisory_xact_lock(h)", 'f"UPDATE {table} SET status = 1"']  # fmt: skip
    assert [bool(SESSION_STATE.search(text.upper())) for text in caught + allowed] == [True] * 4 + [False] * 5
