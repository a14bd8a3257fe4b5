"""A workplace as the operators' console shows it: its Declaration of Works, who is on site
today, its registrations by day, its remarks and its latest registrations.

A fixed number of queries whatever the workplace's size, each bounded by the
(workplace_id, registration_date) index: the declaration with its parties, the day's
snapshot (shared with inspection), one grouped count per day and status, one grouped count
per remark set, and one page of the latest registrations.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, QuerySet

from registrations.domain.authorisation import Caller
from registrations.domain.vocabulary import Status
from registrations.models import DeclarationOfWorks, DeclarationParty, Registration
from registrations.selectors.inspection import Snapshot, inspection_snapshot
from registrations.selectors.registrations import registrations_visible_to
from registrations.selectors.remarks import remark_counts

WORKPLACE_DAYS = 14
LATEST_REGISTRATIONS = 50


@dataclass(frozen=True)
class DayCount:
    """A day's registrations on the workplace, by stored status."""

    day: date
    by_status: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True)
class WorkplaceOverview:
    """`declaration` is None for a workplace no Declaration of Works describes (remark 10).
    `days`: the last WORKPLACE_DAYS days, newest first, empty days included. `remarks`:
    (number, registrations) over those days, most frequent first. `latest`: the newest
    registrations, at most LATEST_REGISTRATIONS."""

    workplace_id: str
    declaration: DeclarationOfWorks | None
    parties: list[DeclarationParty]
    on_site: Snapshot
    days: list[DayCount]
    remarks: list[tuple[int, int]]
    latest: list[Registration]

    @property
    def first_day(self) -> date:
        return self.days[-1].day

    @property
    def has_registrations(self) -> bool:
        return bool(self.latest)


def workplace_overview(*, caller: Caller, workplace_id: str, today: date, now: datetime) -> WorkplaceOverview:
    """The console's page of one workplace, as `caller` may see it (operators see all).

    `on_site` is the inspection snapshot of `today` (presences, and cleaning INs still
    open); this selector only reads, and an operator's reading is not recorded as a
    consultation (only inspection's are, spec §8).
    """
    first_day = today - timedelta(days=WORKPLACE_DAYS - 1)
    registrations = registrations_visible_to(caller).filter(workplace_id=workplace_id)
    window = registrations.filter(registration_date__range=(first_day, today))
    declaration = DeclarationOfWorks.objects.filter(number=workplace_id).first()
    return WorkplaceOverview(
        workplace_id=workplace_id,
        declaration=declaration,
        parties=list(declaration.parties.order_by("role", "enterprise_number")) if declaration else [],
        on_site=inspection_snapshot(caller=caller, workplace_id=workplace_id, day=today, now=now),
        days=_days(window, first_day, today),
        remarks=remark_counts(window),
        latest=list(
            registrations.select_related("sender").order_by("-registration_date", "-id")[:LATEST_REGISTRATIONS]
        ),
    )


def _days(window: QuerySet[Registration], first_day: date, today: date) -> list[DayCount]:
    rows = window.values("registration_date", "status").annotate(n=Count("id")).order_by()
    counts: dict[date, dict[str, int]] = defaultdict(dict)
    for row in rows:
        counts[row["registration_date"]][row["status"]] = row["n"]
    days = [today - timedelta(days=offset) for offset in range((today - first_day).days + 1)]
    return [DayCount(day, {status: counts[day].get(status, 0) for status in Status.values}) for day in days]
