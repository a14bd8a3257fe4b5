"""Bench: REST single check-ins under constant load, over HTTP to gunicorn: the highest rate
(requests/s) at which p99 latency stays within 50 ms and nothing fails.

Open loop: request i is sent at t0 + i/rate whatever the server does, and its latency counts
from that scheduled moment (no coordinated omission). Each step lasts --seconds and sends at
least 200 requests; a rate passes when a step holds (one retry). The rate doubles from 25/s
until it fails, then is bisected three times. One repetition is one
such search; the median of --runs is reported.

Floor: the same load against a minimal Django view doing one INSERT of the same row
(bench/floor_urls.py; no history), served by a second gunicorn with the same settings and
workers. Both servers and the environment are set up by bench/run_all.py (--url, --floor-url).

A connection refused, reset or timed out, or closed without an answer, is the load's failure
(the step does not hold). An answer other than 200 with the stored item is a defect of the
service or the floor and fails the run. A server below the lowest rate (25/s) is a result, a
row saying so: the service's (its target not met), or the floor's (the machine was too busy
for the row to mean anything).
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

import urllib.request
from datetime import date, timedelta

from django.db import connection
from django.utils import timezone

from bench import floor_urls, report, stack
from bench.rest_register import fresh_workplace_id
from registrations.models import Client, ClientRole
from tests.factories import make_enterprise_number
from tests.rest_gateway.conftest import assertion, new_key, public_pem, token_form

API = "/REST/presenceRegistration/v1/presenceRegistrations/registerInBulk"
P99_LIMIT = 0.050
MAX_RATE = 3200
MAX_IN_FLIGHT = 200
MIN_REQUESTS = 200
FAILURES: list[bytes] = []  # answers other than a stored check-in: any fails the run


class WrongAnswerError(report.BenchmarkError):
    """The server answered, but not with a stored check-in: the bench measures nothing."""


def random_niss(rng: random.Random) -> str:
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(14_000))
    base = f"{born:%y%m%d}{rng.randrange(1, 998):03d}"
    return f"{base}{97 - int(base) % 97:02d}"


def check_in(enterprise: str, rng: random.Random) -> dict[str, Any]:
    return {
        "registrationDate": timezone.now().isoformat(),
        "ssin": random_niss(rng),
        "type": "in",
        "employer": {"enterpriseNumber": enterprise},
        "placeOfWork": {"coordinates": {"latitude": 50.846557, "longitude": 4.351697}},
        "contractualRelationshipReference": fresh_workplace_id(),
    }


def http_request(url: str, path: str, body: bytes, token: str) -> bytes:
    host = urlparse(url).netloc
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


async def send(host: str, port: int, request: bytes, scheduled: float, results: list[tuple[float, bool]]) -> None:
    loop = asyncio.get_running_loop()
    ok = False
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(request)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=30)
        writer.close()
        ok = answer.startswith(b"HTTP/1.1 200") and (b"createdPresenceRegistration" in answer or b"stored" in answer)
        if not ok and answer:
            FAILURES.append(answer[-600:])
    except (OSError, TimeoutError):
        ok = False
    results.append((loop.time() - scheduled, ok))


async def step(url: str, requests: list[bytes], rate: float) -> tuple[float, int]:
    """Send `requests` at `rate`/s; return (p99 latency in s, failures)."""
    parsed = urlparse(url)
    loop = asyncio.get_running_loop()
    results: list[tuple[float, bool]] = []
    in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
    start = loop.time() + 0.05

    async def one(request: bytes, scheduled: float) -> None:
        async with in_flight:
            await send(parsed.hostname or "127.0.0.1", parsed.port or 80, request, scheduled, results)

    tasks = []
    for index, request in enumerate(requests):
        scheduled = start + index / rate
        delay = scheduled - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, scheduled)))
    await asyncio.gather(*tasks)
    latencies = sorted(latency for latency, _ in results)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return p99, sum(1 for _, ok in results if not ok)


LOWEST_RATE = 25.0


def highest_rate(url: str, path: str, token: str, enterprise: str, seconds: float, rng: random.Random) -> float:
    """The highest rate whose step keeps p99 <= 50 ms with no failure (0 if even LOWEST_RATE fails)."""

    def attempt(rate: float) -> bool:
        count = max(MIN_REQUESTS, int(rate * seconds))  # enough requests for a meaningful p99
        bodies = [json.dumps({"items": [check_in(enterprise, rng)]}).encode() for _ in range(count)]
        p99, failures = asyncio.run(step(url, [http_request(url, path, b, token) for b in bodies], rate))
        print(f"    {rate:7.0f}/s  p99 {p99 * 1000:7.1f} ms  failures {failures}", flush=True)
        if FAILURES:
            raise WrongAnswerError(f"{url}{path} answered {len(FAILURES)} time(s) wrongly: {FAILURES[0]!r}")
        return failures == 0 and p99 <= P99_LIMIT

    def passes(rate: float) -> bool:
        # A rate is sustainable when a step holds; one retry keeps a lone pause (a checkpoint,
        # the worker's batch on the same cores) from deciding the search.
        return attempt(rate) or attempt(rate)

    warm = [json.dumps({"items": [check_in(enterprise, rng)]}).encode() for _ in range(20)]
    asyncio.run(step(url, [http_request(url, path, b, token) for b in warm], 10.0))  # every worker warm
    if FAILURES:
        raise WrongAnswerError(f"{url}{path} answered wrongly while warming up: {FAILURES[0]!r}")
    good, bad = 0.0, LOWEST_RATE
    while bad <= MAX_RATE and passes(bad):
        good, bad = bad, bad * 2
    if good == 0:
        return 0.0
    for _ in range(3):
        middle = (good + bad) / 2
        good, bad = (middle, bad) if passes(middle) else (good, middle)
    return good


def token_for(url: str) -> tuple[str, str]:
    """A new enterprise client and a Bearer token from gunicorn's token endpoint."""
    key = new_key()
    client = Client.objects.create(
        name="bench-load", enterprise_number=make_enterprise_number(), role=ClientRole.ENTERPRISE,
        public_key_pem=public_pem(key),
    )  # fmt: skip
    audience = f"{url}/REST/oauth/v5/token"
    form = token_form(assertion(key, str(client.pk), aud=audience)).encode()
    request = urllib.request.Request(  # noqa: S310  # loopback URL we were given
        audience, data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read())["access_token"], client.enterprise_number


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--floor-url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="duration of one rate step")
    args = parser.parse_args()
    rng = random.Random(8)
    with connection.cursor() as cursor:
        stack.scratch_copy(cursor, "bench_floor_registration", floor_urls.COLUMNS)
    token, enterprise = token_for(args.url)
    service, floor = [], []
    for run in range(args.runs):
        print(f"  run {run + 1}: service", flush=True)
        service.append(highest_rate(args.url, API, token, enterprise, args.seconds, rng))
        print(f"  run {run + 1}: floor", flush=True)
        floor.append(highest_rate(args.floor_url, "/bench/floor", token, enterprise, args.seconds, rng))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_floor_registration")
    rate, floor_rate = statistics.median(service), statistics.median(floor)
    operation, floor_name = (
        "REST check-in under load (p99 <= 50 ms)",
        "one-INSERT Django view (same settings), its rate",
    )
    target = report.TARGETS["check-in load vs floor view"]
    if rate == 0 or floor_rate == 0:
        row = report.below_range(operation, "requests/s", LOWEST_RATE, floor_name, (rate, floor_rate), target)
    else:
        row = report.result(operation, rate, "requests/s", floor_name, floor_rate, floor_rate / rate, target)
    report.write("checkin_load", [row])


if __name__ == "__main__":
    main()
