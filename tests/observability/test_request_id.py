"""The request id: the ticket a client sees (X-Request-ID, a SOAP fault's Id, a REST problem's
instance), on every log line of the call, in JSON when LOG_FORMAT=json, and on the lines of the
task that validates what the call registered, in-process or in a real worker. No NISS in clear."""

import io
import json
import logging
import logging.config
import re
import time
import uuid
from typing import Any

import pytest
from django.conf import settings as django_settings

from config.logging import build_logging, niss_token
from tests.conftest import use_broker
from tests.factories import make_niss, make_workplace_id
from tests.rest_gateway.conftest import API, Api, event, new_key, rest_client, token_for
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


@pytest.fixture
def json_log():
    """The service's logging with LOG_FORMAT=json, its console captured."""
    logging.config.dictConfig(build_logging("INFO", "json"))
    [handler] = logging.getLogger().handlers
    stream = io.StringIO()
    handler.setStream(stream)
    yield stream
    logging.config.dictConfig(django_settings.LOGGING)


def lines_of(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]  # one object per line, each valid


def test_every_answer_carries_a_fresh_request_id_of_ours(client):
    first = client.get("/health/live", HTTP_X_REQUEST_ID="chosen-by-the-client")
    second = client.get("/health/live")
    assert uuid.UUID(first["X-Request-ID"]) != uuid.UUID(second["X-Request-ID"])


def test_a_soap_fault_ticket_is_the_request_id(client):
    response = client.generic("POST", ENDPOINT, data=b"<not-xml", content_type="text/xml")
    [ticket] = re.findall(rb'Id="([0-9a-f-]{36})"', response.content)
    assert ticket.decode() == response["X-Request-ID"]


@pytest.mark.django_db
def test_a_rest_problem_instance_is_the_request_id(client):
    response = client.get(API + "/noSuchResource")
    assert response.status_code == 404
    assert response.json()["instance"] == f"urn:uuid:{response['X-Request-ID']}"


@pytest.mark.django_db(transaction=True)
def test_a_soap_call_and_its_validation_log_json_lines_sharing_the_request_id(client, tmp_path, json_log):
    credentials = make_credentials(tmp_path, "json-log")
    soap_client = register(credentials)
    niss = make_niss()
    item = register_item(niss=niss, company=soap_client.enterprise_number, workplace=make_workplace_id())
    signed = sign(envelope(register_request([item])), TimestampedSignature(credentials))
    response = client.generic(
        "POST", ENDPOINT, data=signed, content_type="text/xml", HTTP_SOAPACTION=action("registerPresences")
    )
    assert response.status_code == 200
    # Validated in this process once the call committed (the embedded default, no worker).
    careless = client.get(f"{API}/presenceRegistrations/{niss}")  # a NISS in a URL, no token

    lines = lines_of(json_log)
    request_id = response["X-Request-ID"]
    mine = [line for line in lines if line["request_id"] == request_id]
    messages = [line["message"] for line in mine]
    assert "soap registerPresences success: HTTP 200 in" in messages[-1]
    assert any(message.startswith("validated 1 of 1 registrations") for message in messages)
    assert {"time", "level", "logger", "message", "request_id", "process"} <= set(mine[0])
    assert mine[0]["time"].endswith("+00:00")  # ISO 8601, UTC
    # Django's own line for the refusal, written once the middleware is done, has its id too.
    [refusal] = [line for line in lines if line["logger"] == "django.request"]
    assert refusal["request_id"] == careless["X-Request-ID"]
    assert refusal["message"] == f"Unauthorized: {API}/presenceRegistrations/{niss_token(niss)}"
    assert niss not in json_log.getvalue()


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_rest_call_and_its_validation_by_a_real_worker_share_the_request_id(
    client, own_redis, real_broker, start_worker, tmp_path, json_log
):
    use_broker(own_redis.url)
    start_worker(own_redis.url, LOG_FORMAT="json")
    key = new_key()
    api = Api(client, token_for(client, rest_client(key), key))
    ssin = make_niss()
    response = api.register(event(ssin=ssin))
    assert response.status_code == 200, response.content
    request_id = response["X-Request-ID"]
    [registration_id] = [item["createdPresenceRegistration"]["id"] for item in response.json()["items"]]

    worker_log = tmp_path / "worker-1.log"
    # A worker starting on a busy machine may take a while: wait for its line, not a fixed time.
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and f"registrations [{registration_id}]" not in worker_log.read_text():
        time.sleep(0.2)
    worker_lines = [json.loads(line) for line in worker_log.read_text().splitlines() if line.startswith("{")]
    [validation] = [line for line in worker_lines if line["message"].startswith("validated ")]
    assert validation["message"] == f"validated 1 of 1 registrations [{registration_id}]"
    assert validation["request_id"] == request_id  # one grep finds the call and its validation
    [call] = [line for line in lines_of(json_log) if line["logger"] == "presence.requests"][-1:]
    assert call["request_id"] == request_id
    assert ssin not in worker_log.read_text() + json_log.getvalue()
