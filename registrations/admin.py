"""The operators' console for registrations, clients and reference registers."""

from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from history.selectors import history_for_registration
from registrations.models import (
    Client,
    ClientMandate,
    DeclarationOfWorks,
    DeclarationParty,
    DimonaPeriod,
    Enterprise,
    EnterpriseFounder,
    LimosaDeclaration,
    Person,
    Registration,
    SelfEmployedPeriod,
)
from registrations.reference import declaration_sync_builder
from registrations.revalidation import ReferenceKeys, reference_changed

M = TypeVar("M", bound=Model)


class ReadOnlyAdminMixin:
    """Rows written only through services: operators look, they do not edit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RevalidatingAdmin(admin.ModelAdmin[M], Generic[M]):
    """A reference register screen: every save or delete revalidates what it can affect."""

    def revalidation_keys(self, obj: M) -> ReferenceKeys:
        raise NotImplementedError

    def save_model(self, request: HttpRequest, obj: M, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        reference_changed(self.revalidation_keys(obj))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # founders, parties
        reference_changed(self.revalidation_keys(form.instance))

    def delete_model(self, request: HttpRequest, obj: M) -> None:
        keys = self.revalidation_keys(obj)
        super().delete_model(request, obj)
        reference_changed(keys)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        keys = ReferenceKeys()
        for obj in queryset:
            keys.update(self.revalidation_keys(obj))
        super().delete_queryset(request, queryset)
        reference_changed(keys)


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin[Registration]):
    list_display = (
        "id",
        "registration_date",
        "sector",
        "status",
        "channel",
        "enterprise_number",
        "workplace_id",
        "sender",
        "created_at",
    )
    list_filter = ("sector", "status", "channel", "registration_date")
    list_select_related = ("sender",)
    # Exact matches only: each hits one of the (identifier, date) indexes.
    search_fields = ("=id", "=niss", "=enterprise_number", "=workplace_id", "=limosa_id")
    search_help_text = _("Exact registration id, NISS, enterprise number, workplace or Limosa id")
    date_hierarchy = "registration_date"
    show_full_result_count = False
    ordering = ("-id",)
    readonly_fields = ("history_table",)
    exclude = ("dedup_key",)

    @admin.display(description=_("history"))
    def history_table(self, registration: Registration) -> str:
        rows = [
            (event.seq, event.occurred_at, event.event_type, event.actor, event.channel, event.data)
            for event in history_for_registration(registration_id=registration.pk)
        ]
        return format_html_join("\n", "<div>#{} {} <b>{}</b> by {} via {} — {}</div>", rows)


class ClientMandateInline(admin.TabularInline[ClientMandate, Client]):
    model = ClientMandate
    extra = 0


@admin.register(Client)
class ClientAdmin(admin.ModelAdmin[Client]):
    list_display = ("name", "id", "role", "enterprise_number", "is_active", "last_used_at")
    list_filter = ("role", "is_active")
    search_fields = ("name", "=enterprise_number", "=id")
    readonly_fields = ("id", "certificate_fingerprint", "created_at", "last_used_at")
    inlines = [ClientMandateInline]


@admin.register(Person)
class PersonAdmin(RevalidatingAdmin[Person]):
    list_display = ("niss", "family_name", "given_name", "birth_date")
    search_fields = ("=niss", "family_name")
    show_full_result_count = False

    def revalidation_keys(self, obj: Person) -> ReferenceKeys:
        return ReferenceKeys(nisses={obj.niss})


class EnterpriseFounderInline(admin.TabularInline[EnterpriseFounder, Enterprise]):
    model = EnterpriseFounder
    extra = 0


@admin.register(Enterprise)
class EnterpriseAdmin(RevalidatingAdmin[Enterprise]):
    list_display = ("enterprise_number", "name", "active_from", "active_to", "natural_person")
    list_filter = ("natural_person",)
    search_fields = ("=enterprise_number", "name")
    inlines = [EnterpriseFounderInline]
    show_full_result_count = False

    def revalidation_keys(self, obj: Enterprise) -> ReferenceKeys:
        return ReferenceKeys(enterprises={obj.enterprise_number})


@admin.register(SelfEmployedPeriod)
class SelfEmployedPeriodAdmin(RevalidatingAdmin[SelfEmployedPeriod]):
    list_display = ("niss", "start", "end")
    search_fields = ("=niss",)
    show_full_result_count = False

    def revalidation_keys(self, obj: SelfEmployedPeriod) -> ReferenceKeys:
        return ReferenceKeys(nisses={obj.niss})


@admin.register(DimonaPeriod)
class DimonaPeriodAdmin(RevalidatingAdmin[DimonaPeriod]):
    list_display = ("employer", "niss", "start", "end", "worker_type", "user_company")
    list_filter = ("worker_type",)
    search_fields = ("=niss", "=employer", "=user_company")
    show_full_result_count = False

    def revalidation_keys(self, obj: DimonaPeriod) -> ReferenceKeys:
        return ReferenceKeys(nisses={obj.niss})


@admin.register(LimosaDeclaration)
class LimosaDeclarationAdmin(RevalidatingAdmin[LimosaDeclaration]):
    list_display = ("limosa_id", "niss", "foreign_employer_vat", "belgian_client", "start", "end")
    search_fields = ("=limosa_id", "=niss", "=belgian_client")
    show_full_result_count = False

    def revalidation_keys(self, obj: LimosaDeclaration) -> ReferenceKeys:
        return ReferenceKeys(limosa_ids={obj.limosa_id}, nisses={obj.niss} - {""})


class DeclarationPartyInline(admin.TabularInline[DeclarationParty, DeclarationOfWorks]):
    model = DeclarationParty
    extra = 0


@admin.register(DeclarationOfWorks)
class DeclarationOfWorksAdmin(RevalidatingAdmin[DeclarationOfWorks]):
    list_display = ("number", "sector", "amount", "start_date", "end_date", "builder", "post_code")
    list_filter = ("sector",)
    search_fields = ("=number", "=builder", "post_code")
    inlines = [DeclarationPartyInline]
    show_full_result_count = False

    def revalidation_keys(self, obj: DeclarationOfWorks) -> ReferenceKeys:
        return ReferenceKeys(workplaces={obj.number})

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        declaration_sync_builder(form.instance)  # revalidation runs after commit, so sees this
