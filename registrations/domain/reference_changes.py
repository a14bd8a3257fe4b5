"""What a change to the reference registers touches (an import, an operator's edit)."""

from dataclasses import dataclass, field


@dataclass
class ReferenceKeys:
    """What a reference change touches: the identifiers of the registrations it can affect."""

    nisses: set[str] = field(default_factory=set)
    enterprises: set[str] = field(default_factory=set)
    limosa_ids: set[str] = field(default_factory=set)
    workplaces: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.nisses or self.enterprises or self.limosa_ids or self.workplaces)

    def update(self, other: "ReferenceKeys") -> None:
        self.nisses |= other.nisses
        self.enterprises |= other.enterprises
        self.limosa_ids |= other.limosa_ids
        self.workplaces |= other.workplaces
