"""`make chaos`: scripted faults against the running stack under a steady load of registrations.

Everything is started here and on loopback only, so no fault touches the machine's own
services: a throw-away PostgreSQL (initdb into a temp dir, its own port), a throw-away Redis
without persistence, gunicorn with the production settings, a Celery worker (2 processes)
and one beat. The application reaches PostgreSQL through chaos/proxy.py (one proxy for the
web processes, one for the worker and beat), which can add latency and reset connections.

Load: SOAP clients send `registerPresences` calls of new presences, one after the other.
A call that fails (HTTP error, SOAP fault, reset, timeout) is sent again with the same
presences and a fresh signature until it succeeds, as an integrator would: a resend by the
same sender is answered with the stored registration (docs/adr/0003).

Faults (bad inputs 34-39): SIGKILL of the worker mid-batch; Redis stopped during submissions
and restarted empty; PostgreSQL restarted (immediate stop) during submissions; latency and
connection resets between the application and PostgreSQL; a task that runs longer than the
broker's visibility timeout; a webhook receiver down for a while and Redis restarted empty
while its deliveries are under way (issue 18).

After each fault the load stops and the run waits (bounded) until every registration has
left SUCCESSFULLY REGISTERED, then checks, for that scenario's sender: every accepted
presence is stored exactly once (lost, duplicated), every registration has exactly one
`registration.created` and one `registration.validated` event (half-written, validation).
In the webhook scenario the sender subscribed to its own registrations' events beforehand,
with a receiver on loopback that verifies every message with `standardwebhooks` on arrival;
the run then also waits (bounded) until every published history event of the sender's
registrations has reached the receiver at least once, and counts the events never
delivered and the messages whose signature did not verify.
Exit status 1 if any scenario loses, duplicates, half-writes or mis-validates anything, loses
a webhook event or delivers one with a bad signature.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import stack
from chaos.proxy import FaultyProxy

ACTION = '"http://socialsecurity.be/presenceregistration/v1/registerPresences"'
ID = re.compile(rb"PresenceRegistrationId>(\d+)<")
SETTINGS = {
    "CELERY_VISIBILITY_TIMEOUT": "10",  # the smallest the settings accept: redelivery is seen quickly
    "VALIDATION_REQUEUE_AFTER_SECONDS": "20",
    "VALIDATION_SWEEP_INTERVAL_SECONDS": "5",
    "DJANGO_CONN_MAX_AGE": "60",  # as in production: persistent connections that a fault breaks
    # The webhook scenario's receiver listens on loopback over http: an operator's exception.
    "WEBHOOK_ALLOW_HTTP": "1",
    "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    # Retries a few seconds apart (production waits 5 s, 5 min, 30 min, ...), never disabled here.
    "WEBHOOK_RETRY_SCHEDULE_SECONDS": "1,2,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4,4",
    "WEBHOOK_DISABLE_AFTER_SECONDS": "3600",
    "FEED_SWEEP_INTERVAL_SECONDS": "2",
}


@dataclass
class Outcome:
    fault: str
    accepted: int = 0
    lost: int = 0
    duplicated: int = 0
    half_written: int = 0
    validation: int = 0  # registrations not validated exactly once
    retried: int = 0
    recover: float = 0.0
    note: str = ""
    events_lost: int = 0  # webhook events never delivered (the webhook scenario)
    bad_signatures: int = 0  # webhook messages whose signature did not verify

    @property
    def ok(self) -> bool:
        webhooks = self.events_lost or self.bad_signatures
        return not (self.lost or self.duplicated or self.half_written or self.validation or webhooks)


class Stack:
    """The throw-away services and the application processes, all on loopback."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.pg = stack.ThrowAwayPostgres().init()
        self.redis = stack.ThrowAwayRedis()
        self.redis.start()
        self.web_proxy = FaultyProxy(self.pg.port, seed=1).start()
        self.worker_proxy = FaultyProxy(self.pg.port, seed=2).start()
        direct = self.pg.url
        self.env_direct = stack.app_environment(direct, self.redis.url, **SETTINGS)
        self.env_web = stack.app_environment(self._via(self.web_proxy), self.redis.url, **SETTINGS)
        self.env_worker = stack.app_environment(self._via(self.worker_proxy), self.redis.url, **SETTINGS)
        stack.manage(self.env_direct, "migrate", "--no-input", "-v", "0")
        self.port = stack.free_port()
        self.web = stack.gunicorn(self.env_web, self.port, workers=2)
        for name in ("chaos-worker", "chaos-beat"):
            (stack.LOGS / f"{name}.log").unlink(missing_ok=True)
        self.worker = self._start_worker()
        self.beat = self._start_beat()
        self.restarts: dict[str, int] = {"worker": 0, "beat": 0}
        self.lock = threading.Lock()
        self.watching = threading.Event()
        threading.Thread(target=self._supervise, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"
        self.note = ""  # what a fault observed, for the table
        stack.warm(f"{self.url}/PresenceRegistration/v1?wsdl", 4)

    def _start_worker(self) -> stack.Process:
        return stack.celery_worker(self.env_worker, "chaos-worker", concurrency=2)

    def _start_beat(self) -> stack.Process:
        command = [str(stack.BIN / "celery"), "-A", "config", "beat", "-l", "INFO", "-s", str(self.root / "beat")]
        return stack.Process("chaos-beat", command, self.env_worker).start()

    def _supervise(self) -> None:
        """Restart the worker or beat when it exits, as systemd's Restart=always would in
        production (docs/deploy.md): a process that dies is part of the fault, not the end."""
        while not self.watching.wait(0.5):
            with self.lock:
                if not self.worker.running():
                    self.worker.stop()
                    self.worker = self._start_worker()
                    self.restarts["worker"] += 1
                if not self.beat.running():
                    self.beat.stop()
                    self.beat = self._start_beat()
                    self.restarts["beat"] += 1

    def _via(self, proxy: FaultyProxy) -> str:
        return f"postgres://postgres@127.0.0.1:{proxy.port}/presence_chaos"

    def close(self) -> None:
        self.watching.set()
        for process in (self.beat, self.worker, self.web):
            process.stop()
        self.web_proxy.stop()
        self.worker_proxy.stop()
        self.redis.stop()
        self.pg.destroy()
        shutil.rmtree(self.root, ignore_errors=True)


class Load:
    """Client threads registering new presences, each call retried until it is accepted."""

    def __init__(self, url: str, clients: int, items: int, pause: float) -> None:
        from tests.soap_gateway.conftest import TimestampedSignature, make_credentials, register

        self.url, self.items, self.pause = url, items, pause
        credentials = make_credentials(Path(tempfile.mkdtemp()), "chaos")
        self.client = register(credentials)
        self.signer = TimestampedSignature(credentials)
        self.accepted: dict[tuple[str, str], int] = {}  # (niss, workplace) -> id answered
        self.retried = 0
        self.faults: set[str] = set()
        self.last_failure = 0.0
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._client, daemon=True) for _ in range(clients)]

    def start(self) -> "Load":
        for thread in self.threads:
            thread.start()
        return self

    def stop(self, deadline: float) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(max(1.0, deadline - time.monotonic()))

    def _envelope(self, people: list[tuple[str, str]]) -> bytes:
        from tests.soap_gateway.conftest import envelope, register_item, register_request, sign

        company = self.client.enterprise_number
        items = [register_item(niss=niss, company=company, workplace=workplace) for niss, workplace in people]
        with self.lock:  # zeep's signer is not thread-safe
            return sign(envelope(register_request(items)), self.signer)

    def _client(self) -> None:
        from tests.factories import make_niss, make_workplace_id

        while not self.stopping.is_set():
            with self.lock:
                people = [(make_niss(), make_workplace_id()) for _ in range(self.items)]
            self._send_until_accepted(people)
            time.sleep(self.pause)

    def _send_until_accepted(self, people: list[tuple[str, str]]) -> None:
        backoff = 0.2
        give_up = time.monotonic() + 180
        while time.monotonic() < give_up:
            ids, problem = self._post(self._envelope(people))
            if ids is not None and len(ids) == len(people):
                with self.lock:
                    self.accepted.update(zip(people, ids, strict=True))
                return
            with self.lock:
                self.retried += 1
                self.faults.add(problem)
                self.last_failure = time.monotonic()
            time.sleep(backoff)
            backoff = min(backoff * 2, 2.0)

    def _post(self, data: bytes) -> tuple[list[int] | None, str]:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", int(self.url.rsplit(":", 1)[1]), timeout=60)
            connection.request(
                "POST", "/PresenceRegistration/v1", data, {"Content-Type": "text/xml", "SOAPAction": ACTION}
            )
            response = connection.getresponse()
            body = response.read()
            connection.close()
        except (OSError, http.client.HTTPException) as error:
            return None, type(error).__name__
        if response.status != 200:
            code = re.search(rb"faultstring>([^<]{0,60})", body)
            return None, f"HTTP {response.status} {code.group(1).decode() if code else ''}".strip()
        return [int(found) for found in ID.findall(body)], ""


