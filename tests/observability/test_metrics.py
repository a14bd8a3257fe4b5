"""/metrics after real SOAP and REST traffic: each metric of docs/operations.md is there with the
labels an operator queries; only Prometheus may read it; and a scrape costs the same few
queries whatever the number of registrations."""

import ipaddress
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from django.db import connection
from django.test.utils import CaptureQueriesContext

from config.observability import collectors
from registrations.domain.vocabulary import Channel
from registrations.models import ClientRole, Registration
from registrations.services.presences import registration_submit_batch
from tests.factories import caller_for, make_client, make_niss, make_workplace_id, presence
from tests.observability.scrape import METRICS_TOKEN, scrape, value
from tests.rest_gateway.conftest import Api, event, new_key, rest_client, token_for
from tests.soap_gateway.conftest import (
    ENDPOINT,
    TimestampedSignature,
    action,
    envelope,
    make_credentials,
    register,
    register_item,
    register_request,
    sign,
)

pytestmark = pytest.mark.django_db(transaction=True)  # validation runs when the call commits

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


@pytest.fixture(autouse=True)
def _metrics_token(settings, monkeypatch):
    settings.METRICS_TOKEN = METRICS_TOKEN
    monkeypatch.setattr(collectors, "_certificate_cache", None)  # this test's clients, not a cached answer


def soap_post(http, data: bytes, operation: str = "registerPresences"):
    soap_action = action(operation)
    return http.generic("POST", ENDPOINT, data=data, content_type="text/xml", HTTP_SOAPACTION=soap_action)


def soap_traffic(http, tmp_path, settings) -> x509.Certificate:
    """A registration (one item stored, one refused with code 3), a fault, an unsigned call, a
    call over the client's rate limit. Returns the client's certificate."""
    credentials = make_credentials(tmp_path, "metrics-soap")
    client = register(credentials)
    settings.SOAP_RATE_LIMIT = "1/minute"
    items = [
        register_item(niss=make_niss(), company=client.enterprise_number, workplace=make_workplace_id()),
        register_item(niss=make_niss(), company="0123456788", workplace=make_workplace_id()),  # bad mod 97
    ]
    signed = sign(envelope(register_request(items)), TimestampedSignature(credentials))
    assert soap_post(http, signed).status_code == 200
    assert soap_post(http, b"<not-xml").status_code == 500  # SOA-03001, operation unknown
    assert soap_post(http, envelope(register_request(items[:1]))).status_code == 500  # unsigned: SOA-01001
    again = sign(envelope(register_request(items[:1])), TimestampedSignature(credentials))
    assert soap_post(http, again).status_code == 429  # over 1/minute
    return x509.load_pem_x509_certificate(credentials.cert_pem.encode())


def rest_traffic(http, key, settings) -> None:
    """A token, a registration (one stored, one refused with code 14), an unknown id (404
    problem), a cancellation of an unknown id (code 7), then calls over the rate limit."""
    settings.REST_RATE_LIMIT = "4/minute"
    api = Api(http, token_for(http, rest_client(key), key))
    response = api.register(event(), event(kind="out"))  # an OUT without an IN: code 14
    assert response.status_code == 200, response.content
    assert api.get("/presenceRegistrations/987654321").status_code == 404
    cancel = api.post("/presenceRegistrations/cancelInBulk", {"items": [{"id": 987654321, "reason": "HOLIDAY"}]})
    assert cancel.status_code == 200, cancel.content
    statuses = [api.get("/refData/remarks").status_code for _ in range(3)]
    assert statuses[-1] == 429


