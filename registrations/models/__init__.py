"""The tables. The choices they store live in `registrations.domain.vocabulary` and are
re-exported here for the core's convenience."""

from registrations.domain.vocabulary import CancellationReason, Channel, CleaningEventType, ClientRole, Sector, Status
from registrations.models.addresses import Address
from registrations.models.reference import (
    DeclarationOfWorks,
    DeclarationParty,
    DimonaPeriod,
    Enterprise,
    EnterpriseFounder,
    LimosaDeclaration,
    Person,
    SelfEmployedPeriod,
)
from registrations.models.registration import Client, ClientMandate, Registration

__all__ = [
    "Address",
    "CancellationReason",
    "Channel",
    "CleaningEventType",
    "Client",
    "ClientMandate",
    "ClientRole",
    "DeclarationOfWorks",
    "DeclarationParty",
    "DimonaPeriod",
    "Enterprise",
    "EnterpriseFounder",
    "LimosaDeclaration",
    "Person",
    "Registration",
    "Sector",
    "SelfEmployedPeriod",
    "Status",
]
