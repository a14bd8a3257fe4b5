"""/health/live and /health/ready, on django-health-check (docs/operations.md).

`live`: the process answers; it touches nothing else, so a database outage never gets a
healthy web process restarted. `ready`: the database answers and is migrated, the broker
answers, and the oldest registration waiting for validation is younger than
HEALTH_VALIDATION_MAX_AGE_SECONDS. Both answer JSON, 200 or 503, whatever the Accept header;
a check's name and message never carry a host name, an address or a credential.

The database checks run in the library's executor threads, each on a connection of its own
that it closes: a probe stuck on an unreachable database then times out (the check's
`timeout`) instead of holding the web worker's thread.
"""

import asyncio
import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.checks import Database
from health_check.contrib.redis import Redis
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView
from redis.asyncio import Redis as AsyncRedis

from registrations.selectors.operations import oldest_waiting_validation

_T = TypeVar("_T")
_TIMEOUT = timedelta(seconds=3)


def _on_own_connection(read: Callable[[], _T]) -> _T:
    """Run a read in this (executor) thread and close the connection it opened."""
    try:
        return read()
    except DatabaseError as exc:
        raise ServiceUnavailable("The database does not answer.") from exc
    finally:
        connections.close_all()  # this thread's connections only


def _database_is_migrated() -> bool:
    executor = MigrationExecutor(connection)
    return not executor.migration_plan(executor.loader.graph.leaf_nodes())


@dataclasses.dataclass
class ProcessAnswers(HealthCheck):  # type: ignore[misc]  # django-health-check has no type information
    """Nothing to do: that the view runs is the answer."""

    async def run(self) -> None:
        return None


@dataclasses.dataclass
class Migrations(HealthCheck):  # type: ignore[misc]  # django-health-check has no type information
    """Every migration of this code is applied (`migrate --check`); a few ms per probe."""

    timeout = _TIMEOUT

    def run(self) -> None:
        if not _on_own_connection(_database_is_migrated):
            raise ServiceUnavailable("The database is not migrated: run manage.py migrate.")


@dataclasses.dataclass
class ValidationQueue(HealthCheck):  # type: ignore[misc]  # django-health-check has no type information
    """The oldest registration waiting for validation is younger than the threshold (one
    read of the partial index on waiting registrations)."""

    timeout = _TIMEOUT

    def run(self) -> None:
        limit = settings.HEALTH_VALIDATION_MAX_AGE_SECONDS
        oldest = _on_own_connection(oldest_waiting_validation)
        if oldest is None:
            return
        age = (timezone.now() - oldest).total_seconds()
        if age > limit:
            raise ServiceUnavailable(
                f"The oldest registration waiting for validation is {age:.0f} s old (limit {limit} s)."
            )


class Broker(Redis):  # type: ignore[misc]  # django-health-check has no type information
    """The Celery broker answers PING; named without its host, port or database."""

    timeout = _TIMEOUT

    def __repr__(self) -> str:
        return "Broker()"

    @property
    def labels(self) -> dict[str, str]:
        return {"check": "Broker"}


def _broker_client() -> AsyncRedis:
    return AsyncRedis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1, socket_timeout=1)


def ready_checks() -> Iterator[HealthCheck]:
    yield Database()
    yield Migrations()
    if not settings.CELERY_TASK_ALWAYS_EAGER:  # the embedded default has no broker to reach
        yield Broker(client_factory=_broker_client)
    if settings.HEALTH_VALIDATION_MAX_AGE_SECONDS:
        yield ValidationQueue()


class _JsonHealthView(HealthCheckView):  # type: ignore[misc]  # django-health-check has no type information
    """JSON, 200 or 503, whatever the client accepts (a probe sends anything or nothing)."""

    async def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        with self.get_executor() as executor:
            self.results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        healthy = not any(result.error for result in self.results)
        body = {repr(result.check): str(result.error) if result.error else "OK" for result in self.results}
        return JsonResponse(body, status=200 if healthy else 503)


class LiveView(_JsonHealthView):
    def get_checks(self) -> Iterator[HealthCheck]:
        yield ProcessAnswers()


class ReadyView(_JsonHealthView):
    def get_checks(self) -> Iterator[HealthCheck]:
        return ready_checks()
