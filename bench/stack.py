"""The running stack for benchmarks and chaos runs: databases, gunicorn, Celery workers.

Everything listens on loopback, on ports chosen free, and every process started here is
stopped here (by its own pid, never by name). The production settings are used as they are:
only the environment differs (DATABASE_URL, CELERY_BROKER_URL, REST_CACHE_URL, DJANGO_SECRET_KEY,
NISS_HASH_KEY, DJANGO_ALLOWED_HOSTS, limits).
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LOGS = ROOT / "var" / "bench-logs"
ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll `check` every 0.1 s until it is true; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def ensure_database(name: str, admin_url: str = ADMIN_URL) -> str:
    """Create database `name` if missing; return its URL (same server as `admin_url`)."""
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def drop_database(name: str, admin_url: str = ADMIN_URL) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def flush_redis(url: str) -> None:
    """Empty one Redis database of ours (bench and chaos use DB numbers 8-11 only)."""
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=3).flushdb()


def rate_limit_cache_url(broker_url: str) -> str:
    """The rate-limit counters' Redis: the broker's server, database 11 (bench and chaos use
    databases 8-11 only), so they never mix with the queued tasks."""
    return urlunsplit(urlsplit(broker_url)._replace(path="/11"))


def app_environment(database_url: str, broker_url: str, **extra: str) -> dict[str, str]:
    """The production settings' environment for the processes under test."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CELERY_", "REST_"))}
    environment.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "REST_CACHE_URL": rate_limit_cache_url(broker_url),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
            "DJANGO_SECRET_KEY": environment.get("DJANGO_SECRET_KEY", "bench-only-secret-" + "k" * 40),
            "NISS_HASH_KEY": environment.get("NISS_HASH_KEY", "bench-only-niss-hash-key-" + "n" * 20),
            # The stack serves plain HTTP on loopback; production's redirect to HTTPS would
            # answer every bench request with a 301.
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "REST_RATE_LIMIT": "100000000/minute",  # the benches measure the service, not the limiter
            "SOAP_RATE_LIMIT": "100000000/minute",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    environment.update(extra)
    return environment


