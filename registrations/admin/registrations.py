"""The operators' console: the registrations list, its actions and the correction of a cleaning
event; the person search and legal-hold actions the register screens share.

Every action calls a service and is logged twice: in the registration's history (actor
`operator:<username>`, channel ADMIN) where the service writes one, and in Django's admin
log (LogEntry). Permissions come from the groups of migration 0006 (docs/operators.md).
"""

import json
import secrets
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import F, Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.partitioning import months_of_ids
from registrations.admin.guards import GuardedAdmin
from registrations.admin.labels import moment_text, reason_label, remark_text, status_code, status_label
from registrations.admin.pages import person_page, workplace_page
from registrations.admin.timeline import timeline_rows
from registrations.domain.authorisation import Caller
from registrations.domain.exceptions import ItemError
from registrations.domain.identifiers import normalise_niss, normalise_workplace_id
from registrations.domain.limits import MAX_BATCH
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import CancellationReason, Channel, CleaningEventType, Sector, Status
from registrations.models import Registration
from registrations.selectors.registrations import is_cleaning_event
from registrations.services.corrections import CorrectionError, CorrectionInput, registration_correct_cleaning
from registrations.services.presences import CancelInput, registration_cancel_batch
from registrations.services.retention import registrations_set_legal_hold
from registrations.validation.run import registration_revalidate

M = TypeVar("M", bound=Model)
# An action on more rows than this is refused: select fewer (or filter) and repeat.
MAX_ACTION_ROWS = 1000


class ReadOnlyAdminMixin:
    """Rows written only through services: operators look, they do not edit."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _operator(request: HttpRequest) -> Caller:
    return Caller.for_operator(request.user.get_username())


class RemarkFilter(admin.SimpleListFilter):
    """Registrations carrying one remark: one AND on the remark bit mask."""

    title = _("remark")
    parameter_name = "remark"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(str(number), remark_text(number)) for number in sorted(REMARKS)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit() or int(value) not in REMARKS:
            return queryset
        bit = REMARKS[int(value)].bit
        filtered: QuerySet[Any] = queryset.alias(remark_bit=F("remark_mask").bitand(bit)).filter(remark_bit=bit)
        return filtered


class StatusFilter(admin.ChoicesFieldListFilter):
    """The status filter in the operator's words (the stored status and its parameter,
    `status__exact`, are unchanged)."""

    def choices(self, changelist: Any) -> Any:
        words = {str(label): f"{status_label(value)} ({label})" for value, label in Status.choices}
        for choice in super().choices(changelist):
            yield {**choice, "display": words.get(str(choice["display"]), choice["display"])}


PERSON_SESSION_KEY = "operators_person_filters"
MAX_PERSON_FILTERS = 10


class PersonFilter(admin.SimpleListFilter):
    """One person's registrations without their NISS in the URL (spec §9).

    The person search form (POST) keeps the NISS in the operator's session and sends the
    list an opaque key; an unknown or expired key, or one made in another session, shows
    nothing rather than everything.
    """

    title = _("person")
    parameter_name = "person"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        choices = [(key, f"NISS …{niss[-4:]}") for key, niss in _held_persons(request).items()]
        if self.value() is not None and self.value() not in _held_persons(request):
            # Django drops a filter that has no choices, and the list would then show the
            # whole table (and "select all" act on it): an unknown key is a choice too.
            choices.append((str(self.value()), str(_("unknown search"))))
        return choices

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() is None:
            return queryset
        niss = _held_persons(request).get(str(self.value()))
        return queryset.filter(niss=niss) if niss else queryset.none()


def _held_persons(request: HttpRequest) -> dict[str, str]:
    """This session's person searches: opaque key -> NISS."""
    held: dict[str, str] = request.session.get(PERSON_SESSION_KEY, {})
    return held


class PersonSearchForm(forms.Form):
    niss = forms.CharField(label=_("NISS or BIS number"), max_length=20)

    def clean_niss(self) -> str:
        number = normalise_niss(self.cleaned_data["niss"])
        if isinstance(number, ItemError):
            raise forms.ValidationError(number.description)
        return number


