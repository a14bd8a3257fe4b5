"""What keeps a NISS out of the console's URLs and a bulk action inside what the operator saw.

- `PersonIdentifierGuardMixin`: a list's URL carries only the filters its own sidebar offers
  (an allow-list: `?dedup_key__contains=`, `?submitted__INSS=`, `?data__icontains=` hold a
  NISS too), never one on a person identifier (`?niss=`, `?pk=` where the primary key is a
  NISS), and no search (`?q=`) for a NISS: a GET parameter ends up in URLs, the browser
  history and access logs (spec §9).
- `FilterKeepingChangeList`: a filter parameter Django would ignore (its filter has no
  choices: an unknown person-search key, a sender filter with no client left) empties the
  list instead of widening it.
- `ExplicitSelectAcrossMixin`: "select all" acts on the filtered list, never on a whole
  table.
- `PersonKeyConverter`: a National Register person's admin pages are addressed by an opaque
  key, since that model's primary key is the NISS itself (docs/operators.md explains why
  the key is an encryption of the NISS and not a new surrogate column).
"""

import base64
import binascii
import functools
from typing import Any, Generic, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.filters import FieldListFilter, ListFilter
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Field, Model, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, register_converter
from django.utils.translation import gettext as _

from registrations.domain.exceptions import ItemError
from registrations.domain.identifiers import normalise_niss

M = TypeVar("M", bound=Model)

# Field names (or JSON keys, in any case: SOAP submits "INSS") that hold a person's NISS /
# BIS number / SSIN.
PERSON_IDENTIFIER_NAMES = frozenset({"niss", "inss", "ssin"})


def lookup_names_a_person(model: type[Model], lookup: str) -> bool:
    """True if a filter lookup such as `registration__niss__startswith` reaches a person
    identifier: a field of that name, a JSON key of that name, or a primary key that is one."""
    current: type[Model] | None = model
    for part in lookup.split(LOOKUP_SEP):
        name = current._meta.pk.name if current is not None and part == "pk" and current._meta.pk else part
        if name.lower() in PERSON_IDENTIFIER_NAMES:
            return True
        current = _related_model(current, name)
    return False


def _related_model(model: type[Model] | None, name: str) -> type[Model] | None:
    if model is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    related = field.related_model if field.is_relation else None
    return related if isinstance(related, type) else None


def search_holds_a_niss(term: str) -> bool:
    """True if the search box was given a NISS, whole or as one of its words."""
    candidates = [term, *term.split()]
    return any(not isinstance(normalise_niss(candidate), ItemError) for candidate in candidates if candidate)


