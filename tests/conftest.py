"""Shared fixtures and the service guard.

Tests marked `postgres` or `redis` need those services, and the SOAP compatibility tests need
the official contract files (tests/soap_gateway/conftest.py). They are skipped where these are
missing (a newcomer's laptop, a fresh clone), and the run ends with each reason and how many
tests it skipped. With REQUIRE_SERVICES=1 (CI) any skipped test fails the run instead: a green
CI never hides an untested path.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

import pytest
from django.db import connection
from kombu import pools as kombu_pools

from config.celery import app as celery_app

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"


def _redis_url() -> str:
    return os.environ.get("CELERY_BROKER_URL") or os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


def _reachable(url: str) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each pass runs the tests of its database: `postgres` tests in the DATABASE_URL pass,
    `embedded` tests in the default pass (deselected, not skipped, in the other one)."""
    on_postgres = connection.vendor == "postgresql"
    other_pass = "embedded" if on_postgres else "postgres"
    deselected = [item for item in items if other_pass in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if other_pass not in item.keywords]
    redis_ok = _reachable(_redis_url()) and shutil.which("redis-server") is not None
    for item in items:
        if "redis" in item.keywords and not redis_ok:
            item.add_marker(pytest.mark.skip(reason="needs a Redis server (redis-server on PATH)"))


def skip_reasons(reports: list[pytest.TestReport]) -> Counter[str]:
    """How many tests each skip reason accounts for."""
    reasons: Counter[str] = Counter()
    for report in reports:
        # A skip's longrepr is (path, line, "Skipped: <reason>").
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reasons[reason.removeprefix("Skipped: ")] += 1
    return reasons


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    """Every skip reason with its count, even with -q: a skipped test is an untested path."""
    skipped = terminalreporter.stats.get("skipped", [])
    if REQUIRE_SERVICES and skipped:
        terminalreporter.write_line(
            f"REQUIRE_SERVICES=1 but {len(skipped)} test(s) were skipped: failing the run", red=True
        )
    for reason, count in skip_reasons(skipped).most_common():
        terminalreporter.write_line(f"skipped {count}: {reason}", yellow=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if REQUIRE_SERVICES and reporter and reporter.stats.get("skipped"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True)
def _celery_in_process() -> Iterator[None]:
    """Tasks run in-process unless a test drives a real worker (see `real_broker`)."""
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True  # a failing task fails the test that ran it
    yield
    celery_app.conf.task_always_eager = True


@pytest.fixture
def redis_url() -> str:
    return _redis_url()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """A throw-away redis-server of the test's own, so a test may stop and restart it
    without touching the machine's Redis."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _reachable(self.url):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def use_broker(url: str) -> None:
    """Point the Celery app at a real broker for this test (tasks are published, not run)."""
    celery_app.conf.task_always_eager = False
    celery_app.conf["broker_url"] = url
    # Celery reads CELERY_BROKER_URL from the environment before its own configuration.
    os.environ["CELERY_BROKER_URL"] = url
    # Rebuild the connection and producer pools for the new URL (kombu caches them globally).
    kombu_pools.reset()
    celery_app._pool = None  # type: ignore[attr-defined]  # no public reset exists
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def real_broker() -> Iterator[None]:
    original_env = os.environ.get("CELERY_BROKER_URL")
    original = celery_app.conf.broker_url
    yield
    use_broker(original)
    if original_env is None:
        os.environ.pop("CELERY_BROKER_URL", None)
    else:
        os.environ["CELERY_BROKER_URL"] = original_env
    celery_app.conf.task_always_eager = True


def worker_environment(broker_url: str) -> dict[str, str]:
    """The environment of a worker process that shares this test's database."""
    environment = dict(os.environ, CELERY_BROKER_URL=broker_url, DJANGO_SECRET_KEY="test-worker")
    settings_dict = connection.settings_dict
    if connection.vendor == "postgresql":
        user = settings_dict.get("USER") or ""
        password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        environment["DATABASE_URL"] = f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"
    else:
        environment.pop("DATABASE_URL", None)
        environment["SQLITE_PATH"] = str(settings_dict["NAME"])
    return environment


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[object]:
    """Start real `celery -A config worker` processes against a broker; stopped at the end.
    Their output goes to worker-N.log in the test's tmp_path, shown when the test fails."""
    started: list[tuple[subprocess.Popen[bytes], IO[bytes], Path]] = []

    def start(broker_url: str, **extra_env: str) -> subprocess.Popen[bytes]:
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            env={**worker_environment(broker_url), **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        started.append((process, log, log_path))
        return process

    yield start
    for process, log, log_path in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        print(f"--- {log_path.name}\n{log_path.read_text(errors='replace')[-4000:]}")
