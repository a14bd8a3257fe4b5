"""The rule protocol (the remarks themselves are `registrations.domain.remarks`).

A rule is a small, side-effect-free object: given a batch of registrations and the reference
facts loaded for that batch, it says which registrations carry its remark. Rules never query
the database themselves: `ReferenceFacts.load` does, a fixed number of queries per batch.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, ClassVar, Protocol

from registrations.domain.remarks import Remark
from registrations.domain.vocabulary import Sector

if TYPE_CHECKING:
    from registrations.models import Registration
    from registrations.validation.facts import ReferenceFacts


ALL_SECTORS = frozenset(Sector)


class Rule(Protocol):
    remark: ClassVar[Remark]
    sectors: ClassVar[frozenset[Sector]]

    def matches(self, registrations: Iterable["Registration"], facts: "ReferenceFacts") -> set[int]:
        """The ids of the registrations that carry this rule's remark."""
        ...
