"""The request log: one row per SOAP or REST call, for the client that made it and the operators
(docs/rest.md, docs/operators.md). Append-only, like the history: rows are never changed, and
leave only through the retention purge (`requestlog.services.request_logs_purge_expired`)."""

from typing import Any, NoReturn

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestLogIsAppendOnlyError(Exception):
    """Raised on any attempt to change or delete a request log record outside the purge."""

    def __init__(self) -> None:
        super().__init__("request log records are append-only: they cannot be changed or deleted")


class Channel(models.TextChoices):
    SOAP = "soap", "SOAP"
    REST = "rest", "REST"


class Outcome(models.TextChoices):
    """How the call ended, as a whole."""

    SUCCESS = "success", _("answered, no item refused")
    ITEM_ERRORS = "itemErrors", _("answered, one or more items refused")
    ERROR = "error", _("refused as a whole (fault or problem)")


class RequestLogQuerySet(models.QuerySet["RequestLog"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise RequestLogIsAppendOnlyError

    def delete(self) -> NoReturn:
        raise RequestLogIsAppendOnlyError


class RequestLog(models.Model):
    """One call: when, who, what, how long, how it ended, and what was sent (NISS masked).

    `ticket` identifies the call: the SOAP fault's Id or the REST problem's `instance` when the
    call was refused, otherwise a fresh id answered in the `Ticket-Id` header. `items` counts the
    item outcomes of a batch: {"created": n, "replayed": n, "cancelled": n, "refused": {"code": n}}.
    """

    id = models.BigAutoField(primary_key=True)
    ticket = models.UUIDField(_("ticket"), unique=True)
    at = models.DateTimeField(_("received at"))
    # No foreign key: the log is about the gateways' traffic and outlives nothing; an unknown
    # or unauthenticated caller has no client (null), and such a record has no body.
    client_id = models.UUIDField(_("client"), null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=4, choices=Channel.choices)
    operation = models.CharField(_("operation"), max_length=64, blank=True)
    path = models.CharField(_("path"), max_length=255)
    duration_ms = models.FloatField(_("duration (ms)"))
    http_status = models.PositiveSmallIntegerField(_("HTTP status"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    error = models.CharField(_("fault code or problem type"), max_length=80, blank=True)
    items = models.JSONField(_("item outcomes"), default=dict, blank=True)
    request_body = models.TextField(_("request (NISS masked)"), blank=True)
    error_body = models.TextField(_("error answered (NISS masked)"), blank=True)

    objects = RequestLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("request log record")
        verbose_name_plural = _("request log")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["client_id", "at"], name="requestlog_client_time"),
            models.Index(fields=["at"], name="requestlog_time"),
            # The console's filter by operation lists the distinct operations from it.
            models.Index(fields=["operation", "at"], name="requestlog_operation_time"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} {self.operation or self.path} at {self.at:%Y-%m-%d %H:%M:%S} ({self.ticket})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise RequestLogIsAppendOnlyError
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise RequestLogIsAppendOnlyError
