"""The reference facts a batch of registrations needs, loaded set-wise.

`ReferenceFacts.load` runs the same fixed number of queries whatever the batch size; the
rules then only look at these dictionaries. Periods are inclusive; `None` as end = open.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import NamedTuple
from uuid import UUID

from django.db.models import Q

from registrations.domain.authorisation import speaks_for_employer
from registrations.domain.identifiers import is_bis
from registrations.domain.periods import Dimona, Period, covered
from registrations.domain.vocabulary import Status
from registrations.models import (
    DeclarationOfWorks,
    DeclarationParty,
    DimonaPeriod,
    Enterprise,
    EnterpriseFounder,
    LimosaDeclaration,
    Person,
    Registration,
    SelfEmployedPeriod,
)


class EnterpriseFacts(NamedTuple):
    period: Period
    natural_person: bool


class DeclarationFacts(NamedTuple):
    sector: int
    amount: Decimal
    period: Period
    parties: frozenset[str]
    latitude: float | None
    longitude: float | None
    radius_meters: int


class LimosaFacts(NamedTuple):
    niss: str
    period: Period


_IDENTITY_FIELDS = (
    "id",
    "niss",
    "limosa_id",
    "workplace_id",
    "registration_date",
    "enterprise_number",
    "foreign_vat_number",
    "event_type",
    "event_at",
    "sender_id",
    "sender_enterprise_number",
)


def _identity(
    niss: str,
    limosa_id: str,
    workplace_id: str,
    day: date,
    enterprise_number: str,
    foreign_vat_number: str,
    event_type: str,
    event_at: datetime | None,
    sender_id: UUID | None,
    sender_enterprise_number: str,
) -> tuple[object, ...]:
    """What makes two registrations "the same declaration" (remark 14). Always within one
    employer: another employer's registrations never make one a duplicate (spec §8).

    Cleaning: same person, employer, type and minute, within one IN/OUT state keeper
    (docs/adr/0011): a client naming the employer is neither told that the employer sent
    the same event nor makes the employer's event a duplicate."""
    person = niss or f"L{limosa_id}"
    if event_at is not None:
        for_employer = speaks_for_employer(
            sender_id=sender_id, sender_enterprise_number=sender_enterprise_number, enterprise_number=enterprise_number
        )
        keeper = "" if for_employer else str(sender_id)
        minute = event_at.replace(second=0, microsecond=0)
        return (person, enterprise_number, foreign_vat_number, keeper, event_type, minute)
    return (person, workplace_id, day, enterprise_number)


