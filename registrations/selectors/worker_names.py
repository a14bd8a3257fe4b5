"""Workers' names from the National Register, and who may read them (spec §8, docs/adr/0011).

Reading a name is logged (the NISS as its keyed token only), so this selector writes a log
line, never a row.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from config.logging import niss_token
from registrations.domain.authorisation import Caller
from registrations.domain.periods import Dimona, Period, covered
from registrations.models import DimonaPeriod, Person
from registrations.selectors.lifecycle import StoredRegistration

names_log = logging.getLogger("registrations.worker_names")


def cleaning_worker_names(niss_numbers: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(given name, family name) from the National Register, for the numbers it knows."""
    rows = Person.objects.filter(niss__in=set(niss_numbers)).values_list("niss", "given_name", "family_name")
    return {niss: (given, family) for niss, given, family in rows}


def worker_names_shown(*, caller: Caller, registrations: Sequence[StoredRegistration]) -> dict[int, tuple[str, str]]:
    """The worker's (given name, family name) the caller may read, by registration id.

    A registration shows its worker's name only to its Belgian employer's own side (a client
    of it, or a professional it mandated) and only when that employer has a relation with the
    person on its date: a Dimona (as employer, or as user company of an interim). Anyone may
    register any NISS for any employer (docs/adr/0008), so neither naming an employer nor
    naming a foreign one, which has no clients of its own, turns a number into a person
    (docs/adr/0011). Inspection and operators read every name. Each look-up is logged, with
    the NISS as its keyed token only. Two queries at most, whatever the number of
    registrations.
    """
    with_person = [registration for registration in registrations if registration.niss]
    names = cleaning_worker_names(registration.niss for registration in with_person)
    if caller.sees_everything:
        related = with_person
    else:
        related = _related_to_employer([r for r in with_person if caller.acts_for(r.enterprise_number)])
    shown = {registration.pk: names[registration.niss] for registration in related if registration.niss in names}
    if with_person:
        _log_name_lookup(caller, with_person, shown)
    return shown


def _related_to_employer(registrations: Sequence[StoredRegistration]) -> list[StoredRegistration]:
    """The registrations whose Belgian employer has a Dimona relation with the person on their date."""
    if not registrations:
        return []
    dimonas: dict[str, list[Dimona]] = defaultdict(list)
    for niss, employer, start, end, worker_type, user_company in DimonaPeriod.objects.filter(
        niss__in={registration.niss for registration in registrations}
    ).values_list("niss", "employer", "start", "end", "worker_type", "user_company"):
        dimonas[niss].append(Dimona(employer, Period(start, end), worker_type, user_company))
    return [
        registration
        for registration in registrations
        if covered(
            (dimona.period for dimona in dimonas[registration.niss] if dimona.is_with(registration.enterprise_number)),
            registration.registration_date,
        )
    ]


def _log_name_lookup(caller: Caller, registrations: Sequence[StoredRegistration], shown: Mapping[int, object]) -> None:
    """One line per answer: who looked up which workers' names, and which were withheld."""
    outcome: dict[str, list[str]] = {"shown": [], "withheld": []}
    for registration in registrations:
        outcome["shown" if registration.pk in shown else "withheld"].append(
            f"{registration.pk}:{niss_token(registration.niss)}"
        )
    names_log.info(
        "worker names looked up by %s: shown %s, withheld %s", caller.actor, outcome["shown"], outcome["withheld"]
    )
