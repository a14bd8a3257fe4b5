"""The contract's vocabulary: the choices stored on registrations, clients and registers.

Plain Django choices (no model, no query), so every layer and both gateways may use them;
`registrations.models` stores them and re-exports them for the core's convenience.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sector(models.IntegerChoices):
    CONSTRUCTION = 1, _("construction")
    SECURITY = 2, _("security / guarding")  # exists in the contract, unused
    MEAT = 3, _("meat")
    CLEANING = 4, _("cleaning")


class Channel(models.TextChoices):
    WS = "WS", _("SOAP web service")
    REST = "REST", _("REST API")
    ADMIN = "ADMIN", _("operators' console")


class Status(models.TextChoices):
    """Stored as short words; the labels are the contract's spellings (SOAP)."""

    REGISTERED = "registered", "SUCCESSFULLY REGISTERED"
    VALIDATED = "validated", "VALIDATED"
    FAILED = "failed", "FAILED"
    CANCELLED = "cancelled", "SUCCESSFULLY CANCELLED"


class CancellationReason(models.TextChoices):
    HOLIDAY = "HOLIDAY", _("holiday")
    DISEASE = "DISEASE", _("illness")
    PLANNING = "PLANNING", _("change of planning")
    C32A = "C32A", _("temporary unemployment (C3.2A)")


class CleaningEventType(models.TextChoices):
    """Cleaning events: IN when work starts, OUT when it stops."""

    IN = "IN", _("IN (start of work)")
    OUT = "OUT", _("OUT (end of work)")


class ClientRole(models.TextChoices):
    ENTERPRISE = "enterprise", _("enterprise")
    PROFESSIONAL = "professional", _("professional (social secretariat)")
    INSPECTION = "inspection", _("inspection")


class DimonaWorkerType(models.TextChoices):
    """How a Dimona relation employs the person; for interim work the user company is where they work."""

    EMPLOYEE = "employee", _("employee")
    INTERIM = "interim", _("interim")
    STUDENT = "student", _("student")
    TRAINEE = "trainee", _("trainee")
    FLEXI = "flexi", _("flexi-job")
