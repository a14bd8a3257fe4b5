"""Bench: SOAP `registerPresences` with 200 items over HTTP to gunicorn (production settings,
real Celery worker), with 1 client and with 4 concurrent clients; then the asynchronous
validation lag those registrations saw, and the webhook delivery lag under that load: a
probe, another SOAP client subscribed to its own registrations' events, registers one
presence every PROBE_EVERY seconds while the load runs; a receiver on loopback
(tests/feed/receiver.py) notes when each event arrives. The load's own events are published
to the feed too (nobody subscribed to them): the probe measures what one subscriber waits
for while everybody else's traffic goes through the same workers.

Floors, measured in the same run on the same database (bench/floors.py):
- 1 client, two rows: the bare floor (lxml parse of the same envelope + COPY of the same 200
  rows into a temporary table: no history, no WAL) and the durable floor (the parse + one
  committed transaction writing the same rows, their `registration.created` events and outbox
  entries with COPY into logged copies of the service's tables), each per call;
- 4 clients: the durable floor run by 4 threads at once, each on its own connection, each
  call with fresh resend keys;
- lag (creation -> validated by the worker): a light floor, the in-process validation of one
  200-item batch;
- webhook lag (the event's commit -> the receiver has the message, p50 and p99): a light floor,
  one signed POST of such a message to the same receiver, in-process (no queue, no database).

An exception in any call, of the service or of a floor, in any thread, fails the run.

Started by bench/run_all.py, which starts gunicorn and the worker and passes --url; the
environment (DATABASE_URL, CELERY_BROKER_URL) is the one gunicorn runs with.
"""

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from bench import floors, report
from bench.soap_register import ITEMS, build_envelopes
from feed.sender import post as post_webhook
from feed.services.subscriptions import subscription_create, subscription_delete
from feed.signing import signature
from feed.targets import parse_target
from history.events import PUBLISHED_EVENT_TYPES
from history.models import HistoryEvent
from registrations.domain.authorisation import Caller
from registrations.models import Channel, Client, Registration, Status
from registrations.selectors.clients import caller_for_client
from registrations.services import batches as core_batches
from registrations.services.presences import PresenceInput, registration_submit_batch
from registrations.validation.run import registration_validate_batch
from soap_gateway.types import PR
from tests.factories import make_niss, make_workplace_id
from tests.feed.receiver import Receiver
from tests.soap_gateway.conftest import (
    TimestampedSignature,
    envelope,
    make_credentials,
    register,
    register_item,
    register_request,
    sign,
)

ACTION = f'"{PR}/registerPresences"'


def post(url: str, data: bytes, items: int = ITEMS) -> float:
    """One call on a fresh connection (gunicorn sync workers close it); returns seconds."""
    parsed = urlparse(url)
    started = time.perf_counter()
    conn = http.client.HTTPConnection(parsed.hostname or "127.0.0.1", parsed.port, timeout=60)
    conn.request("POST", "/PresenceRegistration/v1", data, {"Content-Type": "text/xml", "SOAPAction": ACTION})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    elapsed = time.perf_counter() - started
    if response.status != 200 or body.count(b"PresenceRegistrationId>") != 2 * items:
        raise RuntimeError(f"registerPresences failed: {response.status} {body[:300]!r}")
    return elapsed


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


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


PROBE_EVERY = 0.25
SIGNING = threading.Lock()  # zeep's signer is not thread-safe


class Probe:
    """A subscribed sender registering one presence at a time while the load runs."""

    def __init__(self, url: str) -> None:
        credentials = make_credentials(Path(tempfile.mkdtemp()), "bench-probe")
        self.client = register(credentials)
        self.signer = TimestampedSignature(credentials)
        self.url = url
        self.receiver = Receiver().start()
        caller = caller_for_client(self.client)
        self.subscription = subscription_create(caller=caller, target_url=self.receiver.url)
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None
        self.error: Exception | None = None

    def _send(self) -> None:
        try:
            while not self.stopping.wait(PROBE_EVERY):
                company, workplace = self.client.enterprise_number, make_workplace_id()
                item = register_item(niss=make_niss(), company=company, workplace=workplace)
                with SIGNING:
                    data = sign(envelope(register_request([item])), self.signer)
                post(self.url, data, items=1)
        except Exception as error:  # carried to the main thread, which raises it on exit
            self.error = error

    def __enter__(self) -> "Probe":
        self.stopping.clear()
        self.thread = threading.Thread(target=self._send, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(60)
        if self.error is not None:
            raise report.BenchmarkError("the webhook probe's call failed") from self.error

    def lags(self, timeout: float) -> list[float]:
        """Seconds from each event of the probe's registrations to its arrival (at its first
        arrival: delivery is at least once), once every one of them has arrived."""
        wait_validated(self.client, timeout)
        published = HistoryEvent.objects.filter(registration__sender=self.client, event_type__in=PUBLISHED_EVENT_TYPES)
        expected = published.count()
        deadline = time.monotonic() + timeout
        while True:
            arrived: dict[str, float] = {}
            for message in self.receiver.messages():
                body = json.loads(message.body)
                arrived.setdefault(body["id"], message.at - datetime.fromisoformat(body["timestamp"]).timestamp())
            if len(arrived) >= expected:
                return list(arrived.values())
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(arrived)} of {expected} webhooks arrived in {timeout:.0f} s")
            time.sleep(0.5)

    def close(self) -> None:
        subscription_delete(caller=caller_for_client(self.client), subscription_id=self.subscription.subscription.pk)
        self.receiver.stop()


