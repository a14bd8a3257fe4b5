"""The request log in the console (issue 16): every operators' group reads it, filtered by
client, operation, outcome and channel and found by ticket; nobody changes it."""

import importlib
import uuid
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from requestlog.models import Channel, RequestLog
from requestlog.services import CallRecord, request_log_record
from tests.factories import make_client
from tests.operators.conftest import logged_in
from tests.operators.test_niss_not_in_urls import sidebar_links

pytestmark = pytest.mark.django_db

LIST = "/admin/requestlog/requestlog/"
_MIGRATION = importlib.import_module("requestlog.migrations.0002_append_only_and_operator_groups")


@pytest.fixture(autouse=True)
def _groups_read_the_log(viewer, administrator):
    """The groups as the migrations leave them: a flush by a transactional test before this
    one would have removed them, and the operators' fixtures rebuild only migration 0006's."""
    _MIGRATION.grant_view(apps, connection.schema_editor())


def record(client_id=None, **changes) -> RequestLog:
    values = {
        "ticket": uuid.uuid4(),
        "at": timezone.now() - timedelta(minutes=1),
        "channel": Channel.SOAP,
        "client_id": client_id,
        "operation": "registerPresences",
        "path": "/PresenceRegistration/v1",
        "duration_ms": 12.0,
        "http_status": 200,
        "error": "",
        "items": {"created": 1, "replayed": 0, "refused": 0},
        "request_body": b"<INSS>85073003328</INSS>",
        "error_body": b"",
    } | changes
    written = request_log_record(record=CallRecord(**values))
    assert written is not None
    return written


def tickets(response) -> set[str]:
    return {str(row.ticket) for row in response.context["cl"].result_list}


def test_a_viewer_reads_the_log_and_filters_it(viewer):
    alice, bob = make_client(), make_client()
    registered = record(alice.id)
    refused = record(bob.id, operation="cancelPresences", http_status=500, error="SOA-03006")
    http = logged_in(viewer)

    page = http.get(LIST)
    assert page.status_code == 200
    assert tickets(page) == {str(registered.ticket), str(refused.ticket)}
    assert alice.name in page.content.decode()

    assert tickets(http.get(LIST, {"client": str(alice.id)})) == {str(registered.ticket)}
    assert tickets(http.get(LIST, {"operation": "cancelPresences"})) == {str(refused.ticket)}
    assert tickets(http.get(LIST, {"outcome__exact": "error"})) == {str(refused.ticket)}
    assert tickets(http.get(LIST, {"q": str(registered.ticket)})) == {str(registered.ticket)}


def test_a_record_shows_its_body_masked_and_cannot_be_changed(administrator):
    shown = record(make_client().id)
    http = logged_in(administrator)

    page = http.get(f"{LIST}{shown.pk}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "85073003328" not in html
    assert "niss#" in html
    assert 'name="_save"' not in html
    assert http.get(f"{LIST}add/").status_code == 403
    assert http.post(f"{LIST}{shown.pk}/delete/", {"post": "yes"}).status_code == 403
    assert RequestLog.objects.filter(pk=shown.pk).exists()


def test_every_filter_the_sidebar_offers_works_and_the_list_is_guarded(administrator):
    record(make_client().id)
    record(None, channel=Channel.REST, operation="", http_status=404, error="urn:problem-type:belgif:resourceNotFound")
    http = logged_in(administrator)
    links = sidebar_links(http.get(LIST))
    offered = {name for link in links for name in parse_qs(link.lstrip("?"))}
    assert {"client", "operation", "outcome__exact", "channel__exact"} <= offered
    for link in links:
        response = http.get(LIST + link)
        assert response.status_code == 200, link
        assert not response.context["cl"].ignored_filters, link
    assert http.get(LIST, {"request_body__contains": "niss"}).status_code == 400