def check(outcome: Outcome, load: Load, timeout: float, restored: float) -> None:
    """Wait until the sender's registrations are validated, then count what went wrong."""
    from django.db import close_old_connections, connection
    from django.db.models import Count, Q

    from history.models import HistoryEvent
    from registrations.models import Registration, Status

    connection.close()  # the fault may have broken this process's connection too
    close_old_connections()
    rows = Registration.objects.filter(sender=load.client)
    deadline = time.monotonic() + timeout
    while rows.filter(status=Status.REGISTERED).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    outcome.recover = time.monotonic() - restored
    stored = dict(rows.values_list("id", "status"))
    outcome.accepted = len(load.accepted)
    outcome.lost = sum(1 for registration_id in load.accepted.values() if registration_id not in stored)
    per_presence = rows.exclude(status=Status.CANCELLED).values("niss", "workplace_id", "registration_date")
    outcome.duplicated = sum(g["n"] - 1 for g in per_presence.annotate(n=Count("id")).filter(n__gt=1))
    outcome.duplicated += len(load.accepted) - len(set(load.accepted.values()))
    events = (
        HistoryEvent.objects.filter(registration__sender=load.client)
        .values("registration_id")
        .annotate(
            created=Count("id", filter=Q(event_type="registration.created")),
            validated=Count("id", filter=Q(event_type="registration.validated")),
        )
    )
    counts = {e["registration_id"]: (e["created"], e["validated"]) for e in events}
    outcome.half_written = sum(1 for pk in stored if counts.get(pk, (0, 0))[0] != 1)
    outcome.validation = sum(
        1 for pk, status in stored.items() if counts.get(pk, (0, 0))[1] != 1 or status == Status.REGISTERED
    )
    outcome.retried = load.retried
    outcome.note = ", ".join(sorted(f for f in load.faults if f))[:80]


