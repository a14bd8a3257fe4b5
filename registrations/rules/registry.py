"""The enabled rules, in remark order. A rule is switched off for a sector by leaving the
sector out of its `sectors`."""

from registrations.rules.base import Rule

RULES: list[Rule] = []
