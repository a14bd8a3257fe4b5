"""Reference registers (spec §3.3): local stand-ins for the authentic sources validation needs.

Periods are inclusive; an empty end means "still running". Natural keys (NISS, enterprise
number, Limosa id, declaration number) are what imports upsert on.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from registrations.domain.vocabulary import DimonaWorkerType, Sector


class Person(models.Model):
    """A National Register person."""

    niss = models.CharField("NISS", max_length=11, primary_key=True)
    given_name = models.CharField(_("given name"), max_length=100)
    family_name = models.CharField(_("family name"), max_length=100)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)

    class Meta:
        verbose_name = _("National Register person")
        verbose_name_plural = _("National Register persons")

    def __str__(self) -> str:
        return f"{self.family_name} {self.given_name}"


class Enterprise(models.Model):
    enterprise_number = models.CharField(_("enterprise number"), max_length=10, primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    active_from = models.DateField(_("active from"))
    active_to = models.DateField(_("active to"), null=True, blank=True)
    natural_person = models.BooleanField(_("natural person"), default=False)

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")

    def __str__(self) -> str:
        return f"{self.enterprise_number} {self.name}"


class EnterpriseFounder(models.Model):
    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="founders")
    niss = models.CharField("NISS", max_length=11)

    class Meta:
        verbose_name = _("founder")
        constraints = [models.UniqueConstraint(fields=["enterprise", "niss"], name="founder_unique")]
        indexes = [models.Index(fields=["niss"], name="founder_niss")]

    def __str__(self) -> str:
        return f"founder of {self.enterprise_id}"


class SelfEmployedPeriod(models.Model):
    niss = models.CharField("NISS", max_length=11)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"), null=True, blank=True)

    class Meta:
        verbose_name = _("self-employed period")
        verbose_name_plural = _("self-employed periods")
        constraints = [models.UniqueConstraint(fields=["niss", "start"], name="self_employed_unique")]

    def __str__(self) -> str:
        return f"self-employed from {self.start}"


class DimonaPeriod(models.Model):
    """An employment relation. For interim work `employer` is the agency and
    `user_company` the enterprise where the person works."""

    WorkerType = DimonaWorkerType

    employer = models.CharField(_("employer"), max_length=10)
    niss = models.CharField("NISS", max_length=11)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"), null=True, blank=True)
    worker_type = models.CharField(_("worker type"), max_length=16, choices=WorkerType.choices)
    user_company = models.CharField(_("user company"), max_length=10, blank=True)

    class Meta:
        verbose_name = _("Dimona period")
        verbose_name_plural = _("Dimona periods")
        constraints = [
            models.UniqueConstraint(fields=["employer", "niss", "start", "user_company"], name="dimona_unique")
        ]
        indexes = [models.Index(fields=["niss", "employer"], name="dimona_niss_employer")]

    def __str__(self) -> str:
        return f"Dimona {self.employer} from {self.start}"


class LimosaDeclaration(models.Model):
    limosa_id = models.CharField(_("Limosa id"), max_length=32, primary_key=True)
    niss = models.CharField(_("NISS or BIS"), max_length=11, blank=True)
    foreign_employer_vat = models.CharField(_("foreign employer VAT"), max_length=32, blank=True)
    belgian_client = models.CharField(_("Belgian client"), max_length=10, blank=True)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"), null=True, blank=True)

    class Meta:
        verbose_name = _("Limosa declaration")
        verbose_name_plural = _("Limosa declarations")
        indexes = [models.Index(fields=["niss"], name="limosa_niss")]

    def __str__(self) -> str:
        return f"Limosa {self.limosa_id}"


class DeclarationOfWorks(models.Model):
    """A workplace: its number is the SOAP WorkPlaceId / REST contractualRelationshipReference."""

    number = models.CharField(_("number"), max_length=13, primary_key=True)
    sector = models.PositiveSmallIntegerField(_("sector"), choices=Sector.choices)
    amount = models.DecimalField(_("amount excl. VAT (EUR)"), max_digits=14, decimal_places=2)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    builder = models.CharField(_("builder"), max_length=10)
    post_code = models.CharField(_("post code"), max_length=4, blank=True)
    municipality_name = models.CharField(_("municipality"), max_length=100, blank=True)
    street_name = models.CharField(_("street"), max_length=200, blank=True)
    house_number = models.CharField(_("house number"), max_length=16, blank=True)
    box_number = models.CharField(_("box"), max_length=16, blank=True)
    latitude = models.DecimalField(max_digits=8, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    radius_meters = models.PositiveIntegerField(_("radius (m)"), default=150)
    # Set by an operator: the retention purge keeps every registration on this workplace.
    legal_hold = models.BooleanField(_("legal hold"), default=False)

    class Meta:
        verbose_name = _("Declaration of Works")
        verbose_name_plural = _("Declarations of Works")

    def __str__(self) -> str:
        return self.number


class DeclarationParty(models.Model):
    """The builder and each subcontractor of a declaration, one row each, so that "is this
    employer on that workplace" is one indexed look-up."""

    class Role(models.TextChoices):
        BUILDER = "builder", _("builder")
        SUBCONTRACTOR = "subcontractor", _("subcontractor")

    declaration = models.ForeignKey(DeclarationOfWorks, on_delete=models.CASCADE, related_name="parties")
    enterprise_number = models.CharField(_("enterprise number"), max_length=10)
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)

    class Meta:
        verbose_name = _("party")
        constraints = [
            models.UniqueConstraint(fields=["declaration", "enterprise_number", "role"], name="party_unique")
        ]
        indexes = [models.Index(fields=["enterprise_number", "role"], name="party_enterprise")]

    def __str__(self) -> str:
        return f"{self.role} {self.enterprise_number}"