@dataclass
class Scenario:
    name: str
    inject: Callable[[Stack], Any]
    restore: Callable[[Stack], Any]
    hold: float
    extra: dict[str, Any] = field(default_factory=dict)
    # Before the load starts, and after its registrations are checked (the webhook scenario).
    prepare: Callable[[Stack, "Load"], Any] | None = None
    verify: Callable[[Stack, "Load", Outcome], Any] | None = None


class Webhooks:
    """The webhook scenario: a receiver on loopback, the load's sender subscribed to it."""

    def __init__(self) -> None:
        from tests.feed.receiver import Receiver

        self.receiver = Receiver()
        self.secret = ""
        self.subscription_id: Any = None

    def prepare(self, s: Stack, load: "Load") -> None:
        from feed.services.subscriptions import subscription_create
        from registrations.selectors.clients import caller_for_client

        self.receiver.start()
        made = subscription_create(caller=caller_for_client(load.client), target_url=self.receiver.url)
        self.secret, self.subscription_id = made.secret, made.subscription.pk
        self.receiver.secrets = [self.secret]

    def inject(self, s: Stack) -> None:
        self.receiver.stop()  # the receiver goes down: deliveries fail and back off
        time.sleep(2)
        s.redis.stop()  # then Redis, with the hand-offs and delivery runs queued in it

    def restore(self, s: Stack) -> None:
        s.redis.start()  # empty: every queued task is gone; the outbox and the sweep remain
        time.sleep(3)
        self.receiver.start()  # the same port: the subscription's URL is unchanged

    def verify(self, s: Stack, load: "Load", outcome: Outcome, timeout: float = 180) -> None:
        """Every published event of the sender's registrations delivered at least once, with a
        signature that verifies; waits (bounded) for the retries to get there."""
        from feed.domain import webhook_id
        from feed.models import FeedEvent
        from feed.services.subscriptions import subscription_delete
        from history.events import PUBLISHED_EVENT_TYPES
        from history.models import HistoryEvent
        from registrations.selectors.clients import caller_for_client

        history = HistoryEvent.objects.filter(registration__sender=load.client, event_type__in=PUBLISHED_EVENT_TYPES)
        deadline = time.monotonic() + timeout
        while True:
            published = dict(
                FeedEvent.objects.filter(history_event_id__in=history.values("id")).values_list(
                    "history_event_id", "position"
                )
            )
            expected = {webhook_id(position) for position in published.values()}
            received = set(self.receiver.ids())
            missing = history.count() - len(published) + len(expected - received)
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(1)
        messages = self.receiver.messages()
        outcome.events_lost = missing
        outcome.bad_signatures = sum(1 for message in messages if not message.valid.get(self.secret))
        duplicates = len(messages) - len({message.webhook_id for message in messages})
        outcome.note = (
            f"webhooks: {len(expected & received)}/{history.count()} events delivered, {duplicates} sent twice, "
            f"{outcome.bad_signatures} bad signatures; {outcome.note}"
        )
        subscription_delete(caller=caller_for_client(load.client), subscription_id=self.subscription_id)
        self.receiver.stop()


