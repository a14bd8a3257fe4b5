"""The request log keeps records REQUEST_LOG_DAYS (default 30), purged daily (beat, and
`run_sweeps` on the embedded default); records are append-only until then."""

import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from config.celery import app as celery_app
from requestlog.models import Channel, RequestLog, RequestLogIsAppendOnlyError
from requestlog.services import CallRecord, request_log_record, request_logs_purge_expired
from requestlog.tasks import purge_expired_request_logs

pytestmark = pytest.mark.django_db


def record_at(days_ago: float, **changes) -> RequestLog:
    values: dict[str, Any] = {
        "ticket": uuid.uuid4(),
        "at": timezone.now() - timedelta(days=days_ago),
        "channel": Channel.REST,
        "client_id": uuid.uuid4(),
        "operation": "listRemarks",
        "path": "/REST/presenceRegistration/v1/refData/remarks",
        "duration_ms": 1.5,
        "http_status": 200,
        "error": "",
        "items": {},
        "request_body": b"",
        "error_body": b"",
    } | changes
    written = request_log_record(record=CallRecord(**values))
    assert written is not None
    return written


def test_the_default_keeps_30_days():
    assert settings.REQUEST_LOG_DAYS == 30


def test_the_purge_deletes_records_older_than_the_retention_and_keeps_the_others(settings):
    settings.REQUEST_LOG_DAYS = 30
    old, young = record_at(30.01), record_at(29.99)

    assert request_logs_purge_expired() == 1

    assert list(RequestLog.objects.values_list("pk", flat=True)) == [young.pk]
    assert not RequestLog.objects.filter(pk=old.pk).exists()


def test_the_retention_is_configurable(settings):
    settings.REQUEST_LOG_DAYS = 2
    record_at(3)
    kept = record_at(1)
    assert purge_expired_request_logs() == 1
    assert list(RequestLog.objects.values_list("pk", flat=True)) == [kept.pk]


def test_beat_purges_once_a_day():
    entry = celery_app.conf.beat_schedule["purge-expired-request-logs"]
    assert entry["task"] == purge_expired_request_logs.name
    assert entry["schedule"] == 86400.0


def test_the_embedded_default_purges_from_run_sweeps():
    record_at(31)
    out = io.StringIO()
    call_command("run_sweeps", "--once", stdout=out)
    assert "request log: 1 records older than REQUEST_LOG_DAYS purged" in out.getvalue()
    assert not RequestLog.objects.exists()


def test_a_record_cannot_be_changed_or_deleted_through_the_orm():
    record = record_at(0)
    record.http_status = 500
    with pytest.raises(RequestLogIsAppendOnlyError):
        record.save()
    with pytest.raises(RequestLogIsAppendOnlyError):
        record.delete()
    with pytest.raises(RequestLogIsAppendOnlyError):
        RequestLog.objects.filter(pk=record.pk).update(http_status=500)
    with pytest.raises(RequestLogIsAppendOnlyError):
        RequestLog.objects.all().delete()


def test_the_database_refuses_to_change_a_record():
    record = record_at(0)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE requestlog_requestlog SET http_status = 500 WHERE id = %s", [record.pk])
    assert RequestLog.objects.get(pk=record.pk).http_status == 200


@pytest.mark.postgres
def test_postgresql_refuses_a_delete_outside_the_purge():
    record = record_at(31)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM requestlog_requestlog WHERE id = %s", [record.pk])
    assert RequestLog.objects.filter(pk=record.pk).exists()
    assert request_logs_purge_expired() == 1


def test_a_long_body_is_cut_after_masking(settings):
    settings.REQUEST_LOG_BODY_MAX_CHARS = 40
    niss = "85073003328"
    record = record_at(0, request_body=(" " * 35 + niss + " tail").encode())
    assert niss[:5] not in record.request_body  # masked first, so the cut keeps no part in clear
    assert record.request_body.startswith(" " * 35 + "niss#")
    assert record.request_body.endswith("more characters not kept]")


def test_a_call_without_a_client_keeps_no_body():
    record = record_at(0, client_id=None, request_body=b'{"items": []}')
    assert record.request_body == ""
