"""Bench: REST check-ins, end to end, as ratios to floors measured in the same run (speed is
never asserted in tests; it is reported here).

End to end = Django's WSGI handler and middleware (problem details, body cap), Bearer token
lookup, scope check, rate-limit counter, JSON parse, the strict serializers, the cleaning
admission (identifiers, real-time window, dedup query, IN/OUT state query, advisory locks on
PostgreSQL), bulk insert, history events, the validation hand-off after commit, and the
JSON answer. The token is obtained (signed assertion) before timing.

1. A single check-in: `registerInBulk` with one IN. Floor: a minimal Django view, reached
   through the same handler and middleware, doing one INSERT of the same row.
2. A 200-item `registerInBulk`. Floor: psycopg COPY of the same 200 rows (PostgreSQL); on
   SQLite, which has no COPY, one executemany INSERT.

Floors write into a scratch copy of the registrations table, emptied after each call.

3. The request log's cost: the same two calls through the same stack without the request log
   middleware, interleaved with the calls above (`--request-log-runs` pairs each, the record
   written when the response is closed, as a server does; the test client closes it inside the
   timed call). The ratio is with / without; the budget is 1.10.
Run, for example (a database of its own; it is migrated):
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/presence_rest_bench \
    DJANGO_SECRET_KEY=$(openssl rand -hex 32) NISS_HASH_KEY=$(openssl rand -hex 32) \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 REST_CACHE_URL=redis://127.0.0.1:6379/11 \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/rest_register.py --runs 30
Without CELERY_BROKER_URL the validation runs in-process after commit (embedded default).
"""

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.test import Client as HttpClient
from django.test.utils import override_settings
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from bench import stack
from bench.report import paired_medians, require, result, write
from config import urls as project_urls
from config.celery import app as celery_app
from registrations.models import Client, ClientRole
from tests.factories import make_enterprise_number, make_niss
from tests.rest_gateway.conftest import assertion, new_key, public_pem, token_form

API = "/REST/presenceRegistration/v1/presenceRegistrations/registerInBulk"
TABLE = "bench_rest_registration"
COLUMNS = (
    "sector, channel, sender_id, sender_enterprise_number, sender_role, created_at, registration_date, niss, "
    "limosa_id, enterprise_number, foreign_vat_number, workplace_id, client_reference, submitted, status, "
    "remark_mask, cancellation_reason, event_type, event_at, activity, latitude, longitude, dedup_key"
)
PLACEHOLDERS = ", ".join(["%s"] * len(COLUMNS.split(", ")))


def row(item: dict[str, Any], client: Client) -> tuple[Any, ...]:
    """The row a check-in stores, as the floor writes it."""
    coordinates = item["placeOfWork"]["coordinates"]
    at = item["registrationDate"]
    return (
        4,
        "REST",
        str(client.pk),
        client.enterprise_number,
        "enterprise",
        at,
        at[:10],
        item["ssin"],
        "",
        item["employer"]["enterpriseNumber"],
        "",
        item["contractualRelationshipReference"],
        "",
        json.dumps(item),
        "registered",
        0,
        "",
        "IN",
        at,
        "",
        coordinates["latitude"],
        coordinates["longitude"],
        f"C|{item['ssin']}|{item['contractualRelationshipReference']}|IN|{at[:16]}",
    )


@csrf_exempt
def floor_view(request: HttpRequest) -> JsonResponse:
    """The minimal Django view: parse the body, one INSERT, a JSON answer."""
    item = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ({PLACEHOLDERS})", row(item, BENCH_CLIENT))
    return JsonResponse({"stored": 1})


urlpatterns = [*project_urls.urlpatterns, path("bench/floor", floor_view)]
BENCH_CLIENT: Client


def check_in(client: Client) -> dict[str, Any]:
    return {
        "registrationDate": timezone.now().isoformat(),
        "ssin": make_niss(),
        "type": "in",
        "employer": {"enterpriseNumber": client.enterprise_number},
        "placeOfWork": {"coordinates": {"latitude": 50.846557, "longitude": 4.351697}},
        "contractualRelationshipReference": fresh_workplace_id(),
    }


