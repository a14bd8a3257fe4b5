"""The request log in the console: every SOAP and REST call, read-only, filtered by client,
operation, outcome and channel, found by ticket (docs/operators.md)."""

from typing import Any

from django.contrib import admin
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from registrations.admin.guards import GuardedAdmin
from registrations.models import Client
from requestlog.models import RequestLog


class ClientFilter(admin.SimpleListFilter):
    title = _("client")
    parameter_name = "client"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(pk), name) for pk, name in Client.objects.order_by("name").values_list("pk", "name")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(client_id=self.value()) if self.value() else queryset


@admin.register(RequestLog)
class RequestLogAdmin(GuardedAdmin[RequestLog]):
    """Read-only: the log is append-only, even for operators; records leave only when the
    daily purge finds them older than REQUEST_LOG_DAYS."""

    list_display = ("at", "ticket", "client_name", "channel", "operation", "http_status", "outcome", "error", "items")
    list_filter = (ClientFilter, ("operation", admin.AllValuesFieldListFilter), "outcome", "channel")
    search_fields = ("=ticket",)
    search_help_text = _("A ticket: the fault's Id, the problem's instance or the Ticket-Id header.")
    date_hierarchy = "at"
    show_full_result_count = False
    ordering = ("-at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[RequestLog]:
        names = Client.objects.filter(pk=OuterRef("client_id")).values("name")[:1]
        return super().get_queryset(request).annotate(client_name=Subquery(names))

    @admin.display(description=_("client"), ordering="client_name")
    def client_name(self, record: RequestLog) -> str:
        name = getattr(record, "client_name", None)
        return str(name) if name else str(record.client_id or "-")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
