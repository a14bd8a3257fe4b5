"""Bench: SOAP `registerPresences` with 200 items over HTTP to gunicorn (production settings,
real Celery worker), with 1 client and with 4 concurrent clients; then the asynchronous
validation lag those registrations saw.

Floors, measured in the same run on the same database:
- 1 client: an lxml parse of the same envelope + a psycopg COPY of the same 200 rows
  (bench/soap_register.py's floor), per call;
- 4 clients: the same parse + COPY by 4 threads at once, each on its own connection;
- lag (creation -> validated by the worker): the in-process validation of one 200-item batch.

Started by bench/run_all.py, which starts gunicorn and the worker and passes --url; the
environment (DATABASE_URL, CELERY_BROKER_URL) is the one gunicorn runs with.
"""

import argparse
import http.client
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import psycopg
from django.db import connection
from lxml import etree

from bench import report, stack
from bench.soap_register import _T, COLUMNS, ITEMS, build_envelopes, floor_once
from registrations.domain.authorisation import Caller
from registrations.models import Channel, Client, Registration, Status
from registrations.services import batches as core_batches
from registrations.services.presences import PresenceInput, registration_submit_batch
from registrations.validation.run import registration_validate_batch
from soap_gateway.types import PR
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import TimestampedSignature, make_credentials, register

ACTION = f'"{PR}/registerPresences"'


def post(url: str, data: bytes) -> float:
    """One call on a fresh connection (gunicorn sync workers close it); returns seconds."""
    parsed = urlparse(url)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)
    conn.request("POST", "/PresenceRegistration/v1", data, {"Content-Type": "text/xml", "SOAPAction": ACTION})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    elapsed = time.perf_counter() - started
    if response.status != 200 or body.count(b"PresenceRegistrationId>") != 2 * ITEMS:
        raise RuntimeError(f"registerPresences failed: {response.status} {body[:300]!r}")
    return elapsed


def concurrent(work: list[list[bytes]], action: "object") -> float:
    """Run `action(envelope)` over each thread's envelopes at once; return the wall time."""
    threads = [threading.Thread(target=lambda items=items: [action(e) for e in items]) for items in work]  # type: ignore[operator]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def copy_floor_on_own_connection(database_url: str, client_id: str, company: str) -> "object":
    """parse + COPY like floor_once, on a connection of this thread (for the 4-client floor)."""
    local = threading.local()

    def run(data: bytes) -> None:
        if not hasattr(local, "conn"):
            local.conn = psycopg.connect(database_url, autocommit=True)
            stack.scratch_copy(local.conn.cursor(), "bench_registration", COLUMNS, temporary=True)
        root = etree.fromstring(data)
        rows = [
            (1, "WS", client_id, company, "enterprise", "2026-11-26T10:00:00Z", "2026-11-26",
             item.findtext(f"{_T}INSS"), "", company, "", item.findtext(f"{_T}WorkPlaceId"), "", "{}",
             "registered", 0, "", "", "", f"bench|{index}")
            for index, item in enumerate(root.iter(f"{{{PR}}}PresenceRegistrationRequest"))
        ]  # fmt: skip
        with local.conn.cursor() as cursor, cursor.copy(f"COPY bench_registration ({COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    return run


def validation_floor(reference: Registration) -> float:
    """Seconds to validate one 200-item batch in-process (no queue): the lag's floor."""
    original = core_batches._hand_off_validation
    core_batches._hand_off_validation = lambda ids: None  # type: ignore[assignment]
    try:
        items = [
            PresenceInput(niss=make_niss(), enterprise_number=reference.enterprise_number,
                          workplace_id=make_workplace_id())
            for _ in range(ITEMS)
        ]  # fmt: skip
        results = registration_submit_batch(items=items, caller=Caller.for_operator("bench"), channel=Channel.ADMIN)
    finally:
        core_batches._hand_off_validation = original
    ids = [r.registration.pk for r in results if r.registration is not None]
    started = time.perf_counter()
    registration_validate_batch(registration_ids=ids)
    return time.perf_counter() - started


def wait_validated(sender: Client, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while Registration.objects.filter(sender=sender, status=Status.REGISTERED).exists():
        if time.monotonic() > deadline:
            raise RuntimeError("the worker did not validate the bench's registrations in time")
        time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="gunicorn's base URL")
    parser.add_argument("--runs", type=int, default=5, help="repetitions (the median is reported)")
    parser.add_argument("--calls", type=int, default=8, help="calls per client per repetition")
    args = parser.parse_args()
    credentials = make_credentials(Path(tempfile.mkdtemp()), "bench-soap")
    client = register(credentials)
    signer = TimestampedSignature(credentials)
    company, client_id = client.enterprise_number, str(client.id)
    with connection.cursor() as cursor:
        stack.scratch_copy(cursor, "bench_registration", COLUMNS, temporary=True)

    for data in build_envelopes(4, signer, company, zeep_style=False):  # warm every gunicorn worker
        post(args.url, data)
    first_id = Registration.objects.filter(sender_id=client.id).order_by("-id").values_list("id", flat=True)[0]

    one, one_floor = [], []
    for _ in range(args.runs):
        envelopes = build_envelopes(args.calls, signer, company, zeep_style=False)  # signed just before use
        one.append(statistics.median(post(args.url, data) for data in envelopes))
        one_floor.append(statistics.median(floor_once(data, client_id, company) for data in envelopes))
    last_single_id = Registration.objects.filter(sender_id=client.id).order_by("-id").values_list("id", flat=True)[0]

    database_url = os.environ["DATABASE_URL"]
    floor_copy = copy_floor_on_own_connection(database_url, client_id, company)
    four, four_floor = [], []
    for _ in range(args.runs):
        work = [build_envelopes(args.calls, signer, company, zeep_style=False) for _ in range(4)]
        items = 4 * args.calls * ITEMS
        four.append(items / concurrent(work, lambda data: post(args.url, data)))
        four_floor.append(items / concurrent(work, floor_copy))

    wait_validated(client, timeout=300)
    lags = [
        (validated - created).total_seconds()  # type: ignore[operator]  # all validated by now
        for created, validated in Registration.objects.filter(
            sender_id=client.id, id__gt=first_id, id__lte=last_single_id
        ).values_list("created_at", "validated_at")
    ]
    lag = statistics.median(lags)
    reference = Registration.objects.filter(sender_id=client.id).first()
    if reference is None:
        raise report.BenchmarkError("no registration of the bench client to validate")
    lag_floor = statistics.median(validation_floor(reference) for _ in range(args.runs))

    p50, p50_floor = statistics.median(one) * 1000, statistics.median(one_floor) * 1000
    rate, rate_floor = statistics.median(four), statistics.median(four_floor)
    report.write(
        "soap_http",
        [
            report.result(
                "SOAP registerPresences 200 items, 1 client (p50)",
                p50,
                "ms",
                "lxml parse + psycopg COPY of the rows",
                p50_floor,
                p50 / p50_floor,
            ),
            report.result(
                "SOAP registerPresences 200 items, 4 clients",
                rate,
                "registrations/s",
                "4 threads: parse + COPY",
                rate_floor,
                rate_floor / rate,
            ),
            report.result(
                "validation lag p50 (created -> validated, worker)",
                lag * 1000,
                "ms",
                "one 200-item batch validated in-process",
                lag_floor * 1000,
                lag / lag_floor,
            ),
        ],
    )


if __name__ == "__main__":
    main()
