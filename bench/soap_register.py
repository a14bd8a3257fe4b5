"""Bench: one 200-item `registerPresences`, end to end, as a ratio to a floor measured in the
same run (speed is never asserted in tests; it is reported here).

End to end = Django's WSGI handler and middleware, the body cap, the hardened parse, the
WS-Security verification (xmlsec), the contract XSD, Spyne's deserialisation, the core
service (admission, dedup query, bulk insert, history events, the validation hand-off after
commit) and the response serialisation. Client-side signing is done before timing.

Two floors, each per call, on the same envelopes (bench/floors.py): the bare floor (a
physical limit: lxml parse of the same envelope + COPY of the same 200 rows into a temporary
table, no history, no WAL) and the durable floor (the parse + one committed transaction
writing, with COPY, the same rows, their `registration.created` events with their hashes and
the events' outbox entries into logged copies of the service's tables with their indexes,
constraints and foreign keys). Issue 14's target is the ratio to the durable floor (≤ 3).

The breakdown times the gateway's own steps inside those same calls, and compares Spyne's
deserialisation with a direct translation of the (already XSD-validated) lxml tree.

The request log's cost: the same call through the same stack without the request log
middleware, interleaved with calls that have it (`--request-log-runs` pairs; the record is
written when the response is closed, which the test client does inside the timed call). The
ratio is with / without; the budget is 1.10.

Rows written (bench/report.py, bench/results/soap_register-*.json): the end-to-end call
against each floor, and the request log's cost. A failed call or floor fails the run.

Needs PostgreSQL (COPY). Run by bench/run_all.py, or, for example:
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/presence_soap_bench \
    DJANGO_SECRET_KEY=$(openssl rand -hex 32) NISS_HASH_KEY=$(openssl rand -hex 32) \
    DJANGO_ALLOWED_HOSTS=127.0.0.1 REST_CACHE_URL=redis://127.0.0.1:6379/11 \
    CELERY_BROKER_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/soap_register.py --runs 20
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
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
from django.test import Client as HttpClient
from django.test.utils import override_settings
from lxml import etree

from bench import floors, report
from bench.report import paired_medians, require
from config.celery import app as celery_app
from registrations import tasks as core_tasks
from registrations.selectors.clients import caller_for_client
from registrations.services import batches as core_batches
from soap_gateway import application, security, xmlio
from soap_gateway import services as soap_services
from soap_gateway import types as t
from soap_gateway.application import ContractOutSoap11, ContractSoap11
from soap_gateway.types import PR
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import (
    TimestampedSignature,
    envelope,
    make_credentials,
    register,
    register_item,
    register_request,
    sign,
    zeep_register_envelope,
)

ITEMS = 200

steps: dict[str, list[float]] = defaultdict(list)


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            steps[name].append(time.perf_counter() - start)

    return wrapper


def instrument() -> list[str]:
    """Time the gateway's steps inside the real calls (patched for good: this process only
    benches). Module functions are patched where their callers look them up. Returns the
    step labels in pipeline order."""
    labels: list[str] = []
    for owner, name, label in (
        (application, "parse_envelope", "parse + DOCTYPE/Body checks"),
        (security, "verify_envelope", "WS-Security verify (xmlsec)"),
        (application, "authenticate", "authenticate (verify + client + replay row)"),
        (ContractSoap11, "validate_body", "contract XSD + SOAPAction"),
        (ContractSoap11, "deserialize", "read request (xmlio)"),
        (soap_services, "registration_submit_batch", "core service (DB, hand-off)"),
        (core_batches, "history_record_many", "  of which: history events"),
        (core_tasks, "enqueue_validation", "  of which: validation hand-off (Redis)"),
        (soap_services, "presence_registration", "build response objects"),
        (ContractOutSoap11, "serialize", "write response (xmlio)"),
        (ContractOutSoap11, "create_out_string", "response to bytes"),
    ):
        setattr(owner, name, timed(label, getattr(owner, name)))
        labels.append(label)
    return labels


def spyne_reference(data: bytes) -> tuple[float, float, float]:
    """Spyne's own reader and writer on the same validated request and a 200-item answer,
    then xmlio's writer on that answer (the gateway replaced Spyne's with xmlio), in seconds."""
    protocol = application_instance().in_protocol
    body = etree.fromstring(data, application.hardened_parser())[1][0]
    descriptor = application_instance().interface.service_method_map[f"{{{PR}}}RegisterPresencesRequest"][0]
    start = time.perf_counter()
    request = protocol.from_element(None, descriptor.in_message, body)
    read_elapsed = time.perf_counter() - start
    answers = [
        t.RegisterPresenceRegistrationResponse(
            PresenceRegistrationError=t.RegisterPresenceRegistrationErrorType(
                PresenceRegistrationSubmitted=item,
                ErrorList=t.RequestErrorType(Error=[t.Error(ErrorCode="5", ErrorDescription="x")]),
            )
        )
        for item in request.PresenceRegistrationRequest
    ]
    start = time.perf_counter()
    parent = etree.Element("parent")
    out_message = descriptor.out_message
    protocol.to_parent(None, out_message, out_message(PresenceRegistrationResponse=answers), parent, PR)
    write_elapsed = time.perf_counter() - start
    start = time.perf_counter()
    xmlio.write_message(etree.Element("parent"), out_message, [answers])
    return read_elapsed, write_elapsed, time.perf_counter() - start


def application_instance() -> Any:
    from soap_gateway.views import _server

    return _server().app


def build_envelopes(count: int, signer: TimestampedSignature, company: str, zeep_style: bool) -> list[bytes]:
    """Signed 200-item requests: compact (namespaces declared once), or exactly as a zeep
    client built from the official WSDL writes them (a namespace declaration per element)."""
    envelopes = []
    for _ in range(count):
        people = [(make_niss(), make_workplace_id()) for _ in range(ITEMS)]
        if zeep_style:
            items = [{"INSS": niss, "CompanyID": int(company), "WorkPlaceId": workplace} for niss, workplace in people]
            envelopes.append(zeep_register_envelope(items, signer))
        else:
            xml_items = [register_item(niss=niss, company=company, workplace=workplace) for niss, workplace in people]
            envelopes.append(sign(envelope(register_request(xml_items)), signer))
    return envelopes


def without_request_log() -> HttpClient:
    """A client of the same stack whose handler has no request log middleware."""
    bare = HttpClient(HTTP_HOST="127.0.0.1")
    with override_settings(MIDDLEWARE=[name for name in settings.MIDDLEWARE if not name.endswith("RequestLog")]):
        bare.handler.load_middleware()
    return bare


def request_log_cost(http: HttpClient, envelopes: list[bytes], action: str) -> tuple[float, float]:
    """Seconds of the call with and without the request log, each on its own signed envelope:
    pairs of calls side by side (neither always first), compared pair by pair (`paired_medians`)."""
    bare = without_request_log()
    with_log: list[float] = []
    without_log: list[float] = []
    for index in range(0, len(envelopes) - 1, 2):
        order = [(http, with_log), (bare, without_log)]
        for (client, times), data in zip(
            order if index % 4 else reversed(order), envelopes[index : index + 2], strict=True
        ):
            start = time.perf_counter()
            response = client.post(
                "/PresenceRegistration/v1", data=data, content_type="text/xml", HTTP_SOAPACTION=action
            )
            times.append(time.perf_counter() - start)
            require(response.status_code == 200, response.content[:500])
            require((client is http) == response.has_header("Ticket-Id"), "the log is on, or off")
    return paired_medians(with_log, without_log)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--zeep-style", action="store_true", help="requests as zeep writes them (larger)")
    parser.add_argument("--request-log-runs", type=int, default=None, help="pairs (default: --runs)")
    arguments = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("the floor uses COPY: set DATABASE_URL to a PostgreSQL database")
    call_command("migrate", verbosity=0)
    celery_app.conf.task_always_eager = False  # publish the hand-off as production does
    credentials = make_credentials(Path(tempfile.mkdtemp()), "bench")
    client = register(credentials)
    sender, actor = floors.Sender(client.id, client.enterprise_number), caller_for_client(client).actor
    database_url = os.environ["DATABASE_URL"]
    floors.create_durable_tables(database_url, floors.SOAP_COLUMNS)
    bare_floor, durable_floor = floors.BareFloor(database_url, floors.SOAP_COLUMNS), floors.DurableFloor(database_url)
    signer = TimestampedSignature(credentials)
    total = arguments.runs + arguments.warmup
    pairs = arguments.request_log_runs or arguments.runs
    envelopes = build_envelopes(total + 2 * pairs, signer, client.enterprise_number, arguments.zeep_style)
    envelopes, logged_envelopes = envelopes[:total], envelopes[total:]
    http = HttpClient(HTTP_HOST="127.0.0.1")  # an allowed host under the stack's production settings
    action = '"http://socialsecurity.be/presenceregistration/v1/registerPresences"'

    labels = instrument()
    end_to_end, bare, durable, spyne_read, spyne_write, xmlio_write = [], [], [], [], [], []
    per_call: dict[str, list[float]] = defaultdict(list)
    for index, data in enumerate(envelopes):
        steps.clear()
        start = time.perf_counter()
        response = http.post("/PresenceRegistration/v1", data=data, content_type="text/xml", HTTP_SOAPACTION=action)
        elapsed = time.perf_counter() - start
        require(response.status_code == 200, response.content[:500])
        require(response.content.count(b"PresenceRegistrationId>") == 2 * ITEMS, response.content[:500])
        bare_elapsed = floors.soap_bare_seconds(bare_floor, data, sender)
        durable_elapsed = floors.soap_durable_seconds(durable_floor, data, sender, actor)
        reference = spyne_reference(data)
        if index >= arguments.warmup:
            end_to_end.append(elapsed)
            bare.append(bare_elapsed)
            durable.append(durable_elapsed)
            spyne_read.append(reference[0])
            spyne_write.append(reference[1])
            xmlio_write.append(reference[2])
            for name, values in steps.items():
                per_call[name].append(sum(values))

    steps.clear()
    logged, unlogged = request_log_cost(http, logged_envelopes, action)
    bare_floor.close()
    durable_floor.close()
    floors.drop_durable_tables(database_url)

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:7.2f} ms"

    print(f"registerPresences, {ITEMS} items, {arguments.runs} runs (median), request {len(envelopes[0])} bytes")
    print(f"  end to end            {ms(end_to_end)}")
    print("  breakdown (per call; authenticate includes verify, service includes nothing of Spyne):")
    for name in labels:
        print(f"    {name:45s} {ms(per_call[name])}")
    celery_app.control.purge()  # no worker consumes the bench's hand-offs
    print("  same 200 items, Spyne's own reader/writer (replaced) vs xmlio:")
    print(f"    read request   Spyne {ms(spyne_read)}  xmlio {ms(per_call['read request (xmlio)'])}")
    print(f"    write 200 item errors  Spyne {ms(spyne_write)}  xmlio {ms(xmlio_write)}")
    write_results(statistics.median(end_to_end), statistics.median(bare), statistics.median(durable), logged, unlogged)


def write_results(call: float, bare: float, durable: float, logged: float, unlogged: float) -> None:
    """The bench's rows (seconds in, milliseconds out)."""
    operation = f"SOAP registerPresences {ITEMS} items, in-process"
    target = report.TARGETS["soap in-process vs durable"]
    report.write(
        "soap_register",
        [
            report.result(operation, call * 1000, "ms", floors.BARE_SOAP, bare * 1000, call / bare),
            report.result(operation, call * 1000, "ms", floors.DURABLE_SOAP, durable * 1000, call / durable, target),
            report.result(
                f"{operation}, request log on",
                logged * 1000,
                "ms",
                "the same call, request log off",
                unlogged * 1000,
                logged / unlogged,
                report.TARGETS["request log"],
            ),
        ],
    )


if __name__ == "__main__":
    main()
