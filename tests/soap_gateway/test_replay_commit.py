"""Authentication's own transaction (the seen signature, "last used") commits without waiting
for the disk on PostgreSQL (issue 14); the replay check stays what it was (bad input 14).

Real transactions, as in production: each request commits its own."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as DjangoClient
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations.models import Client, Registration
from soap_gateway.models import SeenSignature
from tests.factories import make_niss, make_workplace_id
from tests.soap_gateway.conftest import (
    ENDPOINT,
    TimestampedSignature,
    action,
    envelope,
    register_item,
    register_request,
    sign,
)

pytestmark = pytest.mark.postgres


def _signed(client: Client, credentials) -> bytes:
    item = register_item(niss=make_niss(), company=client.enterprise_number, workplace=make_workplace_id())
    return sign(envelope(register_request([item])), TimestampedSignature(credentials))


def _post(data: bytes) -> int:
    try:
        response = DjangoClient().generic(
            "POST",
            ENDPOINT,
            data=data,
            content_type="text/xml; charset=utf-8",
            HTTP_SOAPACTION=action("registerPresences"),
        )
        return response.status_code
    finally:
        connection.close()  # this thread's own connection


def test_a_message_sent_twice_at_once_is_accepted_once(transactional_db, client_a, credentials_a):
    data = _signed(client_a, credentials_a)
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = sorted(pool.map(_post, [data, data]))
    assert statuses == [200, 500]  # the copy is a SOA-01001 fault
    assert Registration.objects.count() == 1
    assert SeenSignature.objects.count() == 1


def test_a_replay_is_refused_and_last_use_is_recorded(transactional_db, client_a, credentials_a):
    Client.objects.filter(pk=client_a.pk).update(last_used_at=timezone.now() - timedelta(hours=1))
    data = _signed(client_a, credentials_a)
    with CaptureQueriesContext(connection) as queries:
        assert (
            DjangoClient()
            .generic("POST", ENDPOINT, data=data, content_type="text/xml", HTTP_SOAPACTION=action("registerPresences"))
            .status_code
            == 200
        )
    assert any("synchronous_commit" in query["sql"] for query in queries.captured_queries)
    client_a.refresh_from_db()
    assert timezone.now() - client_a.last_used_at < timedelta(minutes=1)

    assert _post(data) == 500
    assert Registration.objects.count() == 1


def test_the_registrations_commit_still_waits_for_the_disk(transactional_db, client_a, credentials_a):
    """The setting is the authentication transaction's own: it ends with its commit."""
    data = _signed(client_a, credentials_a)
    assert (
        DjangoClient()
        .generic("POST", ENDPOINT, data=data, content_type="text/xml", HTTP_SOAPACTION=action("registerPresences"))
        .status_code
        == 200
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
