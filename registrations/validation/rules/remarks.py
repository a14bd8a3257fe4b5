"""The 17 remark rules of spec §4.2, one small object each (docs/rules.md explains them).

Each rule reads only the batch and its `ReferenceFacts`; none queries the database.
Vocabulary: `employer` = CompanyID (enterprise_number), `day` = the registration date,
a "relation here" = a Dimona with the employer (or an interim Dimona whose user company
is the employer), BIS = a number not in the National Register (month + 20/+ 40).
"""

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import ClassVar

from registrations.domain.identifiers import is_bis
from registrations.domain.periods import covered
from registrations.domain.remarks import REMARKS, Remark
from registrations.domain.vocabulary import Sector
from registrations.models import Registration
from registrations.registers.addresses import distance_m
from registrations.validation.facts import ReferenceFacts
from registrations.validation.rules.base import ALL_SECTORS

# Construction sites are subject above these amounts excl. VAT [public].
THRESHOLD_CHANGE = date(2016, 3, 1)
THRESHOLD_FROM_2016 = Decimal(500_000)
THRESHOLD_BEFORE_2016 = Decimal(800_000)


class BaseRule:
    remark: ClassVar[Remark]
    sectors: ClassVar[frozenset[Sector]] = ALL_SECTORS

    def matches(self, registrations: Iterable[Registration], facts: ReferenceFacts) -> set[int]:
        return {r.pk for r in registrations if self.fires(r, facts)}

    def fires(self, registration: Registration, facts: ReferenceFacts) -> bool:
        raise NotImplementedError


def _employee_without_relation(r: Registration, facts: ReferenceFacts) -> bool:
    """A national number, not founder, not self-employed: it needs a relation here."""
    return (
        bool(r.niss and r.enterprise_number)
        and not is_bis(r.niss)
        and not facts.is_founder(r.niss, r.enterprise_number)
        and not facts.is_self_employed(r.niss, r.registration_date)
    )


class RelatedDimonaNotOk(BaseRule):
    remark = REMARKS[1]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        enterprise = facts.enterprises.get(r.enterprise_number)
        # Natural-person enterprises answer with remarks 2 and 3 instead.
        if enterprise is not None and enterprise.natural_person:
            return False
        return _employee_without_relation(r, facts) and not facts.dimonas_with(r.niss, r.enterprise_number)


class GivenInssIsNotTheFounder(BaseRule):
    remark = REMARKS[2]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        enterprise = facts.enterprises.get(r.enterprise_number)
        return (
            bool(r.niss)
            and enterprise is not None
            and enterprise.natural_person
            and bool(facts.founders.get(r.enterprise_number))
            and not facts.dimonas_with(r.niss, r.enterprise_number)
            and not facts.is_founder(r.niss, r.enterprise_number)
        )


class EmployerIsNotKnownAsFounder(BaseRule):
    remark = REMARKS[3]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        enterprise = facts.enterprises.get(r.enterprise_number)
        return enterprise is not None and enterprise.natural_person and not facts.founders.get(r.enterprise_number)


class CompanyDoesNotExist(BaseRule):
    remark = REMARKS[4]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        return bool(r.enterprise_number) and r.enterprise_number not in facts.enterprises


class IndependentIsNotKnownAsFounder(BaseRule):
    remark = REMARKS[5]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        return (
            bool(r.niss and r.enterprise_number)
            and facts.is_self_employed(r.niss, r.registration_date)
            and not facts.dimonas_with(r.niss, r.enterprise_number)
            and not facts.is_founder(r.niss, r.enterprise_number)
        )


class LimosaIdIsNotKnown(BaseRule):
    remark = REMARKS[6]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        return bool(r.limosa_id) and r.limosa_id not in facts.limosa_by_id


class LimosaIdIsNotActive(BaseRule):
    remark = REMARKS[7]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        declaration = facts.limosa_by_id.get(r.limosa_id) if r.limosa_id else None
        return declaration is not None and not declaration.period.covers(r.registration_date)


def _bis_without_relation(r: Registration, facts: ReferenceFacts) -> bool:
    return bool(r.niss) and is_bis(r.niss) and not facts.dimonas_with(r.niss, r.enterprise_number)


class BisIsNotKnownInLimosa(BaseRule):
    remark = REMARKS[8]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        return _bis_without_relation(r, facts) and not facts.limosa_by_niss.get(r.niss)


class BisIsNotActiveInLimosa(BaseRule):
    remark = REMARKS[9]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        periods = facts.limosa_by_niss.get(r.niss, [])
        return _bis_without_relation(r, facts) and bool(periods) and not covered(periods, r.registration_date)


class DeclarationDoesNotExist(BaseRule):
    remark = REMARKS[10]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        return r.workplace_id not in facts.declarations


class DeclarationIsNotActive(BaseRule):
    remark = REMARKS[11]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        declaration = facts.declarations.get(r.workplace_id)
        return declaration is not None and not declaration.period.covers(r.registration_date)


class NotBuilderOrSubcontractor(BaseRule):
    remark = REMARKS[12]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        declaration = facts.declarations.get(r.workplace_id)
        return declaration is not None and bool(r.enterprise_number) and r.enterprise_number not in declaration.parties


class SiteIsNotSubject(BaseRule):
    remark = REMARKS[13]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        declaration = facts.declarations.get(r.workplace_id)
        if declaration is None:
            return False
        if declaration.sector != r.sector:
            return True
        if r.sector != Sector.CONSTRUCTION:
            return False
        started_before_change = declaration.period.start < THRESHOLD_CHANGE
        threshold = THRESHOLD_BEFORE_2016 if started_before_change else THRESHOLD_FROM_2016
        return declaration.amount < threshold


class SameDeclarationAlreadyRegistered(BaseRule):
    remark = REMARKS[14]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        return bool(facts.earlier_duplicates.get(r.pk))


class NissNotInNationalRegister(BaseRule):
    remark = REMARKS[15]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        return bool(r.niss) and not is_bis(r.niss) and r.niss not in facts.persons


class EmployerNotActive(BaseRule):
    remark = REMARKS[16]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        enterprise = facts.enterprises.get(r.enterprise_number)
        return enterprise is not None and not enterprise.period.covers(r.registration_date)


class NoActiveContract(BaseRule):
    remark = REMARKS[17]

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        if not (r.niss and r.enterprise_number):
            return False
        relations = facts.dimonas_with(r.niss, r.enterprise_number)
        return bool(relations) and not covered((d.period for d in relations), r.registration_date)


class OutsideDeclaredRadius(BaseRule):
    """Cleaning: the event's coordinates are farther from the declaration's than its radius.
    A remark, never a refusal (spec §7): GPS is imprecise indoors."""

    remark = REMARKS[18]
    sectors = frozenset({Sector.CLEANING})

    def fires(self, r: Registration, facts: ReferenceFacts) -> bool:
        declaration = facts.declarations.get(r.workplace_id)
        if declaration is None or declaration.latitude is None or declaration.longitude is None:
            return False
        if r.latitude is None or r.longitude is None:
            return False
        away = distance_m(float(r.latitude), float(r.longitude), declaration.latitude, declaration.longitude)
        return away > declaration.radius_meters
