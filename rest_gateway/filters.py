"""Query parameters: strict camelCase django-filter filters and Belgif paging.

Strict: an unknown, repeated or empty parameter is a 400 (django-filter would silently
ignore it). No NISS filter: a NISS never travels in a URL (spec §9); search by person is
`POST /presenceRegistrations/search`.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import F, Q, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request

from registrations.domain.identifiers import normalise_enterprise_number
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Status
from rest_gateway.errors import InputValidationError

if TYPE_CHECKING:
    from registrations.models import Registration

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50

STATUS_FILTER = {
    "registered": [Status.REGISTERED, Status.VALIDATED, Status.FAILED],
    "cancelled": [Status.CANCELLED],
}
VALIDITY_FILTER = {
    "pending": Q(validated_at__isnull=True),
    "valid": Q(validated_at__isnull=False, remark_mask=0),
    "invalid": Q(validated_at__isnull=False) & ~Q(remark_mask=0),
}
REMARK_CODES = [REMARKS[number].rest_code for number in sorted(REMARKS)]


def _error(message: str, code: str = "invalid") -> list[ErrorDetail]:
    return [ErrorDetail(message, code=code)]


class PresenceRegistrationFilter(django_filters.FilterSet):  # type: ignore[misc]
    """Attribute name = query parameter name (camelCase)."""

    registrationDateFrom = django_filters.DateFilter(
        field_name="registration_date", lookup_expr="gte", required=True, help_text="first day (Brussels)"
    )
    registrationDateTo = django_filters.DateFilter(
        field_name="registration_date", lookup_expr="lte", required=True, help_text="last day (Brussels)"
    )
    enterpriseNumber = django_filters.CharFilter(method="filter_enterprise", max_length=20)
    contractualRelationshipReference = django_filters.CharFilter(field_name="workplace_id", max_length=20)
    customReference = django_filters.CharFilter(field_name="client_reference", max_length=64)
    type = django_filters.ChoiceFilter(method="filter_type", choices=[("in", "in"), ("out", "out")])
    status = django_filters.ChoiceFilter(method="filter_status", choices=[(key, key) for key in STATUS_FILTER])
    validity = django_filters.ChoiceFilter(method="filter_validity", choices=[(key, key) for key in VALIDITY_FILTER])
    remark = django_filters.ChoiceFilter(method="filter_remark", choices=[(code, code) for code in REMARK_CODES])

    class Meta:
        # No model: every filter names its field, and the queryset comes from the core's
        # selector (the view's get_queryset), so the gateway never touches the model class.
        fields: list[str] = []

    def filter_enterprise(self, queryset: QuerySet["Registration"], name: str, value: str) -> QuerySet["Registration"]:
        number = normalise_enterprise_number(value)
        if not isinstance(number, str):
            raise InputValidationError({"enterpriseNumber": _error(number.description)}, location="query")
        return queryset.filter(enterprise_number=number)

    def filter_type(self, queryset: QuerySet["Registration"], name: str, value: str) -> QuerySet["Registration"]:
        return queryset.filter(event_type=value.upper())

    def filter_status(self, queryset: QuerySet["Registration"], name: str, value: str) -> QuerySet["Registration"]:
        return queryset.filter(status__in=STATUS_FILTER[value])

    def filter_validity(self, queryset: QuerySet["Registration"], name: str, value: str) -> QuerySet["Registration"]:
        return queryset.filter(VALIDITY_FILTER[value])

    def filter_remark(self, queryset: QuerySet["Registration"], name: str, value: str) -> QuerySet["Registration"]:
        bit = 1 << (int(value.removeprefix("CAW_")) - 1)
        return queryset.alias(matched=F("remark_mask").bitand(bit)).exclude(matched=0)


FILTER_SCHEMA_PARAMETERS = [
    OpenApiParameter("registrationDateFrom", date, OpenApiParameter.QUERY, required=True, description="first day"),
    OpenApiParameter("registrationDateTo", date, OpenApiParameter.QUERY, required=True, description="last day"),
    OpenApiParameter("enterpriseNumber", str, OpenApiParameter.QUERY, description="the employer"),
    OpenApiParameter(
        "contractualRelationshipReference", str, OpenApiParameter.QUERY, description="Declaration of Works"
    ),
    OpenApiParameter("customReference", str, OpenApiParameter.QUERY),
    OpenApiParameter("type", str, OpenApiParameter.QUERY, enum=["in", "out"]),
    OpenApiParameter("status", str, OpenApiParameter.QUERY, enum=list(STATUS_FILTER)),
    OpenApiParameter("validity", str, OpenApiParameter.QUERY, enum=list(VALIDITY_FILTER)),
    OpenApiParameter("remark", str, OpenApiParameter.QUERY, enum=REMARK_CODES),
]


def reject_bad_parameters(request: Request, known: Iterable[str]) -> dict[str, list[ErrorDetail]]:
    """Errors for unknown, repeated and empty query parameters."""
    allowed = set(known)
    errors: dict[str, list[ErrorDetail]] = {}
    for name in request.query_params:
        values = request.query_params.getlist(name)
        if name not in allowed:
            errors[name] = _error("Unknown query parameter", "unknown_input")
        elif len(values) > 1:
            errors[name] = _error("must not be repeated")
        elif values[0] == "":
            errors[name] = _error("must not be empty", "blank")
    return errors


class StrictFilterBackend(DjangoFilterBackend):  # type: ignore[misc]
    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        known = set(filterset.filters) | set(PAGE_PARAMETERS)
        errors: dict[str, Any] = reject_bad_parameters(request, known)
        if not filterset.is_valid():
            for field, messages in filterset.errors.items():
                code = "required" if any("required" in str(m) for m in messages) else "invalid"
                errors.setdefault(field, [ErrorDetail(str(m), code=code) for m in messages])
        if errors:
            raise InputValidationError(errors, location="query")
        return filterset.qs  # type: ignore[no-any-return]


# --- paging ---------------------------------------------------------------------------------

PAGE_PARAMETERS = ("page", "pageSize")
PAGE_SCHEMA_PARAMETERS = [
    OpenApiParameter("page", int, OpenApiParameter.QUERY, description="1-based page number (default 1)"),
    OpenApiParameter(
        "pageSize", int, OpenApiParameter.QUERY, description=f"1..{MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE})"
    ),
]


@dataclass(frozen=True)
class PageRequest:
    page: int
    page_size: int

    @property
    def first_row(self) -> int:
        return (self.page - 1) * self.page_size


def _positive(request: Request, name: str, default: int, maximum: int) -> int | list[ErrorDetail]:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return _error("must be a positive integer")
    value = int(raw)
    if not 1 <= value <= maximum:
        return _error(f"must be between 1 and {maximum}", "max_value" if value > maximum else "min_value")
    return value


def page_request(request: Request) -> PageRequest:
    """`page` (from 1) and `pageSize` (1..500) from the query; raises InputValidationError."""
    page = _positive(request, "page", 1, 10_000_000)
    size = _positive(request, "pageSize", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    errors = {name: value for name, value in (("page", page), ("pageSize", size)) if isinstance(value, list)}
    if errors:
        raise InputValidationError(errors, location="query")
    assert isinstance(page, int)
    assert isinstance(size, int)
    return PageRequest(page, size)


def page_out(request: Request, items: list[Any], paging: PageRequest, total: int) -> dict[str, Any]:
    """The Belgif page: items, page, pageSize, total, totalPages and the next page's URL."""
    total_pages = math.ceil(total / paging.page_size) if total else 0
    next_url = None
    if paging.page < total_pages:
        query = request.query_params.copy()
        query["page"] = str(paging.page + 1)
        query["pageSize"] = str(paging.page_size)
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
    return {
        "items": items,
        "page": paging.page,
        "pageSize": paging.page_size,
        "total": total,
        "totalPages": total_pages,
        "next": next_url,
    }