class BoundedCountPaginator(Paginator):  # type: ignore[type-arg]  # generic only in the stubs
    """Counts at most COUNT_CAP rows (a COUNT over a LIMIT subquery): a filtered list of
    tens of millions of registrations must not count them all to draw its page links."""

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows: QuerySet[Any] = self.object_list  # type: ignore[assignment]  # the admin passes a QuerySet
        return int(rows.order_by()[: self.COUNT_CAP].count())


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label=_("reason"), choices=CancellationReason.choices)


class CorrectionForm(forms.Form):
    event_type = forms.ChoiceField(label=_("corrected event"), choices=CleaningEventType.choices)
    event_at = forms.DateTimeField(
        label=_("corrected time"),
        help_text=_("Europe/Brussels, e.g. 2026-11-26 17:30"),
        widget=forms.DateTimeInput(attrs={"size": 20}),
    )
    note = forms.CharField(label=_("why"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


def _remember_person(request: HttpRequest, niss: str) -> str:
    """The session key standing for this NISS (the last MAX_PERSON_FILTERS are kept)."""
    held = _held_persons(request)
    for key, known in held.items():
        if known == niss:
            return key
    key = secrets.token_urlsafe(6)
    kept = list(held.items())[-(MAX_PERSON_FILTERS - 1) :]
    request.session[PERSON_SESSION_KEY] = {**dict(kept), key: niss}
    return key


class LegalHoldActionsMixin(GuardedAdmin[M], Generic[M]):
    """The two legal-hold actions, for operators with registrations.manage_legal_hold; the
    admin says what a hold means for its rows in `_set_hold`."""

    def has_legal_hold_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registrations.manage_legal_hold")

    @admin.action(description=_("Place under legal hold"), permissions=["legal_hold"])
    def hold_selected(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self._set_hold(request, queryset, hold=True)

    @admin.action(description=_("Lift legal hold"), permissions=["legal_hold"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[M]) -> None:
        self._set_hold(request, queryset, hold=False)

    def _set_hold(self, request: HttpRequest, queryset: QuerySet[M], *, hold: bool) -> None:
        raise NotImplementedError


class PersonSearchMixin(GuardedAdmin[M], Generic[M]):
    """A list that finds a person's rows without the NISS in any URL: a POSTed form
    (`person/`) and PersonFilter's opaque session key. The NISS is not a search field."""

    change_list_template = "admin/registrations/person_change_list.html"

    def get_list_filter(self, request: HttpRequest) -> tuple[Any, ...]:
        return (*super().get_list_filter(request), PersonFilter)

    def get_urls(self) -> list[URLPattern]:
        opts = self.model._meta
        person = self.admin_site.admin_view(self.person_view)
        name = f"{opts.app_label}_{opts.model_name}_person"
        return [path("person/", person, name=name), *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        key = request.GET.get(PersonFilter.parameter_name)
        if request.method == "GET" and key is not None and key not in _held_persons(request):
            self.message_user(
                request,
                _(
                    "This person search is unknown or has expired (a search belongs to the session that made it): "
                    "nothing is shown. Search for the person again."
                ),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    def person_view(self, request: HttpRequest) -> HttpResponse:
        """The person search form; a valid NISS redirects to the list filtered by its key."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PersonSearchForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return self.person_found(request, form.cleaned_data["niss"])
        context = {
            **self.admin_site.each_context(request),
            "title": _("Find a person's registrations"),
            "form": form,
            "opts": self.model._meta,
            "person_page_offered": self.offers_person_page,
        }
        return TemplateResponse(request, "admin/registrations/person_search.html", context)

    offers_person_page = False

    def person_found(self, request: HttpRequest, niss: str) -> HttpResponse:
        """Where a valid search leads: this list, filtered by the person's session key."""
        key = _remember_person(request, niss)
        opts = self.model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        return HttpResponseRedirect(f"{changelist}?{urlencode({PersonFilter.parameter_name: key})}")


def _not_found(request: HttpRequest, anything: str) -> HttpResponse:
    raise Http404


MAIN_FIELDS = ("status_text", "remark_texts", "registration_date", "sector", "workplace_link", "person_link")
CLEANING_FIELDS = ("cleaning_event", "event_time")
DETAIL_FIELDS = (
    "enterprise_number",
    "limosa_id",
    "foreign_vat_number",
    "channel",
    "sender",
    "created_at",
    "validated_at",
    "cancelled_at",
    "cancellation_reason_text",
    "activity",
    "latitude",
    "longitude",
    "place_address",
    "client_reference",
    "corrects_id",
    "legal_hold",
)


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdminMixin, LegalHoldActionsMixin[Registration], PersonSearchMixin[Registration]):
    list_display = (
        "id",
        "registration_date",
        "sector",
        "status_text",
        "remark_texts",
        "cleaning_event",
        "event_time",
        "channel",
        "enterprise_number",
        "workplace_link",
        "sender",
        "created_at",
        "legal_hold",
    )
    # Each filter narrows an indexed scan: status and sector have (x, id) indexes, the
    # date has (registration_date, id), the sender (sender, date); remark and channel
    # only ever narrow one of those (the list is newest-first and never counted).
    list_filter = (
        "sector",
        ("status", StatusFilter),
        RemarkFilter,
        "channel",
        ("sender", admin.RelatedFieldListFilter),
        "registration_date",
        "legal_hold",
    )
    list_select_related = ("sender",)
    # Exact matches only: each hits one of the (identifier, date) indexes. Not the NISS: a
    # search goes in the URL; a person is found through the person search form (POST).
    search_fields = ("=id", "=enterprise_number", "=workplace_id", "=limosa_id")
    search_help_text = _(
        "Exact registration id, enterprise number, workplace or Limosa id. "
        "A person's registrations: use the person search (the NISS never goes in a URL)."
    )
    # No date_hierarchy and no facet counts: both aggregate over the whole filtered table.
    show_facets = admin.ShowFacets.NEVER
    show_full_result_count = False
    ordering = ("-id",)
    sortable_by = ("id", "registration_date")  # the orders an index serves
    readonly_fields = (*MAIN_FIELDS, *CLEANING_FIELDS, "cancellation_reason_text", "submitted_payload")
    change_form_template = "admin/registrations/registration/change_form.html"
    actions = ["revalidate_selected", "cancel_selected", "hold_selected", "release_selected"]
    offers_person_page = True

    paginator = BoundedCountPaginator

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Registration | None:
        """The registration of a change page, read from its id's month only (docs/adr/0018)."""
        if from_field is None and object_id.isdigit():
            return self.get_queryset(request).filter(months_of_ids([int(object_id)]), pk=int(object_id)).first()
        return super().get_object(request, object_id, from_field)

    def get_fieldsets(self, request: HttpRequest, obj: Registration | None = None) -> Any:
        """Status, remarks, where and who first (and, for a cleaning event, IN/OUT and its
        time); the details after; the payload as submitted last, folded."""
        main = (*MAIN_FIELDS, *CLEANING_FIELDS) if obj is not None and is_cleaning_event(obj) else MAIN_FIELDS
        return (
            (None, {"fields": main}),
            (_("details"), {"fields": DETAIL_FIELDS}),
            (_("as submitted"), {"fields": ("submitted_payload",)}),
        )

    # --- how a registration reads, in the operator's language ---------------------------
    @admin.display(description=_("status"))
    def status_text(self, registration: Registration) -> SafeString:
        return format_html(
            '<span class="status status-{}">{}</span> <span class="code">{}</span>',
            registration.status,
            status_label(registration.status),
            status_code(registration.status),
        )

    @admin.display(description=_("remarks"))
    def remark_texts(self, registration: Registration) -> SafeString:
        if not registration.remarks:
            return format_html("{}", "—")
        items = format_html_join("", "<li>{}</li>", ((remark_text(n),) for n in registration.remarks))
        return format_html('<ul class="remarks">{}</ul>', items)

    @admin.display(description=_("IN/OUT"))
    def cleaning_event(self, registration: Registration) -> str:
        return registration.event_type or "—"

    @admin.display(description=_("event time"))
    def event_time(self, registration: Registration) -> str:
        """Brussels time; the time of day alone when it is on the registration's date."""
        if registration.event_at is None:
            return "—"
        local = timezone.localtime(registration.event_at)
        return local.strftime("%H:%M") if local.date() == registration.registration_date else moment_text(local)

    @admin.display(description=_("workplace (Declaration of Works)"))
    def workplace_link(self, registration: Registration) -> SafeString:
        url = reverse("admin:registrations_registration_workplace", args=[registration.workplace_id])
        return format_html('<a href="{}">{}</a>', url, registration.workplace_id)

    @admin.display(description=_("person"))
    def person_link(self, registration: Registration) -> SafeString:
        if not registration.niss:
            return format_html("{}", registration.limosa_id or "—")
        url = reverse("admin:registrations_registration_person_page", args=[registration.niss])
        return format_html('{} <a href="{}">{}</a>', registration.niss, url, _("person page"))

    @admin.display(description=_("cancellation reason"))
    def cancellation_reason_text(self, registration: Registration) -> str:
        reason = registration.cancellation_reason
        return f"{reason_label(reason)} ({reason})" if reason else "—"

    @admin.display(description=_("as submitted"))
    def submitted_payload(self, registration: Registration) -> SafeString:
        payload = json.dumps(registration.submitted, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html('<details class="raw"><summary>{}</summary><pre>{}</pre></details>', _("show"), payload)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Registration | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(
                timeline=timeline_rows(operator=_operator(request), registration_id=obj.pk),
                workplace_url=reverse("admin:registrations_registration_workplace", args=[obj.workplace_id]),
                person_url=reverse("admin:registrations_registration_person_page", args=[obj.niss])
                if obj.niss
                else None,
                correct_url=reverse("admin:registrations_registration_correct", args=[obj.pk])
                if obj.sector == Sector.CLEANING and self.has_correct_permission(request)
                else None,
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- permissions of the actions (groups: migration 0006) ---------------------------
    def has_revalidate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registrations.revalidate_registration")

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registrations.cancel_registration")

    def has_correct_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registrations.correct_registration")

    def _bounded(self, request: HttpRequest, queryset: QuerySet[Registration]) -> list[int] | None:
        ids = list(queryset.order_by("id").values_list("id", flat=True)[: MAX_ACTION_ROWS + 1])
        if len(ids) > MAX_ACTION_ROWS:
            self.message_user(
                request, _("Select at most %(n)d registrations at a time.") % {"n": MAX_ACTION_ROWS}, messages.ERROR
            )
            return None
        return ids

    def _log(self, request: HttpRequest, ids: Sequence[int], message: str) -> None:
        for registration in Registration.objects.filter(id__in=ids):
            self.log_change(request, registration, message)

    @admin.action(description=_("Re-run validation"), permissions=["revalidate"])
    def revalidate_selected(self, request: HttpRequest, queryset: QuerySet[Registration]) -> None:
        ids = self._bounded(request, queryset)
        if ids is None:
            return
        actor = _operator(request).actor
        changed = sum(
            registration_revalidate(registration_ids=ids[i : i + MAX_BATCH], actor=actor, channel=Channel.ADMIN)
            for i in range(0, len(ids), MAX_BATCH)
        )
        self._log(request, ids, "revalidated")
        rerun = ngettext(
            "Validation re-run on %(count)d registration.", "Validation re-run on %(count)d registrations.", len(ids)
        )
        outcome = ngettext(
            "%(count)d changed its status or remarks.", "%(count)d changed their status or remarks.", changed
        )
        self.message_user(request, f"{rerun % {'count': len(ids)}} {outcome % {'count': changed}}")

    @admin.action(description=_("Cancel…"), permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Registration]) -> HttpResponse | None:
        ids = self._bounded(request, queryset)
        if ids is None:
            return None
        form = CancelForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("Cancel registrations"),
                "form": form,
                "ids": ids,
                "opts": self.model._meta,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/registrations/registration/cancel_selected.html", context)
        reason = form.cleaned_data["reason"]
        cancelled = 0
        for start in range(0, len(ids), MAX_BATCH):
            items = [CancelInput(registration_id=i, reason=reason) for i in ids[start : start + MAX_BATCH]]
            results = registration_cancel_batch(items=items, caller=_operator(request), channel=Channel.ADMIN)
            done = [item.registration_id for item, result in zip(items, results, strict=True) if not result.errors]
            self._log(request, done, f"cancelled ({reason})")
            cancelled += len(done)
        self.message_user(
            request,
            ngettext("%(count)d registration cancelled.", "%(count)d registrations cancelled.", cancelled)
            % {"count": cancelled},
        )
        if skipped := len(ids) - cancelled:
            self.message_user(
                request,
                ngettext(
                    "%(count)d registration was already cancelled and stays as it was.",
                    "%(count)d registrations were already cancelled and stay as they were.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
        return None

    def _set_hold(self, request: HttpRequest, queryset: QuerySet[Registration], *, hold: bool) -> None:
        ids = self._bounded(request, queryset)
        if ids is None:
            return
        changed = registrations_set_legal_hold(registration_ids=ids, hold=hold, caller=_operator(request))
        self._log(request, ids, "legal hold placed" if hold else "legal hold lifted")
        self.message_user(
            request,
            ngettext("%(count)d registration changed.", "%(count)d registrations changed.", changed)
            % {"count": changed},
        )

    # --- the correction of one cleaning event -----------------------------------------
    def get_urls(self) -> list[URLPattern]:
        correct = self.admin_site.admin_view(self.correct_view)
        workplace = self.admin_site.admin_view(self.workplace_view)
        person = self.admin_site.admin_view(self.person_page_view)
        return [
            path("<int:object_id>/correct/", correct, name="registrations_registration_correct"),
            path("workplace/<str:workplace_id>/", workplace, name="registrations_registration_workplace"),
            # The key is the NISS encrypted (guards.person_url_key): never the NISS itself.
            path("person/<person_key:niss>/", person, name="registrations_registration_person_page"),
            # Anything else there (a NISS, a forged key) is not found; Django's catch-all would
            # redirect it to ".../change/", repeating it in another URL.
            path("person/<str:anything>/", self.admin_site.admin_view(_not_found)),
            *super().get_urls(),
        ]

    # --- the workplace and person pages ---------------------------------------------------
    def workplace_view(self, request: HttpRequest, workplace_id: str) -> HttpResponse:
        """A workplace (Declaration of Works): who is on site today, registrations by day, remarks."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        normalised = normalise_workplace_id(workplace_id)
        if isinstance(normalised, ItemError):
            raise Http404(normalised.description)
        return workplace_page(request, self.admin_site, operator=_operator(request), workplace_id=normalised)

    def person_page_view(self, request: HttpRequest, niss: str) -> HttpResponse:
        """A person: National Register entry, latest registrations, remarks."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return person_page(request, self.admin_site, operator=_operator(request), niss=niss)

    def person_found(self, request: HttpRequest, niss: str) -> HttpResponse:
        """The search leads to the person's page when asked ("open"), else to the list."""
        if request.POST.get("open") == "page":
            return HttpResponseRedirect(reverse("admin:registrations_registration_person_page", args=[niss]))
        return super().person_found(request, niss)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        niss = _held_persons(request).get(str(request.GET.get(PersonFilter.parameter_name)))
        person_url = reverse("admin:registrations_registration_person_page", args=[niss]) if niss else None
        return super().changelist_view(request, {**(extra_context or {}), "person_page_url": person_url})

    def correct_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """A form for one correction; POST records it through registration_correct_cleaning."""
        if not self.has_correct_permission(request):
            raise PermissionDenied
        original = get_object_or_404(Registration, pk=object_id)
        form = CorrectionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                corrected = registration_correct_cleaning(
                    correction=CorrectionInput(original.pk, **form.cleaned_data), caller=_operator(request)
                )
            except CorrectionError as exc:
                form.add_error(None, str(exc))
            else:
                self.log_change(request, original, f"corrected by registration {corrected.pk}")
                self.log_addition(request, corrected, f"correction of registration {original.pk}")
                self.message_user(request, _("Correction recorded as registration %(id)d.") % {"id": corrected.pk})
                return HttpResponseRedirect(reverse("admin:registrations_registration_change", args=[corrected.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("Correct cleaning event %(id)d") % {"id": original.pk},
            "form": form,
            "original": original,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/registrations/registration/correct.html", context)