def list_filter_specs(model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> list[ListFilter]:
    """The admin's sidebar filters, built as Django's ChangeList builds them (with no
    parameter applied), to read the GET parameters each one produces."""
    return [
        _list_filter_spec(list_filter, model_admin, request) for list_filter in model_admin.get_list_filter(request)
    ]


def _list_filter_spec(list_filter: Any, model_admin: admin.ModelAdmin[Any], request: HttpRequest) -> ListFilter:
    """One `list_filter` entry: a ListFilter class, a field path, or (field path, FieldListFilter class)."""
    if callable(list_filter):
        spec: ListFilter = list_filter(request, {}, model_admin.model, model_admin)
        return spec
    field, filter_class = list_filter if isinstance(list_filter, (tuple, list)) else (list_filter, None)
    field_path = field.name if isinstance(field, Field) else str(field)
    field = get_fields_from_path(model_admin.model, field_path)[-1]
    create = filter_class or FieldListFilter.create
    spec = create(field, request, {}, model_admin.model, model_admin, field_path=field_path)
    return spec


class PersonIdentifierGuardMixin(admin.ModelAdmin[M], Generic[M]):
    """Refuses person identifiers in the list's GET parameters (filters and search)."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # Django allows any lookup on a local field by default; here only the parameters of
        # the list's own filters are. A refusal is Django's 400 "Filtering by <lookup> not
        # allowed", which never quotes the value.
        if lookup_names_a_person(self.model, lookup) or lookup not in self.offered_filter_parameters(request):
            return False
        return super().lookup_allowed(lookup, value, request)

    def offered_filter_parameters(self, request: HttpRequest) -> frozenset[str]:
        """The GET parameters the list's sidebar filters and date hierarchy produce."""
        names = {
            str(name) for spec in list_filter_specs(self, request) for name in spec.expected_parameters() or () if name
        }
        if self.date_hierarchy:
            names |= {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        return frozenset(names)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if search_holds_a_niss(request.GET.get(SEARCH_VAR, "")):
            # Do not echo it back in the search box, the page links or the filters kept
            # for the change pages: drop it and point to the form that takes it by POST.
            self.message_user(
                request,
                _("A NISS is never searched in the list (it would stay in the URL): use the person search."),
                messages.ERROR,
            )
            kept = request.GET.copy()
            del kept[SEARCH_VAR]
            return HttpResponseRedirect(f"{request.path}?{kept.urlencode()}" if kept else request.path)
        return super().changelist_view(request, extra_context)


class FilterKeepingChangeList(ChangeList):
    """A list that applies every filter parameter of its URL, or shows nothing.

    Django silently skips a list filter with no choices, together with its parameter, so
    the list (and an action's "select all") would cover rows the link never asked for.
    """

    ignored_filters: list[str]

    def __init__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> None:
        self.ignored_filters = []
        super().__init__(request, *args, **kwargs)
        if self.ignored_filters and request.method == "GET":
            messages.warning(
                request,
                _("A filter of this link does not apply any more (%(filters)s): nothing is shown.")
                % {"filters": ", ".join(self.ignored_filters)},
            )

    def get_filters(self, request: HttpRequest) -> tuple[list[ListFilter], bool, dict[str, bool | str], bool, bool]:
        requested = set(self.get_filters_params())
        specs, has_filters, remaining, may_have_duplicates, has_active = super().get_filters(request)
        applied = {name for spec in specs for name in spec.expected_parameters() or ()} | set(remaining)
        if self.date_hierarchy:  # its year/month/day become a range: applied, under other names
            applied |= {name for name in requested if name.startswith(f"{self.date_hierarchy}__")}
        self.ignored_filters = sorted(requested - applied)
        return specs, has_filters, remaining, may_have_duplicates, has_active

    def get_queryset(self, request: HttpRequest, exclude_parameters: list[str | None] | None = None) -> QuerySet[Any]:
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.none() if self.ignored_filters else queryset


class ExplicitSelectAcrossMixin(admin.ModelAdmin[M], Generic[M]):
    """'Select all' acts on the rows the list shows once filtered, and never on a whole table.

    Django builds an action's queryset from the list's filters; a filter that is ignored
    (one whose choices are empty is dropped) would silently widen it to every row. With
    select-across, an action therefore runs only when the queryset is filtered at all.
    """

    # *args: the stubs already know the action_location argument of a later Django.
    def response_action(self, request: HttpRequest, queryset: QuerySet[M], *args: Any) -> HttpResponse | None:
        if request.POST.get("select_across") == "1" and not queryset.query.has_filters():
            self.message_user(
                request,
                _("An action on every row of an unfiltered list is refused: filter the list or tick the rows."),
                messages.ERROR,
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset, *args)


class GuardedAdmin(PersonIdentifierGuardMixin[M], ExplicitSelectAcrossMixin[M], Generic[M]):
    """Every console list: no person identifier in a GET parameter, every filter of the URL
    applied or nothing shown, no select-all on a whole table."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return FilterKeepingChangeList


# --- opaque admin URL keys for National Register persons ---------------------------------
# AES-SIV is deterministic (one key per person, so the admin log's links stay valid) and
# authenticated (a forged or NISS-shaped key is refused, not decrypted into garbage).
_KEY_INFO = b"presence-registration admin person url key"
_TOKEN_LENGTH = 36  # base64url of the 16-byte SIV tag and the 11-byte NISS, unpadded


@functools.lru_cache(maxsize=4)
def _cipher(secret: str) -> AESSIV:
    key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_KEY_INFO).derive(secret.encode())
    return AESSIV(key)


def _secrets() -> list[str]:
    return [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]


def person_url_key(niss: str) -> str:
    """The opaque key standing for this NISS in admin URLs (not derivable without the secret)."""
    sealed = _cipher(settings.SECRET_KEY).encrypt(niss.encode(), None)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("=")


def niss_from_person_url_key(key: str) -> str | None:
    """The NISS behind a key made by `person_url_key`, or None for anything else."""
    try:
        sealed = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    except (binascii.Error, ValueError):
        return None
    for secret in _secrets():
        try:
            return _cipher(secret).decrypt(sealed, None).decode()
        except (InvalidTag, UnicodeDecodeError):
            continue
    return None


class PersonKeyConverter:
    """`<person_key:object_id>`: the URL holds the key, the view receives the NISS, and
    every `reverse()` of a person's admin page (Django's own links included) makes the key."""

    regex = f"[A-Za-z0-9_-]{{{_TOKEN_LENGTH}}}"

    def to_python(self, value: str) -> str:
        niss = niss_from_person_url_key(value)
        if niss is None:
            raise ValueError("not a person key")  # the URL does not match: 404
        return niss

    def to_url(self, value: str) -> str:
        return person_url_key(value)


# A person's console pages (the National Register's, the person page) are addressed by this
# key, never by the NISS.
register_converter(PersonKeyConverter, "person_key")


def with_person_keys(urls: list[URLPattern]) -> list[URLPattern]:
    """A ModelAdmin's URLs with the object's primary key (a NISS) replaced by its opaque key."""
    return [
        path(str(url.pattern).replace("<path:object_id>", "<person_key:object_id>"), url.callback, name=url.name)
        if "<path:object_id>" in str(url.pattern)
        else url
        for url in urls
    ]


OTHER_APPS_GUARDED = frozenset({"auth", "axes"})


def guard_other_apps_lists(site: admin.AdminSite) -> None:
    """Give the lists of Django's users and groups and of django-axes the same allow-list of URL
    lookups as ours: by default Django admits any lookup on a local field, so a URL such as
    `?password__startswith=pbkdf2_sha256$…` would let a hash be guessed one prefix at a time."""
    for model, model_admin in list(site._registry.items()):
        if model._meta.app_label not in OTHER_APPS_GUARDED or isinstance(model_admin, PersonIdentifierGuardMixin):
            continue
        guarded = type(f"Guarded{type(model_admin).__name__}", (PersonIdentifierGuardMixin, type(model_admin)), {})
        site.unregister(model)
        site.register(model, guarded)
