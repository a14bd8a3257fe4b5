"""Periods of the reference registers (inclusive; `None` as end = open) and the employment
relations (Dimona) built on them: what validation and the worker-name rule both ask."""

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

from registrations.domain.vocabulary import DimonaWorkerType


class Period(NamedTuple):
    start: date
    end: date | None

    def covers(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


class Dimona(NamedTuple):
    employer: str
    period: Period
    worker_type: str
    user_company: str

    def is_with(self, enterprise: str) -> bool:
        """A relation with this enterprise: as employer, or as user company of an interim."""
        return self.employer == enterprise or (
            self.worker_type == DimonaWorkerType.INTERIM and self.user_company == enterprise
        )


def covered(periods: Iterable[Period], day: date) -> bool:
    return any(period.covers(day) for period in periods)
