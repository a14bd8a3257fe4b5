"""A person as the operators' console shows them: their National Register entry, their
latest registrations (presences and cleaning events) and the remarks those carry.

Three queries whatever the person's history, each on the (niss, registration_date) index or
the register's primary key. The NISS arrives here from a POSTed form or an opaque URL key
(registrations/admin/guards.py), never from a URL in clear.
"""

from dataclasses import dataclass

from registrations.domain.authorisation import Caller
from registrations.models import Person, Registration
from registrations.selectors.registrations import registrations_visible_to
from registrations.selectors.remarks import remark_counts

LATEST_REGISTRATIONS = 100


@dataclass(frozen=True)
class PersonOverview:
    """`person` is None when the National Register stand-in does not know the NISS (remark
    15). `registrations`: the newest first, at most LATEST_REGISTRATIONS; `more`: whether
    older ones exist. `remarks`: (number, registrations) over all of them."""

    niss: str
    person: Person | None
    registrations: list[Registration]
    more: bool
    remarks: list[tuple[int, int]]

    @property
    def workplace_ids(self) -> list[str]:
        """The workplaces of the registrations shown, each once, most recent first."""
        return list(dict.fromkeys(registration.workplace_id for registration in self.registrations))


def person_overview(*, caller: Caller, niss: str) -> PersonOverview:
    """The console's page of one person, as `caller` may see it (operators see all)."""
    registrations = registrations_visible_to(caller).filter(niss=niss)
    latest = list(
        registrations.select_related("sender").order_by("-registration_date", "-id")[: LATEST_REGISTRATIONS + 1]
    )
    return PersonOverview(
        niss=niss,
        person=Person.objects.filter(niss=niss).first(),
        registrations=latest[:LATEST_REGISTRATIONS],
        more=len(latest) > LATEST_REGISTRATIONS,
        remarks=remark_counts(registrations),
    )
