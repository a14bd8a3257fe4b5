"""Registrations and their history are partitioned by month of the registration date on
PostgreSQL (docs/adr/0018-partitioning-and-keys.md); this is what the code needs to know of it.

A registration's id carries its month in the high bits: `month << MONTH_SHIFT | sequence`,
where `month` counts months from 2000-01 (= 1). The database assigns it (a BEFORE INSERT
trigger, registrations/migrations/0012); from an id alone a query can name the one month
where the row lives, so that PostgreSQL reads one partition instead of all of them. Ids
without month bits (SQLite, or rows written before the tables were partitioned) name no
month: their queries stay correct, without pruning.
"""

from collections.abc import Iterable
from datetime import date

from django.db.models import Q

MONTH_SHIFT = 40
FIRST_MONTH = date(2000, 1, 1)  # month 1
# Partitions made ahead by pg_partman's maintenance (premake), and the fewest months ahead
# below which the dashboard and the log raise the alarm.
PREMAKE_MONTHS = 4
MONTHS_AHEAD_ALARM = 2
PARTITIONED_TABLES = ("registrations_registration", "history_historyevent")


def month_of_id(registration_id: int) -> tuple[date, date] | None:
    """The month [first day, first day of the next month) a registration id names, if any."""
    month = registration_id >> MONTH_SHIFT
    if month <= 0:
        return None
    years, month_index = divmod(FIRST_MONTH.month - 1 + month - 1, 12)
    first = date(FIRST_MONTH.year + years, month_index + 1, 1)
    after = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, after


def months_of_ids(registration_ids: Iterable[int], date_field: str = "registration_date") -> Q:
    """A filter on `date_field` to the months the ids name (nothing when one of them names none),
    to add to a filter by id so the planner reads only those months' partitions."""
    months = [month_of_id(registration_id) for registration_id in registration_ids]
    if not months or any(month is None for month in months):
        return Q()
    known = [month for month in months if month is not None]
    return Q(**{f"{date_field}__gte": min(first for first, _ in known), f"{date_field}__lt": max(a for _, a in known)})