def test_every_metric_is_scraped_with_its_labels_after_soap_and_rest_traffic(client, tmp_path, settings, monkeypatch):
    before = scrape(client)
    certificate = soap_traffic(client, tmp_path, settings)
    rest_traffic(client, new_key(), settings)
    monkeypatch.setattr(collectors, "_certificate_cache", None)  # the first scrape saw no certificate yet
    after = scrape(client)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Requests by gateway, operation and outcome, with their latency histograms.
    assert grew("presence_requests_total", gateway="soap", operation="registerPresences", outcome="success") == 1
    assert grew("presence_requests_total", gateway="soap", operation="unknown", outcome="client_error") == 1
    assert grew("presence_requests_total", gateway="soap", operation="registerPresences", outcome="client_error") == 1
    assert grew("presence_requests_total", gateway="soap", operation="registerPresences", outcome="rate_limited") == 1
    assert grew("presence_requests_total", gateway="rest", operation="oauth-token", outcome="success") == 1
    assert grew("presence_requests_total", gateway="rest", operation="register", outcome="success") == 1
    assert grew("presence_requests_total", gateway="rest", operation="get", outcome="client_error") == 1
    assert grew("presence_requests_total", gateway="rest", operation="cancel", outcome="success") == 1
    assert grew("presence_requests_total", gateway="rest", operation="remarks", outcome="rate_limited") >= 1
    duration = {"gateway": "rest", "operation": "register", "outcome": "success"}
    assert grew("presence_request_duration_seconds_count", **duration) == 1
    assert grew("presence_request_duration_seconds_bucket", **duration, le="+Inf") == 1
    assert grew("presence_request_duration_seconds_sum", **duration) > 0
    # Registrations accepted by sector and channel; item errors by operation, channel and code.
    assert grew("presence_registrations_accepted_total", sector="construction", channel="ws") == 1
    assert grew("presence_registrations_accepted_total", sector="cleaning", channel="rest") == 1
    assert grew("presence_item_errors_total", operation="register", channel="ws", code="3") == 1
    assert grew("presence_item_errors_total", operation="register", channel="rest", code="14") == 1
    assert grew("presence_item_errors_total", operation="cancel", channel="rest", code="7") == 1
    # SOAP faults by code, REST problems by type, rate-limit refusals, tokens.
    assert grew("presence_soap_faults_total", code="SOA-03001") == 1
    assert grew("presence_soap_faults_total", code="SOA-01001") == 1
    assert grew("presence_soap_faults_total", code="SOA-02002") == 1
    assert grew("presence_rest_problems_total", type="resourceNotFound") == 1
    assert grew("presence_rest_problems_total", type="tooManyRequests") >= 1
    assert grew("presence_rate_limit_refusals_total", gateway="soap", operation="registerPresences") == 1
    assert grew("presence_rate_limit_refusals_total", gateway="rest", operation="remarks") >= 1
    assert grew("presence_oauth_tokens_issued_total") == 1
    # Validation (run when each call committed): verdicts, remarks, lag, the task's outcome.
    verdicts = sum(grew("presence_validations_total", kind="validated", status=s) for s in ("validated", "failed"))
    assert verdicts == 2
    # Both registrations name workplaces no register knows: each got remarks.
    assert sum(grew("presence_remarks_total", remark=str(number)) for number in range(1, 19)) >= 2
    assert grew("presence_validation_lag_seconds_count") == 2
    task = "registrations.tasks.validate_registrations"
    assert grew("presence_celery_tasks_total", task=task, outcome="success") == 2
    assert grew("presence_celery_task_duration_seconds_count", task=task) == 2
    # Gauges read at scrape time: the queue, the certificates, the database, their sources.
    assert value(after, "presence_validation_waiting") == 0
    assert value(after, "presence_validation_oldest_waiting_age_seconds") == 0
    expiry = certificate.not_valid_after_utc.timestamp()
    assert value(after, "presence_client_certificate_earliest_expiry_timestamp_seconds") == expiry
    assert value(after, "presence_database_size_bytes") > 0
    assert value(after, "presence_metrics_source_up", source="database") == 1
    if not settings.CELERY_TASK_ALWAYS_EAGER:  # a broker: the PostgreSQL + Redis pass
        assert value(after, "presence_metrics_source_up", source="broker") == 1
        assert ("presence_broker_queue_length", frozenset({("queue", "celery")})) in after


