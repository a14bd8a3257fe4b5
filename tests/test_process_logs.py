"""The output of every process the service runs is redacted (spec §9), checked on the real
processes: the development server (`make run`), gunicorn with `make serve`'s configuration, a
Celery worker, Celery beat and a management command that dies of an uncaught exception.

Each process gets a NISS in what it is sent (a path, a query string, a body, task arguments);
its whole stdout and stderr must then hold the NISS only as its token, and the ids a client or
an operator greps for (fault tickets, task ids) verbatim.
"""

import http.client
import re
import subprocess
import sys

import pytest

from config.celery import app
from config.logging import niss_token
from tests.conftest import free_port, use_broker, worker_environment
from tests.factories import make_niss
from tests.processes import listening, running, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

NISS = make_niss("850730", 33)  # 85073003328
PRINTED = f"{NISS[0:2]}.{NISS[2:4]}.{NISS[4:6]}-{NISS[6:9]}.{NISS[9:11]}"  # 85.07.30-033.28
BIS = make_niss("854730", 33)  # month + 40
# The printed form with spaces around its dash, as a browser percent-encodes it in a query.
SPACED_ENCODED = f"{NISS[0:2]}.{NISS[2:4]}.{NISS[4:6]}%20-%20{NISS[6:9]}.{NISS[9:11]}"
HASH_KEY = "process-logs-test-key"
# A UUID whose digits the former pattern took for a NISS ("1234-5678901"): it must stay whole.
TASK_ID = "aaaaaaaa-bbbb-cccc-1234-5678901aaaaa"


@pytest.fixture(autouse=True)
def _the_processes_hash_key(settings):
    settings.NISS_HASH_KEY = HASH_KEY  # so niss_token() here gives the processes' tokens


def environment(**extra: str) -> dict[str, str]:
    """A process sharing this test's database, printing as it goes, with a known hash key."""
    env = worker_environment(broker_url="")
    env.pop("CELERY_BROKER_URL")
    return {**env, "NISS_HASH_KEY": HASH_KEY, "PYTHONUNBUFFERED": "1", **extra}


def request(port: int, path: str, body: bytes | None = None) -> bytes:
    """The answer's body, whatever its status (401, 404, a SOAP fault's 500)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("POST" if body else "GET", path, body=body, headers={"Content-Type": "text/xml"})
        return connection.getresponse().read()
    finally:
        connection.close()


def send_requests_carrying_a_niss(port: int) -> str:
    """The requests of a careless or hostile client; returns the ticket of the fault it got."""
    request(port, f"/REST/presenceRegistration/v1/presenceRegistrations/{NISS}?niss={NISS}&bis={BIS}&p={PRINTED}")
    request(port, f"/workers/{NISS}/?q=%22{NISS}%22")
    request(port, f"/workers/?ssin={SPACED_ENCODED}")
    fault = request(port, "/PresenceRegistration/v1", body=f"<not-xml {NISS}".encode())
    [ticket] = re.findall(rb'Id="([0-9a-f-]{36})"', fault)
    return ticket.decode()


def assert_redacted(log: str) -> None:
    for spelling in (NISS, PRINTED, BIS, SPACED_ENCODED):
        assert spelling not in log
    assert niss_token(NISS) in log
    assert niss_token(BIS) in log


def test_the_development_server_redacts_its_request_lines_and_keeps_the_ticket(tmp_path):
    port = free_port()
    output = tmp_path / "runserver.log"
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    with running(command, environment(DJANGO_DEBUG="1"), output):  # as `make run` starts it
        wait_for(lambda: listening(port), "runserver listening", output)
        ticket = send_requests_carrying_a_niss(port)
        wait_for(lambda: "POST /PresenceRegistration/v1" in output.read_text(), "the SOAP request line", output)
    log = output.read_text()
    assert f"/presenceRegistrations/{niss_token(NISS)}?niss={niss_token(NISS)}&" in log
    assert f"/workers/?ssin={niss_token(NISS)} HTTP/1.1" in log
    assert_redacted(log)
    assert f"ticket={ticket}" in log


def test_gunicorn_with_the_serve_configuration_redacts_its_access_and_error_logs(tmp_path):
    port = free_port()
    output = tmp_path / "gunicorn.log"
    command = [
        *(sys.executable, "-m", "gunicorn", "config.wsgi", "--config", "python:config.gunicorn"),
        *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
    ]
    with running(command, environment(), output):
        wait_for(lambda: listening(port), "gunicorn listening", output)
        ticket = send_requests_carrying_a_niss(port)
        wait_for(lambda: "POST /PresenceRegistration/v1" in output.read_text(), "the SOAP access line", output)
    log = output.read_text()
    assert f'"GET /workers/{niss_token(NISS)}/?q=%22{niss_token(NISS)}%22 HTTP/1.1" 404' in log
    assert f'"GET /workers/?ssin={niss_token(NISS)} HTTP/1.1" 404' in log
    assert_redacted(log)
    assert f"ticket={ticket}" in log


@pytest.mark.redis
def test_a_celery_worker_redacts_task_arguments_and_errors_and_keeps_task_ids(tmp_path, own_redis, real_broker):
    use_broker(own_redis.url)
    output = tmp_path / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "INFO", "--concurrency", "1"]
    command += ["--without-heartbeat", "--without-gossip", "--without-mingle"]
    with running(command, environment(CELERY_BROKER_URL=own_redis.url), output):
        wait_for(lambda: " ready." in output.read_text(), "the worker ready", output)
        app.send_task("registrations.tasks.requeue_waiting_validations", task_id=TASK_ID)
        # An argument the task cannot use: its error, with the value, is logged.
        app.send_task("registrations.tasks.geocode_registration", args=[PRINTED])
        # An unknown task: the worker logs the whole message body, arguments included.
        app.send_task("registrations.tasks.gone", args=[NISS], kwargs={"bis": BIS})
        wait_for(lambda: "retry: Retry in" in output.read_text(), "the geocoding error", output)
        wait_for(lambda: "succeeded in" in output.read_text(), "the task success", output)
        wait_for(lambda: "unregistered task" in output.read_text(), "the unknown task", output)
    log = output.read_text()
    assert f"requeue_waiting_validations[{TASK_ID}] received" in log
    assert f"requeue_waiting_validations[{TASK_ID}] succeeded in" in log
    assert f"expected a number but got '{niss_token(NISS)}'" in log
    assert_redacted(log)


@pytest.mark.redis
def test_celery_beat_redacts_the_arguments_of_its_schedule(tmp_path, own_redis):
    output = tmp_path / "beat.log"
    command = [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "DEBUG"]
    command += ["--schedule", str(tmp_path / "celerybeat-schedule")]
    command += ["--scheduler", "tests.beat_scheduler:WithNissArguments"]
    with running(command, environment(CELERY_BROKER_URL=own_redis.url), output):
        wait_for(lambda: "notify_worker sent. id->" in output.read_text(), "the task sent", output)
    log = output.read_text()
    assert "<ScheduleEntry: notify-a-worker elsewhere.notify_worker(" in log
    assert_redacted(log)


def test_an_uncaught_exception_is_printed_redacted(tmp_path):
    env = environment()
    command = [sys.executable, "manage.py", "shell", "-c", f"raise ValueError('no worker {PRINTED} or {BIS}')"]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 1
    output = completed.stdout + completed.stderr
    assert f"ValueError: no worker {niss_token(NISS)} or {niss_token(BIS)}" in output
    for spelling in (NISS, PRINTED, BIS):
        assert spelling not in output