def kill_worker(s: Stack) -> None:
    s.worker_proxy.latency = 0.01  # batches take long enough that the kill lands in one
    time.sleep(2)
    with s.lock:  # the supervisor restarts it afterwards
        s.worker.kill(signal.SIGKILL)
        log = s.worker.log_path.read_text(errors="replace")
    received = set(re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] received", log))
    done = set(re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] succeeded", log))
    s.note = f"{len(received - done)} task(s) in flight when killed"


def restore_worker(s: Stack) -> None:
    """The supervisor restarts the killed worker; the latency goes back to normal."""
    s.worker_proxy.latency = 0.0


def faulty_network(s: Stack, on: bool) -> None:
    for proxy in (s.web_proxy, s.worker_proxy):
        proxy.latency = 0.2 if on else 0.0
        proxy.drop_rate = 0.01 if on else 0.0


def redeliveries(s: Stack) -> int:
    """Tasks the worker received more than once (by task id)."""
    received = re.findall(r"Task [\w.]+\[([0-9a-f-]+)\] received", s.worker.log_path.read_text(errors="replace"))
    return len(received) - len(set(received))


SCENARIOS = [
    Scenario("SIGKILL worker mid-batch", kill_worker, restore_worker, hold=2),
    Scenario("Redis stopped, restarted empty", lambda s: s.redis.stop(), lambda s: s.redis.start(), hold=4),
    Scenario("PostgreSQL restarted (immediate)", lambda s: s.pg.stop("immediate"), lambda s: s.pg.start(), hold=3),
    Scenario(
        "DB latency 200 ms + 1 % resets",
        lambda s: faulty_network(s, True),
        lambda s: faulty_network(s, False),
        hold=8,
    ),
    Scenario(
        "task longer than visibility timeout",
        lambda s: setattr(s.worker_proxy, "latency", 1.0),
        lambda s: setattr(s.worker_proxy, "latency", 0.0),
        hold=16,
    ),
]


