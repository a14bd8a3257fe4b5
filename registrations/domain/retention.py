"""How long registrations are kept (spec §1: 7 years), for the purge and for what watches it."""

from datetime import date

from django.utils import timezone

RETENTION_YEARS = 7


def retention_cutoff(today: date | None = None) -> date:
    """The first date that is kept: registrations dated before it have expired."""
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year - RETENTION_YEARS)
    except ValueError:  # 29 February: keep the 28th's registrations one day longer
        return today.replace(year=today.year - RETENTION_YEARS, day=28)
