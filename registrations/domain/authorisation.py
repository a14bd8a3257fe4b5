"""Who is calling, and what they may see and do (spec §8).

Both gateways turn their authenticated identity into a `Caller`; services and selectors take
it as an argument, so the rules live here once and every adapter inherits them.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from uuid import UUID

from django.db.models import F, Q

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

    def acts_for(self, enterprise_number: str) -> bool:
        """Whether the caller is this Belgian employer's own side: a client of it, or a
        professional it mandated. Naming an employer (docs/adr/0008) is not enough."""
        if not enterprise_number:
            return False
        return enterprise_number == self.enterprise_number or enterprise_number in self.mandates


def speaks_for_employer(*, sender_id: UUID | None, sender_enterprise_number: str, enterprise_number: str) -> bool:
    """Whether a stored registration was sent with the employer's authority: by an operator
    (no sender) or by a client of the employer itself. Anything else was sent by a client
    naming the employer, which must neither change nor learn the employer's state (docs/adr/0011)."""
    return sender_id is None or (bool(enterprise_number) and sender_enterprise_number == enterprise_number)


# The same rule as `speaks_for_employer`, as a database filter.
SENT_FOR_EMPLOYER = Q(sender__isnull=True) | (
    ~Q(enterprise_number="") & Q(sender_enterprise_number=F("enterprise_number"))
)
