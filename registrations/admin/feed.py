"""The webhook screens (docs/feed.md): subscriptions, deliveries and the attempt log.

Everything here is read-only but for the actions, which call the feed's services:
disabling and enabling a subscription (administrators), sending deliveries again
(correctors). A subscription disabled because it kept failing is announced on its list and
on the dashboard. Secrets are never shown.
"""

from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from feed.models import Delivery, DeliveryAttempt, Subscription
from feed.services.deliveries import deliveries_redeliver
from feed.services.subscriptions import subscription_disable, subscription_enable
from feed.tasks import hand_off_delivery
from registrations.admin.guards import GuardedAdmin

MAX_ACTION_ROWS = 1000


class _ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class FailingFilter(admin.SimpleListFilter):
    title = _("health")
    parameter_name = "failing"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("failing now")), ("no", _("not failing"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(state=Subscription.State.ACTIVE, failing_since__isnull=False)
        if self.value() == "no":
            return queryset.filter(failing_since__isnull=True)
        return queryset


@admin.register(Subscription)
class SubscriptionAdmin(_ReadOnly, GuardedAdmin[Subscription]):
    list_display = ("id", "client", "target_host", "state", "failing_since", "last_delivered_at", "created_at")
    list_filter = ("state", FailingFilter, "client__role", ("client", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("client",)
    search_fields = ("=id", "=client__id", "client__name", "=client__enterprise_number")
    fields = (
        "id",
        "client",
        "target_url",
        "event_types",
        "workplace_id",
        "state",
        "created_at",
        "failing_since",
        "paused_until",
        "last_delivered_at",
        "disabled_at",
        "disabled_reason",
        "deleted_at",
        "previous_secret_expires_at",
    )
    readonly_fields = fields
    actions = ["disable_selected", "enable_selected"]
    show_full_result_count = False

    @admin.display(description=_("target host"))
    def target_host(self, subscription: Subscription) -> str:
        # The path and query may carry the receiver's own token: the list shows the host.
        try:
            return urlsplit(subscription.target_url).hostname or ""
        except ValueError:
            return ""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        disabled = Subscription.objects.filter(state=Subscription.State.DISABLED).order_by("-disabled_at")
        count = disabled.count()
        if count and request.method == "GET":
            latest = disabled.first()
            reason = latest.disabled_reason if latest is not None else ""
            self.message_user(
                request,
                _t("%(n)d subscription(s) disabled because they kept failing; the latest: %(reason)s")
                % {"n": count, "reason": reason},
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("feed.manage_subscription")

    @admin.action(description=_("Disable"), permissions=["manage"])
    def disable_selected(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        ids = list(queryset.values_list("id", flat=True)[:MAX_ACTION_ROWS])
        reason = _t("disabled by operator %(name)s") % {"name": request.user.get_username()}
        done = sum(subscription_disable(subscription_id=pk, reason=reason) for pk in ids)
        self.message_user(request, _t("%(n)d subscription(s) disabled.") % {"n": done})

    @admin.action(description=_("Enable again"), permissions=["manage"])
    def enable_selected(self, request: HttpRequest, queryset: QuerySet[Subscription]) -> None:
        ids = list(queryset.values_list("id", flat=True)[:MAX_ACTION_ROWS])
        done = sum(subscription_enable(subscription_id=pk) for pk in ids)
        message = _t("%(n)d subscription(s) enabled; they receive the events published from now on.")
        self.message_user(request, message % {"n": done})


class AttemptInline(_ReadOnly, admin.TabularInline[DeliveryAttempt, Delivery]):
    model = DeliveryAttempt
    fk_name = "delivery"
    fields = ("seq", "attempted_at", "outcome", "status_code", "duration_ms", "target_host")
    readonly_fields = fields
    extra = 0
    ordering = ("seq",)


class DeliveryFailingFilter(admin.SimpleListFilter):
    title = _("failing")
    parameter_name = "retrying"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("pending after a failure"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(state=Delivery.State.PENDING, retry_index__gt=0)
        return queryset


@admin.register(Delivery)
class DeliveryAdmin(_ReadOnly, GuardedAdmin[Delivery]):
    list_display = (
        "id",
        "subscription",
        "webhook_id",
        "registration_id",
        "state",
        "attempts",
        "last_status_code",
        "last_outcome",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", DeliveryFailingFilter, "last_outcome")
    list_select_related = ("subscription", "event")
    search_fields = ("=subscription__id", "=subscription__client__id", "=registration_id")
    fields = (*list_display[:1], "event", "created_at", *list_display[1:])
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = ["redeliver_selected"]
    show_full_result_count = False

    @admin.display(description="webhook-id")
    def webhook_id(self, delivery: Delivery) -> str:
        return f"evt_{delivery.event_id}"

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("feed.redeliver_delivery")

    @admin.action(description=_("Redeliver"), permissions=["redeliver"])
    def redeliver_selected(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        rows = list(queryset.values_list("id", "subscription_id")[:MAX_ACTION_ROWS])
        count = deliveries_redeliver(delivery_ids=[pk for pk, _subscription in rows])
        subscriptions = sorted({subscription for _pk, subscription in rows})
        transaction.on_commit(lambda: _hand_off(subscriptions), robust=True)
        self.message_user(
            request, _t("%(n)d delivery(ies) will be sent again (those of active subscriptions).") % {"n": count}
        )


def _hand_off(subscription_ids: list[UUID]) -> None:
    for subscription_id in subscription_ids:
        hand_off_delivery(subscription_id)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(_ReadOnly, GuardedAdmin[DeliveryAttempt]):
    """The attempt log: append-only, even for operators."""

    list_display = ("attempted_at", "subscription_id", "webhook_id", "outcome", "status_code", "duration_ms")
    list_filter = ("outcome",)
    search_fields = ("=subscription_id", "=webhook_id")
    show_full_result_count = False
