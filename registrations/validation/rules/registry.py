"""The enabled rules, in remark order. A rule is switched off for a sector by leaving the
sector out of its `sectors`."""

from registrations.validation.rules import remarks
from registrations.validation.rules.base import Rule

RULES: list[Rule] = [
    remarks.RelatedDimonaNotOk(),
    remarks.GivenInssIsNotTheFounder(),
    remarks.EmployerIsNotKnownAsFounder(),
    remarks.CompanyDoesNotExist(),
    remarks.IndependentIsNotKnownAsFounder(),
    remarks.LimosaIdIsNotKnown(),
    remarks.LimosaIdIsNotActive(),
    remarks.BisIsNotKnownInLimosa(),
    remarks.BisIsNotActiveInLimosa(),
    remarks.DeclarationDoesNotExist(),
    remarks.DeclarationIsNotActive(),
    remarks.NotBuilderOrSubcontractor(),
    remarks.SiteIsNotSubject(),
    remarks.SameDeclarationAlreadyRegistered(),
    remarks.NissNotInNationalRegister(),
    remarks.EmployerNotActive(),
    remarks.NoActiveContract(),
    remarks.OutsideDeclaredRadius(),
]
