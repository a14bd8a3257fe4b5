"""Evaluating every enabled rule over a batch, set-wise."""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from registrations.validation.facts import ReferenceFacts
from registrations.validation.rules.registry import RULES

if TYPE_CHECKING:
    from registrations.models import Registration


def evaluate(registrations: Sequence["Registration"], facts: ReferenceFacts) -> dict[int, int]:
    """The remark mask of each registration (0 = no remark), by id.

    `facts` are the batch's reference facts, loaded once by the caller (`ReferenceFacts.load`:
    a fixed number of queries, whatever the batch size); each rule only looks at them.
    """
    masks = {registration.pk: 0 for registration in registrations}
    for rule in RULES:
        applicable = [r for r in registrations if r.sector in rule.sectors]
        if applicable:
            for registration_id in rule.matches(applicable, facts):
                masks[registration_id] |= rule.remark.bit
    return masks