def test_the_waiting_queue_is_measured_from_the_oldest_waiting_registration(client):
    caller = caller_for(make_client(ClientRole.ENTERPRISE))
    items = [presence(caller=caller) for _ in range(3)]
    results = registration_submit_batch(items=items, caller=caller, channel=Channel.WS)
    created = datetime(2026, 1, 1, tzinfo=UTC)
    ids = [result.registration.pk for result in results]
    Registration.objects.filter(pk__in=ids).update(status="registered", created_at=created)
    samples = scrape(client)
    assert value(samples, "presence_validation_waiting") == 3
    age = value(samples, "presence_validation_oldest_waiting_age_seconds")
    assert age >= (datetime.now(UTC) - created).total_seconds() - 60


def test_a_scrape_costs_the_same_queries_whatever_the_number_of_registrations(client, monkeypatch):
    caller = caller_for(make_client(ClientRole.ENTERPRISE))

    def queries_of_a_scrape() -> list[str]:
        monkeypatch.setattr(collectors, "_certificate_cache", None)  # read the certificates each time
        with CaptureQueriesContext(connection) as captured:
            scrape(client)
        return [query["sql"] for query in captured.captured_queries]

    registration_submit_batch(items=[presence(caller=caller)], caller=caller, channel=Channel.WS)
    few = queries_of_a_scrape()
    registration_submit_batch(items=[presence(caller=caller) for _ in range(150)], caller=caller, channel=Channel.WS)
    many = queries_of_a_scrape()
    # 4, and on PostgreSQL one more: the partitions' health (registrations.selectors.partitions).
    assert len(many) == len(few) <= (5 if connection.vendor == "postgresql" else 4)
    counting = [sql for sql in many if sql.upper().startswith("SELECT COUNT(")]
    assert counting
    assert all("LIMIT" in sql.upper() for sql in counting), counting  # capped, never a full count


def test_only_prometheus_may_scrape(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = [ipaddress.ip_network("10.1.0.0/16")]

    def status(**meta) -> int:
        return client.get("/metrics", **meta).status_code

    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"presence_" not in refused.content
    assert status(HTTP_AUTHORIZATION="Bearer wrong-token") == 401
    assert status(HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}x") == 401
    assert status(HTTP_AUTHORIZATION=f"Basic {METRICS_TOKEN}") == 401
    assert status(REMOTE_ADDR="10.2.0.1") == 401
    assert status(REMOTE_ADDR="10.2.0.1", HTTP_X_FORWARDED_FOR="10.1.0.7") == 401  # only the direct peer counts
    assert status(HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}") == 200
    assert status(REMOTE_ADDR="10.1.2.3") == 200
    assert client.post("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 405


def test_no_token_and_no_network_means_no_one(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401


def queried_metric_names() -> set[str]:
    """Every metric of ours that the Grafana dashboard and the alert rules query."""
    dashboard = json.loads((DEPLOY / "grafana" / "presence-registration.json").read_text())
    expressions = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    expressions += [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    return set(re.findall(r"\bpresence_[a-z_]+\b", " ".join(expressions)))


def test_the_dashboard_and_the_alerts_query_only_metrics_the_service_exposes(client, tmp_path, settings, monkeypatch):
    soap_traffic(client, tmp_path, settings)
    rest_traffic(client, new_key(), settings)
    monkeypatch.setattr(collectors, "_certificate_cache", None)
    exposed = {name for name, _ in scrape(client)}
    if settings.CELERY_TASK_ALWAYS_EAGER:  # no broker in the embedded pass: its gauge is absent
        exposed.add("presence_broker_queue_length")
    if connection.vendor != "postgresql":  # the embedded default has no partitions to watch
        exposed |= {"presence_partition_months_ahead", "presence_partition_default_rows"}
    queried = queried_metric_names()
    assert len(queried) >= 15
    assert queried - exposed == set()
