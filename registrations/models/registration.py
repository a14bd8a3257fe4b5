"""The registration aggregate (spec §3.1) and the client registry (the "sender")."""

import uuid
from datetime import timedelta

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from registrations.domain.remarks import remarks_in_mask
from registrations.domain.vocabulary import Channel, CleaningEventType, ClientRole, Sector, Status


class Client(models.Model):
    """A registered integrator: the authenticated sender of registrations (spec §8)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(_("name"), max_length=200)
    enterprise_number = models.CharField(_("enterprise number"), max_length=10)
    role = models.CharField(_("role"), max_length=16, choices=ClientRole.choices)
    certificate_pem = models.TextField(_("certificate (PEM)"), blank=True)
    # SHA-256 of the DER certificate: how a SOAP call's certificate finds its client.
    certificate_fingerprint = models.CharField(
        _("certificate SHA-256"), max_length=64, unique=True, null=True, blank=True
    )
    public_key_pem = models.TextField(_("public key (PEM)"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Every bearer token is stamped with the generation current when it was issued; the
    # client services bump it when a key, the certificate or the active flag changes, which
    # ends every token issued before (docs/adr/0013-token-revocation-and-soap-rate-limit.md).
    token_generation = models.PositiveIntegerField(_("token generation"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    # "<n>/<second|minute|hour|day>", counted on each gateway apart; empty = the gateway's
    # default (REST_RATE_LIMIT, SOAP_RATE_LIMIT).
    rate_limit = models.CharField(
        _("rate limit"),
        max_length=32,
        blank=True,
        help_text=_("Requests per period, e.g. 600/minute. Empty: the default limit."),
    )
    # Sandbox mode only (docs/sandbox.md): moves the client's "now" and "today" for admission
    # and cancellation (registrations.domain.clock); ignored outside sandbox mode.
    clock_offset = models.DurationField(
        _("clock offset (sandbox)"),
        default=timedelta(0),
        help_text=_("Sandbox mode only: 1 00:00:00 is a day ahead, 00:15:00 a quarter of an hour, -00:20:00 behind."),
    )

    class Meta:
        verbose_name = _("integrator client")
        verbose_name_plural = _("integrator clients")
        ordering = ["name"]
        permissions = [("manage_client_keys", _("Can rotate or revoke a client's certificate or key"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.role}, {self.enterprise_number})"


class ClientMandate(models.Model):
    """An enterprise on whose behalf a professional client may consult."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="mandates")
    enterprise_number = models.CharField(_("enterprise number"), max_length=10)

    class Meta:
        verbose_name = _("mandate")
        constraints = [models.UniqueConstraint(fields=["client", "enterprise_number"], name="client_mandate_unique")]

    def __str__(self) -> str:
        return self.enterprise_number