@dataclass
class ReferenceFacts:
    persons: set[str] = field(default_factory=set)
    enterprises: dict[str, EnterpriseFacts] = field(default_factory=dict)
    founders: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    self_employed: dict[str, list[Period]] = field(default_factory=lambda: defaultdict(list))
    dimonas: dict[str, list[Dimona]] = field(default_factory=lambda: defaultdict(list))
    limosa_by_id: dict[str, LimosaFacts] = field(default_factory=dict)
    limosa_by_niss: dict[str, list[Period]] = field(default_factory=lambda: defaultdict(list))
    declarations: dict[str, DeclarationFacts] = field(default_factory=dict)
    # For each registration of the batch: the ids of earlier, not cancelled, identical ones.
    earlier_duplicates: dict[int, list[int]] = field(default_factory=dict)

    @classmethod
    def load(cls, registrations: Sequence[Registration]) -> "ReferenceFacts":
        nisses = {r.niss for r in registrations if r.niss}
        enterprises = {r.enterprise_number for r in registrations if r.enterprise_number}
        limosa_ids = {r.limosa_id for r in registrations if r.limosa_id}
        workplaces = {r.workplace_id for r in registrations}
        facts = cls()
        facts.persons = set(Person.objects.filter(niss__in=nisses).values_list("niss", flat=True))
        for number, start, end, natural in Enterprise.objects.filter(enterprise_number__in=enterprises).values_list(
            "enterprise_number", "active_from", "active_to", "natural_person"
        ):
            facts.enterprises[number] = EnterpriseFacts(Period(start, end), natural)
        for enterprise, niss in EnterpriseFounder.objects.filter(enterprise_id__in=enterprises).values_list(
            "enterprise_id", "niss"
        ):
            facts.founders[enterprise].add(niss)
        for niss, start, end in SelfEmployedPeriod.objects.filter(niss__in=nisses).values_list("niss", "start", "end"):
            facts.self_employed[niss].append(Period(start, end))
        for niss, employer, start, end, worker_type, user_company in DimonaPeriod.objects.filter(
            niss__in=nisses
        ).values_list("niss", "employer", "start", "end", "worker_type", "user_company"):
            facts.dimonas[niss].append(Dimona(employer, Period(start, end), worker_type, user_company))
        facts._load_limosa(limosa_ids, {niss for niss in nisses if is_bis(niss)})
        facts._load_declarations(workplaces)
        facts._load_duplicates(registrations)
        return facts

    def _load_limosa(self, limosa_ids: set[str], bis_numbers: set[str]) -> None:
        rows = LimosaDeclaration.objects.filter(Q(limosa_id__in=limosa_ids) | Q(niss__in=bis_numbers))
        for limosa_id, niss, start, end in rows.values_list("limosa_id", "niss", "start", "end"):
            self.limosa_by_id[limosa_id] = LimosaFacts(niss, Period(start, end))
            if niss:
                self.limosa_by_niss[niss].append(Period(start, end))

    def _load_declarations(self, workplaces: set[str]) -> None:
        parties: dict[str, set[str]] = defaultdict(set)
        for declaration, enterprise in DeclarationParty.objects.filter(declaration_id__in=workplaces).values_list(
            "declaration_id", "enterprise_number"
        ):
            parties[declaration].add(enterprise)
        rows = DeclarationOfWorks.objects.filter(number__in=workplaces).values_list(
            "number", "sector", "amount", "start_date", "end_date", "latitude", "longitude", "radius_meters"
        )
        for number, sector, amount, start, end, latitude, longitude, radius in rows:
            self.declarations[number] = DeclarationFacts(
                sector,
                amount,
                Period(start, end),
                frozenset(parties[number]),
                None if latitude is None else float(latitude),
                None if longitude is None else float(longitude),
                radius,
            )

    def _load_duplicates(self, registrations: Sequence[Registration]) -> None:
        # A duplicate is always the same person on the same day: the (niss, date) and
        # (limosa_id, date) indexes find the few candidates.
        days = {r.registration_date for r in registrations}
        nisses = {r.niss for r in registrations if r.niss}
        limosa_ids = {r.limosa_id for r in registrations if r.limosa_id}
        candidates = (
            Registration.objects.filter(registration_date__in=days)
            .filter(Q(niss__in=nisses) | Q(limosa_id__in=limosa_ids))
            .exclude(status=Status.CANCELLED)
            .values_list(*_IDENTITY_FIELDS)
        )
        by_identity: dict[tuple[object, ...], list[int]] = defaultdict(list)
        for row in candidates:
            by_identity[_identity(*row[1:])].append(row[0])
        for r in registrations:
            same = by_identity.get(
                _identity(
                    r.niss,
                    r.limosa_id,
                    r.workplace_id,
                    r.registration_date,
                    r.enterprise_number,
                    r.foreign_vat_number,
                    r.event_type,
                    r.event_at,
                    r.sender_id,
                    r.sender_enterprise_number,
                ),
                [],
            )
            self.earlier_duplicates[r.pk] = [pk for pk in same if pk < r.pk]

    def dimonas_with(self, niss: str, enterprise: str) -> list[Dimona]:
        return [dimona for dimona in self.dimonas.get(niss, []) if dimona.is_with(enterprise)]

    def is_founder(self, niss: str, enterprise: str) -> bool:
        return niss in self.founders.get(enterprise, set())

    def is_self_employed(self, niss: str, day: date) -> bool:
        return covered(self.self_employed.get(niss, []), day)
