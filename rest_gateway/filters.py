"""Query parameters: strict checks shared by every operation, and Belgif paging.

Strict: an unknown, repeated or empty parameter is a 400 (`reject_bad_parameters`); the
values themselves are read by each operation's serializer (serializers.py). No NISS
parameter anywhere: a NISS never travels in a URL (spec §9); search by person is
`POST /presenceRegistrations/search`.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ErrorDetail
from rest_framework.request import Request

from rest_gateway.errors import InputValidationError

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


def _error(message: str, code: str = "invalid") -> list[ErrorDetail]:
    return [ErrorDetail(message, code=code)]


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
    if isinstance(page, int) and isinstance(size, int):
        return PageRequest(page, size)
    errors = {name: value for name, value in (("page", page), ("pageSize", size)) if isinstance(value, list)}
    raise InputValidationError(errors, location="query")


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
