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
from registrations.models.registration import (
    CancellationReason,
    Channel,
    CleaningEventType,
    Client,
    ClientMandate,
    ClientRole,
    Registration,
    Sector,
    Status,
)

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