class Registration(models.Model):
    """One presence (construction, meat) or one IN/OUT event (cleaning).

    Keeps what was submitted, exactly as submitted (`submitted`), next to the normalised
    fields the checks and searches use. Writes go through `registrations.services`.
    """

    id = models.BigAutoField(primary_key=True)
    sector = models.PositiveSmallIntegerField(_("sector"), choices=Sector.choices)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    sender = models.ForeignKey(
        Client, on_delete=models.PROTECT, null=True, blank=True, related_name="registrations", verbose_name=_("sender")
    )
    sender_enterprise_number = models.CharField(max_length=10, blank=True)
    sender_role = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(_("created at"))
    registration_date = models.DateField(_("registration date"))

    # The person: a NISS/BIS number, or a Limosa declaration id for posted workers.
    niss = models.CharField(_("NISS"), max_length=11, blank=True)
    limosa_id = models.CharField(_("Limosa id"), max_length=32, blank=True)
    # The employer: a Belgian enterprise number, or a foreign VAT number (cleaning).
    enterprise_number = models.CharField(_("employer"), max_length=10, blank=True)
    foreign_vat_number = models.CharField(_("foreign VAT number"), max_length=32, blank=True)
    workplace_id = models.CharField(_("workplace (Declaration of Works)"), max_length=13)
    client_reference = models.CharField(_("client reference"), max_length=64, blank=True)
    submitted = models.JSONField(_("as submitted"))

    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.REGISTERED)
    # Bit n-1 set = remark n (spec §4.2): searchable with one AND on any database.
    remark_mask = models.BigIntegerField(_("remarks"), default=0)
    validated_at = models.DateTimeField(_("validated at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancellation_reason = models.CharField(_("cancellation reason"), max_length=15, blank=True)

    # Cleaning only.
    event_type = models.CharField(_("cleaning event"), max_length=3, choices=CleaningEventType.choices, blank=True)
    event_at = models.DateTimeField(_("event time"), null=True, blank=True)
    activity = models.CharField(_("activity"), max_length=32, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    # The nearest known address of the coordinates, filled after admission by the worker
    # (registrations.registers.geocoding): {"address": {...}, "distanceMeters": n, "source": "register"},
    # or {"address": None, "source": "geocoder"} when the external geocoder knows no address there.
    place_address = models.JSONField(_("address of the coordinates"), null=True, blank=True)

    # Identifies "the same presence" for one sender: a resend is answered with the
    # registration already stored instead of a second row (see docs/adr/0003).
    dedup_key = models.CharField(max_length=96)

    # An operator's correction is a new registration pointing to the one it corrects
    # (registrations/services/corrections.py). A plain id, not a foreign key: the retention purge
    # may remove the original before its correction.
    corrects_id = models.BigIntegerField(_("corrects registration"), null=True, blank=True)
    # Set by an operator: the retention purge (registrations/services/retention.py) keeps this row.
    legal_hold = models.BooleanField(_("legal hold"), default=False)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        permissions = [
            ("cancel_registration", _("Can cancel a registration")),
            ("revalidate_registration", _("Can re-run the validation of a registration")),
            ("correct_registration", _("Can correct a cleaning event")),
            ("view_dashboard", _("Can see the operators' dashboard")),
            ("view_worker_access", _("Can see who consulted a worker's registrations")),
            ("manage_legal_hold", _("Can set or lift a legal hold")),
        ]
        indexes = [
            models.Index(fields=["enterprise_number", "registration_date"], name="reg_employer_date"),
            models.Index(fields=["niss", "registration_date"], name="reg_niss_date"),
            models.Index(fields=["workplace_id", "registration_date"], name="reg_workplace_date"),
            models.Index(fields=["sender", "registration_date"], name="reg_sender_date"),
            models.Index(fields=["registration_date", "id"], name="reg_date_id"),
            models.Index(fields=["limosa_id", "registration_date"], name="reg_limosa_date"),
            # The operators' list filters by status or sector, newest first (admin).
            models.Index(fields=["status", "id"], name="reg_status_id"),
            models.Index(fields=["sector", "id"], name="reg_sector_id"),
            # The periodic revalidation looks only at recent FAILED registrations.
            models.Index(
                fields=["registration_date"],
                name="reg_failed_date",
                condition=Q(status="failed"),
            ),
            # The outbox sweeper looks only at registrations still waiting for validation.
            models.Index(
                fields=["created_at"],
                name="reg_waiting_validation",
                condition=Q(status="registered"),
            ),
            # The geocoding sweep looks only at coordinates still without an address.
            models.Index(
                fields=["created_at"],
                name="reg_awaiting_address",
                condition=Q(latitude__isnull=False, place_address__isnull=True),
            ),
            # A registration is `edited` when a correction points to it (lifecycle.py): a
            # look-up per row of a search, on the few rows that are corrections.
            models.Index(
                fields=["corrects_id"],
                name="reg_corrects",
                condition=Q(corrects_id__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["sender", "dedup_key"],
                condition=~Q(status="cancelled"),
                name="reg_unique_active_per_sender",
            ),
        ]

    def __str__(self) -> str:
        return gettext("registration %(id)s") % {"id": self.id}

    @property
    def remarks(self) -> list[int]:
        """The remark numbers (1..17), in ascending order."""
        return remarks_in_mask(self.remark_mask)
