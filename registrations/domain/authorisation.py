"""Who is calling, and what they may see and do (spec §8).

Both gateways turn their authenticated client into a `Caller` (`caller_for_client` in
`registrations.selectors.clients` reads its mandates); services and selectors take it as an
argument, so the rules live here once and every adapter inherits them.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from uuid import UUID

from registrations.domain.vocabulary import ClientRole


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
    # Sandbox mode only: how far this client's clock runs ahead (or behind) of the real one
    # for admission and cancellation (registrations.domain.clock). Ignored otherwise.
    clock_offset: timedelta = timedelta(0)

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
