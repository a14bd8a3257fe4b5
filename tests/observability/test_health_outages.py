"""/health/ready against real outages: a gunicorn of the service (`make serve`'s configuration)
whose PostgreSQL sits behind a proxy this test stops and starts again (chaos/proxy.py), and
whose broker is a redis-server of this test's own. The machine's PostgreSQL and Redis, shared
with others, are never stopped."""

import json
import sys

import pytest
from django.db import connection

from chaos.proxy import FaultyProxy
from tests.conftest import free_port, worker_environment
from tests.processes import http_get, listening, running, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

LEAKS = ("127.0.0.1", "localhost", "redis://", "postgres://")


def start_gunicorn(port: int, env: dict[str, str], output):
    command = [
        *(sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "python:config.gunicorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
    ]
    return running(command, {**env, "PYTHONUNBUFFERED": "1"}, output)


def ready(port: int) -> tuple[int, dict[str, str]]:
    status, _, body = http_get(port, "/health/ready")
    text = body.decode()
    for leak in LEAKS:
        assert leak not in text
    return status, json.loads(text)


def database_behind(proxy: FaultyProxy) -> str:
    settings = connection.settings_dict
    user = settings.get("USER") or ""
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{user}{password}@127.0.0.1:{proxy.port}/{settings['NAME']}"


@pytest.mark.postgres
def test_ready_fails_while_postgresql_is_unreachable_and_recovers_when_it_returns(tmp_path, own_redis):
    target = int(connection.settings_dict.get("PORT") or 5432)
    proxy = FaultyProxy(target).start()
    port, output = free_port(), tmp_path / "gunicorn.log"
    env = {**worker_environment(own_redis.url), "DATABASE_URL": database_behind(proxy)}
    try:
        with start_gunicorn(port, env, output):
            wait_for(lambda: listening(port) and ready(port)[0] == 200, "ready", output)

            proxy.stop()  # PostgreSQL is gone, as far as the service can tell
            status, checks = ready(port)
            assert status == 503
            assert checks["Database(alias='default')"].startswith("Unavailable:")
            assert checks["Migrations()"] == "Unavailable: The database does not answer."
            assert checks["Broker()"] == "OK"
            assert http_get(port, "/health/live")[0] == 200  # the process itself is fine

            proxy = FaultyProxy(target, port=proxy.port).start()  # back at the same address
            wait_for(lambda: ready(port) == (200, dict.fromkeys(checks, "OK")), "ready again", output)
    finally:
        proxy.stop()


def test_ready_fails_while_the_broker_is_unreachable_and_recovers_when_it_returns(tmp_path, own_redis):
    port, output = free_port(), tmp_path / "gunicorn.log"
    with start_gunicorn(port, worker_environment(own_redis.url), output):
        wait_for(lambda: listening(port) and ready(port)[0] == 200, "ready", output)

        own_redis.stop()
        status, checks = ready(port)
        assert status == 503
        assert checks["Broker()"] == "Unavailable: Unable to connect to Redis: Connection Error"
        assert checks["Database(alias='default')"] == "OK"
        assert http_get(port, "/health/live")[0] == 200

        own_redis.start()
        wait_for(lambda: ready(port) == (200, dict.fromkeys(checks, "OK")), "ready again", output)
