"""Reading the request log: a client reads its own calls only (another client's answer as
unknown ones do); operators read everything in the console."""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from django.db.models import QuerySet

from requestlog.models import Outcome, RequestLog


@dataclass(frozen=True)
class RequestLogFilter:
    """`since` and `until` inclusive; None = no bound. `operation` and `outcome` exact."""

    since: datetime | None = None
    until: datetime | None = None
    operation: str | None = None
    outcome: Outcome | None = None


def _of_client(client_id: UUID) -> QuerySet[RequestLog]:
    return RequestLog.objects.filter(client_id=client_id)


def request_logs_of_client(
    *, client_id: UUID, search: RequestLogFilter, first_row: int = 0, fetch_size: int = 50
) -> tuple[list[RequestLog], int]:
    """A page of the client's calls, newest first, without their bodies; and how many match."""
    found = _of_client(client_id)
    if search.since is not None:
        found = found.filter(at__gte=search.since)
    if search.until is not None:
        found = found.filter(at__lte=search.until)
    if search.operation is not None:
        found = found.filter(operation=search.operation)
    if search.outcome is not None:
        found = found.filter(outcome=search.outcome)
    page = list(found.defer("request_body", "error_body").order_by("-at", "-id")[first_row : first_row + fetch_size])
    return page, found.count()


def request_log_of_client(*, client_id: UUID, ticket: UUID) -> RequestLog | None:
    """One of the client's calls by its ticket, bodies included; None for another client's
    call exactly as for an unknown ticket."""
    return _of_client(client_id).filter(ticket=ticket).first()
