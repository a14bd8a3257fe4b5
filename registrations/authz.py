"""Who is calling, and what they may see and do (spec §8).

Both gateways turn their authenticated identity into a `Caller`; services and selectors take
it as an argument, so the rules live here once and every adapter inherits them.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from registrations.models import Client, ClientRole


class CallerRole(StrEnum):
    ENTERPRISE = ClientRole.ENTERPRISE.value
    PROFESSIONAL = ClientRole.PROFESSIONAL.value
    INSPECTION = ClientRole.INSPECTION.value
    OPERATOR = "operator"


@dataclass(frozen=True)
class Caller:
    role: CallerRole
    actor: str  # recorded in history: "client:<uuid>" or "operator:<username>"
    client_id: UUID | None = None
    enterprise_number: str = ""
    mandates: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_client(cls, client: Client) -> "Caller":
        mandates: frozenset[str] = frozenset()
        if client.role == ClientRole.PROFESSIONAL:
            mandates = frozenset(client.mandates.values_list("enterprise_number", flat=True))
        return cls(
            role=CallerRole(client.role),
            actor=f"client:{client.id}",
            client_id=client.id,
            enterprise_number=client.enterprise_number,
            mandates=mandates,
        )

    @classmethod
    def for_operator(cls, username: str) -> "Caller":
        return cls(role=CallerRole.OPERATOR, actor=f"operator:{username}")

    @property
    def may_register(self) -> bool:
        return self.role in (CallerRole.ENTERPRISE, CallerRole.OPERATOR)

    @property
    def sees_everything(self) -> bool:
        return self.role in (CallerRole.INSPECTION, CallerRole.OPERATOR)

    @property
    def consultations_are_logged(self) -> bool:
        return self.role == CallerRole.INSPECTION
