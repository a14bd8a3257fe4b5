"""The reference facts a batch of registrations needs, loaded set-wise."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from registrations.models import Registration


@dataclass
class ReferenceFacts:
    @classmethod
    def load(cls, registrations: Sequence["Registration"]) -> "ReferenceFacts":
        return cls()
