"""The reference registers' screens (persons, enterprises, Dimona, Limosa, Declarations of
Works): every save or delete queues the revalidation of what it can affect."""

from typing import Any, Generic, TypeVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.urls import URLPattern
from django.utils.translation import ngettext

from registrations.admin.guards import GuardedAdmin, with_person_keys
from registrations.admin.registrations import LegalHoldActionsMixin, PersonSearchMixin
from registrations.domain.reference_changes import ReferenceKeys
from registrations.models import (
    DeclarationOfWorks,
    DeclarationParty,
    DimonaPeriod,
    Enterprise,
    EnterpriseFounder,
    LimosaDeclaration,
    Person,
    SelfEmployedPeriod,
)
from registrations.registers.declarations import declaration_sync_builder
from registrations.services.retention import declaration_set_legal_hold
from registrations.services.revalidation import reference_changed

M = TypeVar("M", bound=Model)


class RevalidatingAdmin(GuardedAdmin[M], Generic[M]):
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


@admin.register(Person)
class PersonAdmin(PersonSearchMixin[Person], RevalidatingAdmin[Person]):
    list_display = ("niss", "family_name", "given_name", "birth_date")
    search_fields = ("family_name",)  # a NISS: the person search (never in a URL)
    show_full_result_count = False

    def get_urls(self) -> list[URLPattern]:
        # The primary key is the NISS: the pages of a person are addressed by its opaque
        # key instead (PersonKeyConverter), for Django's own links and redirects as well.
        return with_person_keys(super().get_urls())

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
class SelfEmployedPeriodAdmin(PersonSearchMixin[SelfEmployedPeriod], RevalidatingAdmin[SelfEmployedPeriod]):
    list_display = ("niss", "start", "end")
    show_full_result_count = False

    def revalidation_keys(self, obj: SelfEmployedPeriod) -> ReferenceKeys:
        return ReferenceKeys(nisses={obj.niss})


@admin.register(DimonaPeriod)
class DimonaPeriodAdmin(PersonSearchMixin[DimonaPeriod], RevalidatingAdmin[DimonaPeriod]):
    list_display = ("employer", "niss", "start", "end", "worker_type", "user_company")
    list_filter = ("worker_type",)
    search_fields = ("=employer", "=user_company")
    show_full_result_count = False

    def revalidation_keys(self, obj: DimonaPeriod) -> ReferenceKeys:
        return ReferenceKeys(nisses={obj.niss})


@admin.register(LimosaDeclaration)
class LimosaDeclarationAdmin(PersonSearchMixin[LimosaDeclaration], RevalidatingAdmin[LimosaDeclaration]):
    list_display = ("limosa_id", "niss", "foreign_employer_vat", "belgian_client", "start", "end")
    search_fields = ("=limosa_id", "=belgian_client")
    show_full_result_count = False

    def revalidation_keys(self, obj: LimosaDeclaration) -> ReferenceKeys:
        return ReferenceKeys(limosa_ids={obj.limosa_id}, nisses={obj.niss} - {""})


class DeclarationPartyInline(admin.TabularInline[DeclarationParty, DeclarationOfWorks]):
    model = DeclarationParty
    extra = 0


@admin.register(DeclarationOfWorks)
class DeclarationOfWorksAdmin(LegalHoldActionsMixin[DeclarationOfWorks], RevalidatingAdmin[DeclarationOfWorks]):
    list_display = ("number", "sector", "amount", "start_date", "end_date", "builder", "post_code", "legal_hold")
    list_filter = ("sector", "legal_hold")
    search_fields = ("=number", "=builder", "post_code")
    inlines = [DeclarationPartyInline]
    show_full_result_count = False
    readonly_fields = ("legal_hold",)  # set by the actions below, through a service
    actions = ["hold_selected", "release_selected"]

    def revalidation_keys(self, obj: DeclarationOfWorks) -> ReferenceKeys:
        return ReferenceKeys(workplaces={obj.number})

    def _set_hold(self, request: HttpRequest, queryset: QuerySet[DeclarationOfWorks], *, hold: bool) -> None:
        declarations = list(queryset)
        declaration_set_legal_hold(numbers=[d.number for d in declarations], hold=hold)
        for declaration in declarations:
            self.log_change(request, declaration, "legal hold placed" if hold else "legal hold lifted")
        changed = len(declarations)
        self.message_user(
            request,
            ngettext("%(count)d workplace changed.", "%(count)d workplaces changed.", changed) % {"count": changed},
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        declaration_sync_builder(form.instance)  # revalidation runs after commit, so sees this