def webhook_scenario() -> Scenario:
    webhooks = Webhooks()
    return Scenario(
        "webhook receiver down + Redis empty",
        webhooks.inject,
        webhooks.restore,
        hold=4,
        prepare=webhooks.prepare,
        verify=webhooks.verify,
    )


def run(s: Stack, scenario: Scenario, short: bool) -> Outcome:
    print(f"\n== {scenario.name}", flush=True)
    outcome = Outcome(scenario.name)
    load = Load(s.url, clients=1 if short else 2, items=50, pause=0.1)
    if scenario.prepare is not None:
        scenario.prepare(s, load)
    load.start()
    time.sleep(1 if short else 3)
    log_before = redeliveries(s)
    restarts_before = dict(s.restarts)
    scenario.inject(s)
    time.sleep(scenario.hold)
    scenario.restore(s)
    restored = time.monotonic()
    time.sleep(1 if short else 3)
    load.stop(deadline=time.monotonic() + 200)
    check(outcome, load, timeout=120, restored=restored)
    if scenario.verify is not None:
        scenario.verify(s, load, outcome)
    if scenario.name.startswith("task longer"):
        s.note = f"{redeliveries(s) - log_before} task(s) delivered twice"
    restarted = [f"{name} restarted {s.restarts[name] - count}x" for name, count in restarts_before.items()]
    restarted = [text for text in restarted if not text.endswith(" 0x")]
    outcome.note = "; ".join(note for note in (s.note, *restarted, outcome.note) if note)
    s.note = ""
    print(f"   {outcome}", flush=True)
    return outcome


def print_table(outcomes: list[Outcome]) -> None:
    head = f"{'fault':36} {'accepted':>8} {'lost':>5} {'dup':>5} {'half':>5} {'val≠1':>6} {'retried':>7} {'recover':>8}"
    print("\n" + head + "  client saw / note")
    for o in outcomes:
        print(
            f"{o.fault:36} {o.accepted:>8} {o.lost:>5} {o.duplicated:>5} {o.half_written:>5} {o.validation:>6} "
            f"{o.retried:>7} {o.recover:>7.1f}s  {o.note}"
        )
    print("lost = accepted and not stored; dup = stored twice; half = without exactly one created event;")
    print("val≠1 = not validated exactly once; recover = fault removed -> every registration validated")
    webhooks = [o for o in outcomes if o.events_lost or o.bad_signatures]
    for o in webhooks:
        print(f"{o.fault}: {o.events_lost} webhook event(s) never delivered, {o.bad_signatures} bad signature(s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="shorter load phases, one client (CI)")
    parser.add_argument("--only", help="run only the scenarios whose name contains this text")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="chaos-"))
    started = time.monotonic()
    s = Stack(root)
    try:
        os.environ.update(s.env_direct)
        # The checker's own connection is not pooled: after the PostgreSQL restart it must get a
        # new connection, which a pool of this process held dead (the service's processes keep
        # their pools; what they accepted is what is checked).
        os.environ["DATABASE_POOL_MAX_SIZE"] = "0"
        import django

        django.setup()
        outcomes = [
            run(s, scenario, args.short)
            for scenario in [*SCENARIOS, webhook_scenario()]
            if not args.only or args.only.lower() in scenario.name.lower()
        ]
    finally:
        s.close()
    print_table(outcomes)
    print(f"({time.monotonic() - started:.0f} s)")
    if not all(o.ok for o in outcomes):
        sys.exit(
            "chaos: a scenario lost, duplicated, half-wrote or mis-validated registrations, "
            "or lost a webhook event or sent one with a bad signature"
        )


if __name__ == "__main__":
    main()
