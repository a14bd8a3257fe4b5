"""A registration the set-wise write path has just stored, as a plain row (no model instance).

The batch services answer their new registrations with these (`ItemResult.registration`),
built from the admitted items and the ids the database returned; the gateways read the same
attributes from them as from a stored `Registration`, so both shapes answer alike.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from registrations.domain.remarks import remarks_in_mask
from registrations.domain.vocabulary import Status


@dataclass(slots=True)
class RegistrationRow:
    """The columns of one new registration; `id` is 0 until the INSERT returned it.

    A new registration has no validation, remarks, cancellation, correction or hold yet: those
    fields keep the defaults the model gives them too.
    """

    sector: int
    channel: str
    sender_id: UUID | None
    sender_enterprise_number: str
    sender_role: str
    created_at: datetime
    registration_date: date
    niss: str
    limosa_id: str
    enterprise_number: str
    foreign_vat_number: str
    workplace_id: str
    client_reference: str
    submitted: dict[str, Any]
    dedup_key: str
    event_type: str = ""
    event_at: datetime | None = None
    activity: str = ""
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    place_address: dict[str, Any] | None = None
    status: str = Status.REGISTERED.value
    remark_mask: int = 0
    validated_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_reason: str = ""
    corrects_id: int | None = None
    legal_hold: bool = False
    id: int = 0

    @property
    def pk(self) -> int:
        return self.id

    @property
    def remarks(self) -> list[int]:
        return remarks_in_mask(self.remark_mask)