class Process:
    """One child process with its log in var/bench-logs/NAME.log; stopped by its own pid."""

    def __init__(self, name: str, command: list[str], environment: dict[str, str]) -> None:
        LOGS.mkdir(parents=True, exist_ok=True)
        self.name, self.command, self.environment = name, command, environment
        self.log_path = LOGS / f"{name}.log"
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> "Process":
        log = self.log_path.open("ab")
        self.popen = subprocess.Popen(  # noqa: S603  # our own commands, fixed arguments
            self.command, env=self.environment, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        if self.popen is None:
            raise RuntimeError(f"{self.name} is not started")
        return self.popen.pid

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send `sig` to the process group (a worker's pool children die with it)."""
        if self.running():
            os.killpg(self.pid, sig)

    def stop(self, timeout: float = 20) -> None:
        if self.popen is None:
            return
        if self.running():
            os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(10)
        with suppress(ProcessLookupError):  # pool children left behind by a SIGKILLed parent
            os.killpg(self.pid, signal.SIGKILL)
        self.popen = None


def manage(environment: dict[str, str], *arguments: str) -> None:
    subprocess.run([str(BIN / "python"), "manage.py", *arguments], env=environment, cwd=ROOT, check=True)  # noqa: S603


def gunicorn(environment: dict[str, str], port: int, workers: int = 2, app: str = "config.wsgi") -> Process:
    """gunicorn with sync workers on 127.0.0.1:`port`; returns once it answers. Its logs go
    through the same redacting configuration as `make serve` (config/gunicorn.py)."""
    process = Process(
        f"gunicorn-{port}",
        [
            str(BIN / "gunicorn"),
            app,
            "--config",
            "python:config.gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "60",
        ],
        environment,
    ).start()
    wait_for(lambda: port_open(port), f"gunicorn on {port}")
    return process


def warm(url: str, count: int = 8) -> None:
    """A few GETs so each gunicorn worker has imported everything before timing."""
    for _ in range(count):
        with suppress(OSError):
            urllib.request.urlopen(url, timeout=30).read()  # noqa: S310  # loopback URL we built


def celery_worker(environment: dict[str, str], name: str = "worker", concurrency: int = 1) -> Process:
    """A Celery worker (prefork, `concurrency` processes); returns once it is ready."""
    process = Process(
        name,
        [
            str(BIN / "celery"),
            "-A",
            "config",
            "worker",
            "-l",
            "INFO",
            "--concurrency",
            str(concurrency),
            "-n",
            f"{name}-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        environment,
    )
    LOGS.mkdir(parents=True, exist_ok=True)
    offset = process.log_path.stat().st_size if process.log_path.exists() else 0
    process.start()

    def ready() -> bool:
        with process.log_path.open("rb") as log:
            log.seek(offset)
            return b"ready." in log.read()

    wait_for(ready, f"celery {name}", timeout=90)
    return process


def pg_program(name: str) -> str:
    """A PostgreSQL server program (initdb, pg_ctl): on PATH, or Debian's versioned directory."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not candidates:
        raise RuntimeError(f"{name} not found (install postgresql)")
    return str(candidates[-1])


class ThrowAwayPostgres:
    """A PostgreSQL cluster of our own (initdb into a temp dir, its own port), so a fault can
    stop and restart it without touching the machine's server on 5432."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="chaos-pg-"))
        self.data = self.directory / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/presence_chaos"
        self.admin_url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def _pg(self, program: str, *arguments: str) -> None:
        command = [pg_program(program), *arguments]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.directory, "postgres", "postgres")
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603

    def init(self) -> "ThrowAwayPostgres":
        self._pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        ensure_database("presence_chaos", self.admin_url)
        return self

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.directory}"
        options += " -c fsync=off -c max_connections=100"
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "log"), "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._pg("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with suppress(subprocess.CalledProcessError):
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class ThrowAwayRedis:
    """A redis-server of our own, without persistence (a restart starts empty)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Process | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = Process(f"redis-{self.port}", command, dict(os.environ)).start()
        wait_for(lambda: port_open(self.port), "redis-server")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None


@contextmanager
def stopping(*processes: Process) -> Iterator[None]:
    try:
        yield
    finally:
        for process in processes:
            process.stop()


NEUTRAL = {"boolean": "f", "smallint": "0", "integer": "0", "bigint": "0", "jsonb": "{}", "json": "{}"}


def unfilled_columns(cursor: object, table: str, given: str) -> list[tuple[str, str]]:
    """The NOT NULL columns without a database default that `given` (a comma-separated column
    list) leaves out, each with a neutral value (false, 0, '{}', ''): what a COPY of our own
    must add so that columns added to the model later do not break it. `cursor`: psycopg."""
    names = {name.strip() for name in given.split(",")}
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s"
        " AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO' AND column_name <> 'id'",
        [table],
    )
    rows = cursor.fetchall()  # type: ignore[attr-defined]
    return [(name, NEUTRAL.get(kind, "")) for name, kind in rows if name not in names]


def give_ids(cursor: object, name: str) -> None:
    """An identity for a scratch copy's `id`: on PostgreSQL the registrations' ids come from a
    trigger of the partitioned table (docs/adr/0018), which a copy made with LIKE lacks."""
    cursor.execute(  # type: ignore[attr-defined]
        "SELECT column_default IS NULL AND is_identity = 'NO' FROM information_schema.columns"
        " WHERE table_name = %s AND column_name = 'id'",
        [name],
    )
    row = cursor.fetchone()  # type: ignore[attr-defined]
    if row and row[0]:
        cursor.execute(f"ALTER TABLE {name} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")  # type: ignore[attr-defined]


def scratch_copy(cursor: object, name: str, given: str, *, temporary: bool = False) -> None:
    """A scratch copy of the registrations table for a floor, whose columns outside `given`
    default to neutral values."""
    kind = "TEMP TABLE" if temporary else "TABLE"
    cursor.execute(f"DROP TABLE IF EXISTS {name}")  # type: ignore[attr-defined]
    cursor.execute(f"CREATE {kind} {name} (LIKE registrations_registration INCLUDING ALL)")  # type: ignore[attr-defined]
    give_ids(cursor, name)
    for column, value in unfilled_columns(cursor, name, given):
        cursor.execute(f"ALTER TABLE {name} ALTER COLUMN {column} SET DEFAULT '{value}'")  # type: ignore[attr-defined]