def fresh_workplace_id() -> str:
    """A new place of work per check-in, across runs too: no IN is ever open already."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return "9" + "".join(secrets.choice(alphabet) for _ in range(12))


def copy_floor(items: list[dict[str, Any]], client: Client) -> float:
    rows = [row(item, client) for item in items]
    with connection.cursor() as django_cursor:
        start = time.perf_counter()
        if connection.vendor == "postgresql":
            with django_cursor.cursor.copy(f"COPY {TABLE} ({COLUMNS}) FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
        else:
            django_cursor.executemany(f"INSERT INTO {TABLE} ({COLUMNS}) VALUES ({PLACEHOLDERS})", rows)
        elapsed = time.perf_counter() - start
        django_cursor.execute(f"DELETE FROM {TABLE}")
    return elapsed


def timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def setup() -> tuple[HttpClient, Client, dict[str, Any]]:
    call_command("migrate", verbosity=0)
    settings.ROOT_URLCONF = sys.modules[__name__]
    settings.REST_RATE_LIMIT = "100000000/minute"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {TABLE} (LIKE registrations_registration INCLUDING ALL)")
            stack.give_ids(cursor, TABLE)
            # Columns the model gained after this bench was written: the floor leaves them empty.
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL",
                [TABLE],
            )
            written = set(COLUMNS.split(", ")) | {"id"}
            for (column,) in cursor.fetchall():
                if column not in written:
                    cursor.execute(f'ALTER TABLE {TABLE} ALTER COLUMN "{column}" DROP NOT NULL')
        else:
            cursor.execute(f"CREATE TABLE {TABLE} AS SELECT * FROM registrations_registration WHERE 0")
    key = new_key()
    client = Client.objects.create(
        name="bench",
        enterprise_number=make_enterprise_number(),
        role=ClientRole.ENTERPRISE,
        public_key_pem=public_pem(key),
    )
    http = HttpClient(HTTP_HOST="127.0.0.1")  # an allowed host under the stack's production settings
    audience = "http://127.0.0.1/REST/oauth/v5/token"
    response = http.post(
        "/REST/oauth/v5/token",
        data=token_form(assertion(key, str(client.pk), aud=audience)),
        content_type="application/x-www-form-urlencoded",
    )
    require(response.status_code == 200, response.content)
    return http, client, {"HTTP_AUTHORIZATION": f"Bearer {response.json()['access_token']}"}


def without_request_log() -> HttpClient:
    """A client of the same stack whose handler has no request log middleware."""
    bare = HttpClient(HTTP_HOST="127.0.0.1")
    with override_settings(MIDDLEWARE=[name for name in settings.MIDDLEWARE if not name.endswith("RequestLog")]):
        bare.handler.load_middleware()
    return bare


def request_log_cost(http: HttpClient, auth: dict[str, Any], pairs: int, size: int) -> tuple[float, float]:
    """Ms of `registerInBulk` of `size` check-ins with and without the request log: pairs of
    calls side by side (neither always first), compared pair by pair (`paired_medians`)."""
    bare = without_request_log()
    with_log: list[float] = []
    without_log: list[float] = []
    for index in range(pairs):
        order = [(http, with_log), (bare, without_log)]
        for client, times in order if index % 2 else reversed(order):  # neither always goes first
            body = json.dumps({"items": [check_in(BENCH_CLIENT) for _ in range(size)]})
            start = time.perf_counter()
            response = client.post(API, data=body, content_type="application/json", **auth)
            times.append(time.perf_counter() - start)
            require(response.status_code == 200, response.content[:300])
            require((client is http) == response.has_header("Ticket-Id"), "the log is on, or off")
    logged, bare_ms = paired_medians(with_log, without_log)
    return logged * 1000, bare_ms * 1000


def main() -> None:
    global BENCH_CLIENT
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--request-log-runs", type=int, default=None, help="pairs per size (default: --runs x 4)")
    arguments = parser.parse_args()
    celery_app.conf.task_always_eager = not settings.CELERY_BROKER_URL
    http, BENCH_CLIENT, auth = setup()

    def register(items: list[dict[str, Any]]) -> None:
        response = http.post(API, data=json.dumps({"items": items}), content_type="application/json", **auth)
        require(response.status_code == 200, response.content[:300])
        refused = [item for item in response.json()["items"] if "createdPresenceRegistration" not in item]
        require(not refused, refused[:3])

    def floor_single(item: dict[str, Any]) -> None:
        floor_response = http.post("/bench/floor", data=json.dumps(item), content_type="application/json")
        require(floor_response.status_code == 200, floor_response.content[:300])
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE}")

    single, single_floor, bulk, bulk_floor = [], [], [], []
    for index in range(arguments.warmup + arguments.runs):
        item = check_in(BENCH_CLIENT)
        one = timed(lambda item=item: register([item]))  # type: ignore[misc]
        one_floor = timed(lambda item=item: floor_single(item))  # type: ignore[misc]
        items = [check_in(BENCH_CLIENT) for _ in range(200)]
        many = timed(lambda items=items: register(items))  # type: ignore[misc]
        many_floor = copy_floor(items, BENCH_CLIENT)
        if index >= arguments.warmup:
            single.append(one)
            single_floor.append(one_floor)
            bulk.append(many)
            bulk_floor.append(many_floor)
    pairs = arguments.request_log_runs or arguments.runs * 4
    logged_one, bare_one = request_log_cost(http, auth, pairs, 1)
    logged_many, bare_many = request_log_cost(http, auth, max(1, pairs // 4), 200)
    if settings.CELERY_BROKER_URL:
        celery_app.control.purge()  # no worker consumes the bench's hand-offs
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")

    one, one_floor = statistics.median(single) * 1000, statistics.median(single_floor) * 1000
    many, many_floor = statistics.median(bulk) * 1000, statistics.median(bulk_floor) * 1000
    mode = "broker" if settings.CELERY_BROKER_URL else "in-process validation"
    print(f"{connection.vendor}, {mode}, {arguments.runs} runs (median)")
    print(f"single check-in throughput: {1000 / one:.0f}/s (floor {1000 / one_floor:.0f}/s)")
    bulk_floor_name = "psycopg COPY of the 200 rows" if connection.vendor == "postgresql" else "executemany INSERT"
    write(
        f"rest_register-{connection.vendor}",
        [
            result("registerInBulk, 1 check-in", one, "ms", "Django view, one INSERT", one_floor, one / one_floor),
            result("registerInBulk, 200 check-ins", many, "ms", bulk_floor_name, many_floor, many / many_floor),
            result(
                "registerInBulk, 1 check-in, request log on",
                logged_one,
                "ms",
                "the same call, request log off",
                bare_one,
                logged_one / bare_one,
            ),
            result(
                "registerInBulk, 200 check-ins, request log on",
                logged_many,
                "ms",
                "the same call, request log off",
                bare_many,
                logged_many / bare_many,
            ),
        ],
    )


if __name__ == "__main__":
    main()
