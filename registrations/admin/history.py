from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from history.models import HistoryEvent, PurgeRecord
from registrations.admin.guards import GuardedAdmin


@admin.register(HistoryEvent)
class HistoryEventAdmin(GuardedAdmin[HistoryEvent]):
    """Read-only: the history is append-only, even for operators."""

    list_display = ("registration_id", "seq", "event_type", "occurred_at", "actor", "channel")
    list_filter = ("event_type", "channel")
    search_fields = ("=registration__id",)
    show_full_result_count = False
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PurgeRecord)
class PurgeRecordAdmin(GuardedAdmin[PurgeRecord]):
    """The retention purge log: read-only for everyone, like the history it replaces."""

    list_display = ("performed_at", "actor", "cutoff", "registrations_deleted", "events_deleted", "held")
    ordering = ("-performed_at",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
