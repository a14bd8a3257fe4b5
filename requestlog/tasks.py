"""Celery adapter of the request log: its daily purge (beat; `run_sweeps` on the embedded default)."""

from celery import shared_task
from django.db import DatabaseError

from requestlog.services import request_logs_purge_expired


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def purge_expired_request_logs() -> int:
    """Records older than REQUEST_LOG_DAYS leave; returns how many."""
    return request_logs_purge_expired()
