"""The gauges read at scrape time from the database and the broker (docs/operations.md).

Nothing here is counted in the processes: each scrape asks the core's selectors (the partial
index of waiting registrations, never a full count) and the broker (one LLEN per priority
list). A source that does not answer is reported by `presence_metrics_source_up` and its
gauges are left out, so the counters of the scrape still arrive during an outage.
"""

import logging
import time
from collections.abc import Iterator
from datetime import datetime

import redis
from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily, Metric

from registrations.selectors.operations import (
    earliest_client_certificate_expiry,
    oldest_waiting_validation,
    waiting_validation_count,
)
from registrations.selectors.partitions import partition_health

logger = logging.getLogger(__name__)

# Beyond this many waiting registrations the gauge says "at least": the sweeper's own batch.
WAITING_COUNT_CAP = 100_000
# Certificates change when an operator registers or rotates one: re-read every few minutes.
CERTIFICATE_CACHE_SECONDS = 300
# kombu's Redis transport keeps a queue's messages of priority 3, 6 and 9 in lists of their own.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")

_certificate_cache: tuple[float, datetime | None] | None = None


def _earliest_certificate_expiry() -> datetime | None:
    global _certificate_cache
    now = time.monotonic()
    if _certificate_cache is None or now - _certificate_cache[0] > CERTIFICATE_CACHE_SECONDS:
        _certificate_cache = (now, earliest_client_certificate_expiry())
    return _certificate_cache[1]


def _database_size_bytes() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
        else:
            cursor.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _partition_gauges() -> list[Metric]:
    """PostgreSQL's monthly partitions (docs/adr/0018): none where the tables are not partitioned."""
    health = partition_health()
    if health is None:
        return []
    return [
        _gauge(
            "presence_partition_months_ahead",
            "Whole months after the current one whose partitions exist (registrations and history, the fewer).",
            health.months_ahead,
        ),
        _gauge(
            "presence_partition_default_rows",
            "Rows dated within the retention period in a DEFAULT partition (their month had no partition).",
            health.default_rows,
        ),
    ]


class DomainCollector:
    """Registered on each scrape's own registry (never on the global one, which would collect
    at registration time)."""

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "presence_metrics_source_up",
            "1 if the source answered this scrape (its gauges are then present), 0 if not.",
            labels=["source"],
        )
        try:
            yield from self._database_gauges()
            up.add_metric(["database"], 1)
        except DatabaseError as exc:
            logger.warning("metrics: the database did not answer: %s", type(exc).__name__)
            up.add_metric(["database"], 0)
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            try:
                yield self._broker_gauge()
                up.add_metric(["broker"], 1)
            except redis.RedisError as exc:
                logger.warning("metrics: the broker did not answer: %s", type(exc).__name__)
                up.add_metric(["broker"], 0)
        yield up

    @staticmethod
    def _database_gauges() -> list[Metric]:
        """All read before any is yielded, so a failure leaves out every database gauge."""
        oldest = oldest_waiting_validation()
        age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
        expiry = _earliest_certificate_expiry()
        gauges: list[Metric] = [
            _gauge(
                "presence_validation_waiting",
                f"Registrations waiting for validation (SUCCESSFULLY REGISTERED), counted up to {WAITING_COUNT_CAP}.",
                waiting_validation_count(cap=WAITING_COUNT_CAP),
            ),
            _gauge(
                "presence_validation_oldest_waiting_age_seconds",
                "Age of the oldest registration waiting for validation; 0 when none waits.",
                max(age, 0.0),
            ),
            _gauge("presence_database_size_bytes", "Size of the service's database.", _database_size_bytes()),
        ]
        gauges += _partition_gauges()
        if expiry is not None:
            gauges.append(
                _gauge(
                    "presence_client_certificate_earliest_expiry_timestamp_seconds",
                    "When the first certificate of an active client expires (Unix time).",
                    expiry.timestamp(),
                )
            )
        return gauges

    @staticmethod
    def _broker_gauge() -> Metric:
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)
        try:
            with client.pipeline(transaction=False) as pipeline:
                for suffix in _PRIORITY_SUFFIXES:
                    pipeline.llen(queue + suffix)
                depth = sum(pipeline.execute())
        finally:
            client.close()
        gauge = GaugeMetricFamily(
            "presence_broker_queue_length", "Tasks waiting in the broker's queue for a worker.", labels=["queue"]
        )
        gauge.add_metric([queue], depth)
        return gauge
