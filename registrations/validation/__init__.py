"""The rule engine (spec §4.2): the registry of remark rules and the set-wise evaluator."""

from registrations.rules.base import REMARKS, Remark, Rule
from registrations.rules.engine import evaluate
from registrations.rules.registry import RULES

__all__ = ["REMARKS", "RULES", "Remark", "Rule", "evaluate"]
