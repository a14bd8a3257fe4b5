"""The figures of the operators' dashboard (/admin/dashboard/). Reads only.

Every query is bounded by an index: the last `DAYS` days through (registration_date, id),
the waiting queue through the partial index on registered rows, the lag on a sample of the
latest validations. Nothing counts the whole table.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.db.models import Count, Min
from django.utils import timezone

from registrations.domain.vocabulary import Sector, Status
from registrations.models import Registration
from registrations.selectors.partitions import PartitionHealth, partition_health
from registrations.selectors.remarks import remark_counts

DAYS = 14
LAG_SAMPLE = 5000
TOP_REMARKS = 8


@dataclass(frozen=True)
class DashboardFigures:
    days: list[date]
    per_day_and_sector: dict[date, dict[int, int]]
    statuses: dict[str, int]
    remarks: list[tuple[int, int]]  # (remark number, registrations), most frequent first
    lag_p50: timedelta | None
    lag_p99: timedelta | None
    queue_depth: int
    oldest_waiting: datetime | None
    oldest_waiting_id: int | None
    lag_sample: int = 0
    # PostgreSQL's monthly partitions (docs/adr/0018); None where the tables are not partitioned.
    partitions: PartitionHealth | None = None
    sectors: list[int] = field(default_factory=lambda: [s.value for s in Sector if s != Sector.SECURITY])

    @property
    def validated_share(self) -> float | None:
        decided = self.statuses.get(Status.VALIDATED, 0) + self.statuses.get(Status.FAILED, 0)
        return self.statuses.get(Status.VALIDATED, 0) / decided if decided else None


def _window(today: date) -> list[date]:
    return [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]


def _per_day_and_sector(days: list[date]) -> dict[date, dict[int, int]]:
    rows = (
        Registration.objects.filter(registration_date__range=(days[0], days[-1]))
        .values("registration_date", "sector")
        .annotate(n=Count("id"))
        .order_by()
    )
    table: dict[date, dict[int, int]] = {day: {} for day in days}
    for row in rows:
        table[row["registration_date"]][row["sector"]] = row["n"]
    return table


def _statuses(days: list[date]) -> dict[str, int]:
    rows = (
        Registration.objects.filter(registration_date__range=(days[0], days[-1]))
        .values("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["status"]: row["n"] for row in rows}


def _remarks(days: list[date]) -> list[tuple[int, int]]:
    """The remarks of the window's FAILED registrations (grouped by remark set)."""
    failed = Registration.objects.filter(registration_date__range=(days[0], days[-1]), status=Status.FAILED)
    return remark_counts(failed, top=TOP_REMARKS)


def _percentile(sorted_values: list[timedelta], share: float) -> timedelta | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, int(share * len(sorted_values)))]


def _lags(days: list[date]) -> list[timedelta]:
    """Commit-to-validation times of the latest validations in the window (a sample)."""
    rows = (
        Registration.objects.filter(registration_date__range=(days[0], days[-1]), validated_at__isnull=False)
        .order_by("-registration_date", "-id")
        .values_list("created_at", "validated_at")[:LAG_SAMPLE]
    )
    return sorted(validated - created for created, validated in rows if validated is not None)


def dashboard_figures(*, today: date | None = None) -> DashboardFigures:
    """The dashboard's figures for the last DAYS days (Europe/Brussels) and the queue now."""
    days = _window(today or timezone.localdate())
    lags = _lags(days)
    waiting = Registration.objects.filter(status=Status.REGISTERED)
    queue = waiting.aggregate(n=Count("id"), oldest=Min("created_at"))
    oldest_id = waiting.order_by("created_at").values_list("id", flat=True).first() if queue["n"] else None
    return DashboardFigures(
        days=days,
        per_day_and_sector=_per_day_and_sector(days),
        statuses=_statuses(days),
        remarks=_remarks(days),
        lag_p50=_percentile(lags, 0.50),
        lag_p99=_percentile(lags, 0.99),
        queue_depth=queue["n"],
        oldest_waiting=queue["oldest"],
        oldest_waiting_id=oldest_id,
        lag_sample=len(lags),
        partitions=partition_health(),
    )