def webhook_floor(receiver: Receiver, secret: str, runs: int) -> float:
    """Seconds for one signed POST of a validation message to the same receiver, in-process."""
    target = parse_target(receiver.url)
    body = json.dumps({"id": "evt_0", "type": "registration.failed", "timestamp": "2026-01-01T00:00:00Z", "data": {}})
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        now = datetime.now(UTC)
        headers = {
            "webhook-id": "evt_0",
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature(secrets_in_use=[secret], message_id="evt_0", timestamp=now, body=body),
        }
        sent = post_webhook(target, body.encode(), headers)
        durations.append(time.perf_counter() - started)
        if sent.status_code != 200:
            raise RuntimeError(f"the receiver answered {sent.status_code}")
    return statistics.median(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="gunicorn's base URL")
    parser.add_argument("--runs", type=int, default=5, help="repetitions (the median is reported)")
    parser.add_argument("--calls", type=int, default=8, help="calls per client per repetition")
    args = parser.parse_args()
    credentials = make_credentials(Path(tempfile.mkdtemp()), "bench-soap")
    client = register(credentials)
    signer = TimestampedSignature(credentials)
    company = client.enterprise_number
    sender, actor = floors.Sender(client.id, company), caller_for_client(client).actor
    database_url = os.environ["DATABASE_URL"]
    floors.create_durable_tables(database_url, floors.SOAP_COLUMNS)
    bare = floors.BareFloor(database_url, floors.SOAP_COLUMNS)
    durable = [floors.DurableFloor(database_url) for _ in range(4)]  # one per thread

    for data in build_envelopes(4, signer, company, zeep_style=False):  # warm every gunicorn worker
        post(args.url, data)
    first_id = Registration.objects.filter(sender_id=client.id).order_by("-id").values_list("id", flat=True)[0]
    probe = Probe(args.url)

    one, one_bare, one_durable = [], [], []
    for _ in range(args.runs):
        with SIGNING:
            envelopes = build_envelopes(args.calls, signer, company, zeep_style=False)  # signed just before use
        with probe:
            one.append(statistics.median(post(args.url, data) for data in envelopes))
        one_bare.append(statistics.median(floors.soap_bare_seconds(bare, data, sender) for data in envelopes))
        one_durable.append(
            statistics.median(floors.soap_durable_seconds(durable[0], data, sender, actor) for data in envelopes)
        )
    last_single_id = Registration.objects.filter(sender_id=client.id).order_by("-id").values_list("id", flat=True)[0]

    def durable_call(thread: int, data: bytes) -> float:
        return floors.soap_durable_seconds(durable[thread], data, sender, actor)

    four, four_durable = [], []
    for _ in range(args.runs):
        with SIGNING:
            work = [build_envelopes(args.calls, signer, company, zeep_style=False) for _ in range(4)]
        items = 4 * args.calls * ITEMS
        with probe:
            four.append(items / report.concurrent(work, lambda _, data: post(args.url, data)))
        four_durable.append(items / report.concurrent(work, durable_call))
    bare.close()
    for floor in durable:
        floor.close()
    floors.drop_durable_tables(database_url)

    wait_validated(client, timeout=300)
    lags_webhook = probe.lags(timeout=300)
    floor_webhook = webhook_floor(probe.receiver, probe.subscription.secret, runs=50)
    probe.close()
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

    p50 = statistics.median(one) * 1000
    p50_bare, p50_durable = statistics.median(one_bare) * 1000, statistics.median(one_durable) * 1000
    rate, rate_durable = statistics.median(four), statistics.median(four_durable)
    operation = "SOAP registerPresences 200 items"
    report.write(
        "soap_http",
        [
            report.result(
                f"{operation}, 1 client (p50)",
                p50,
                "ms",
                floors.BARE_SOAP,
                p50_bare,
                p50 / p50_bare,
                report.TARGETS["soap http 1 client vs bare"],
            ),
            report.result(
                f"{operation}, 1 client (p50)", p50, "ms", floors.DURABLE_SOAP, p50_durable, p50 / p50_durable
            ),
            report.result(
                f"{operation}, 4 clients",
                rate,
                "registrations/s",
                f"4 threads of the {floors.DURABLE_SOAP}",
                rate_durable,
                rate_durable / rate,
                report.TARGETS["soap http 4 clients vs durable"],
            ),
            report.result(
                "validation lag p50 (created -> validated, worker)",
                lag * 1000,
                "ms",
                "light floor: one 200-item batch validated in-process (no queue)",
                lag_floor * 1000,
                lag / lag_floor,
            ),
            *[
                report.result(
                    f"webhook delivery lag {name} under that load ({len(lags_webhook)} events)",
                    percentile(lags_webhook, share) * 1000,
                    "ms",
                    "light floor: one signed POST, no queue",
                    floor_webhook * 1000,
                    percentile(lags_webhook, share) / floor_webhook,
                )
                for name, share in (("p50", 0.50), ("p99", 0.99))
            ],
        ],
    )


if __name__ == "__main__":
    main()
