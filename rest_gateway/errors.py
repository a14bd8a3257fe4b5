"""Every REST error as an RFC 9457 problem in the Belgif form (spec §6).

Two layers:

* `rest_gateway.exception_handler` (DRF's EXCEPTION_HANDLER) for everything raised inside the
  API views, built from the problems defined here;
* `ProblemDetailsMiddleware` (first middleware) for what never reaches DRF under `/REST/`:
  Django's 404 for unknown URLs, a `Host` not allowed, a body over the size limit, and any
  uncaught exception (500, logged with the problem's `instance`, never shown to the client).

A problem body never carries an exception message, a traceback or a host name; its
`issues[].value` echoes the caller's own input, so problem bodies are never logged.
"""

import logging
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.settings import api_settings

from config.observability import context, metrics

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
BELGIF = "urn:problem-type:belgif:"
ISSUE = "urn:problem-type:belgif:input-validation:"
ISSUE_EXT = "urn:problem-type:belgif-ext:input-validation:"
_HREF = "https://www.belgif.be/specification/rest/api-guide/problems/"

# name -> (status, title); the `type` is BELGIF + name.
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "badRequest": (400, "Bad Request"),
    "noAccessToken": (401, "No Access Token"),
    "invalidAccessToken": (401, "Invalid Access Token"),
    "expiredAccessToken": (401, "Expired Access Token"),
    "missingScope": (403, "Missing Scope"),
    "missingPermission": (403, "Missing Permission"),
    "resourceNotFound": (404, "Resource Not Found"),
    "payloadTooLarge": (413, "Payload Too Large"),
    "tooManyRequests": (429, "Too Many Requests"),
    "internalServerError": (500, "Internal Server Error"),
    "serviceUnavailable": (503, "Service is unavailable"),
}
# Belgif has no type for these: RFC 9457's about:blank with the reason phrase.
_ABOUT_BLANK_TITLES = {
    405: "Method Not Allowed",
    406: "Not Acceptable",
    415: "Unsupported Media Type",
}
_STATUS_TO_TYPE = {status: name for name, (status, _) in reversed(PROBLEM_TYPES.items())}
ALL_PROBLEM_TYPES = [BELGIF + name for name in PROBLEM_TYPES] + ["about:blank"]

ISSUE_TYPES = {
    "schemaViolation": (ISSUE, "Input isn't valid with respect to schema"),
    "invalidInput": (ISSUE, "Invalid input"),
    "unknownInput": (ISSUE, "Unknown input"),
    "requiredInput": (ISSUE_EXT, "Input is required"),
    "exactlyOneOfExpected": (ISSUE_EXT, "Exactly one of these inputs must be present"),
    "invalidPeriod": (ISSUE_EXT, "Period is invalid"),
}
# DRF field error codes that mean "the input does not match the published schema".
_SCHEMA_CODES = {
    "invalid",
    "null",
    "blank",
    "max_length",
    "min_length",
    "max_value",
    "min_value",
    "invalid_choice",
    "not_a_list",
    "not_a_dict",
    "empty",
    "date",
    "datetime",
    "max_digits",
    "max_decimal_places",
    "max_whole_digits",
    "max_string_length",
    "overflow",
    "parse_error",
}


class InvalidAccessToken(exceptions.AuthenticationFailed):
    problem = "invalidAccessToken"
    default_detail = "The access token is invalid"


class ExpiredAccessToken(exceptions.AuthenticationFailed):
    problem = "expiredAccessToken"
    default_detail = "The access token has expired"


class MissingScope(exceptions.PermissionDenied):
    problem = "missingScope"
    default_detail = "The access token does not carry a scope this operation requires"

    def __init__(self, required: set[str]) -> None:
        super().__init__()
        self.required = sorted(required)


class MalformedBody(exceptions.ParseError):
    """A body that is not the JSON we accept; the detail says precisely why (parsers.py)."""


class InputValidationError(exceptions.ValidationError):
    """A ValidationError that knows where the input came from: body, query or path."""

    def __init__(self, detail: Any, location: str = "body") -> None:
        super().__init__(detail)
        self.location = location


def _instance(problem_type: str) -> str:
    """The problem's `instance`: the request id (the X-Request-ID header, in every log line of
    the call). Each problem body is built to be answered, so it is counted here."""
    metrics.REST_PROBLEMS.labels(problem_type).inc()
    return f"urn:uuid:{context.ticket()}"


def problem(name: str, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    """A Belgif problem body of the given standard type (key of PROBLEM_TYPES)."""
    status, title = PROBLEM_TYPES[name]
    body: dict[str, Any] = {
        "type": BELGIF + name,
        "href": f"{_HREF}{name}.html",
        "title": title,
        "status": status,
        "instance": _instance(name),
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body


def about_blank(status: int) -> dict[str, Any]:
    return {
        "type": "about:blank",
        "title": _ABOUT_BLANK_TITLES.get(status, "Error"),
        "status": status,
        "instance": _instance("about:blank"),
    }


def issue(kind: str, detail: str, *, location: str, name: str | None = None, value: Any = None) -> dict[str, Any]:
    prefix, title = ISSUE_TYPES[kind]
    body: dict[str, Any] = {"type": prefix + kind, "title": title, "detail": detail, "in": location}
    if name is not None:
        body["name"] = name
    if value is not None:
        body["value"] = value
    return body


def bad_request(issues: list[dict[str, Any]], detail: str = "The input message is incorrect") -> dict[str, Any]:
    return problem("badRequest", detail, issues=issues)


def problem_response(body: dict[str, Any], headers: Mapping[str, str] | None = None) -> JsonResponse:
    """A plain Django response for a problem body (outside DRF)."""
    response = JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


# --- DRF ValidationError -> issues ----------------------------------------------------------


def _walk(detail: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            inner = path if key == api_settings.NON_FIELD_ERRORS_KEY else (*path, key)
            yield from _walk(value, inner)
    elif isinstance(detail, list):
        if all(isinstance(entry, str) for entry in detail):
            for message in detail:
                yield path, message
        else:
            for index, entry in enumerate(detail):
                yield from _walk(entry, (*path, index))
    else:
        yield path, detail


def _path_name(path: tuple[str | int, ...]) -> str:
    name = ""
    for part in path:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name


def _lookup(data: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        if isinstance(data, Mapping) and str(part) in data:
            data = data[str(part)]
        elif isinstance(data, list) and str(part).isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    if isinstance(data, bool | int | str):
        return data
    if isinstance(data, float) and math.isfinite(data):
        return data
    return None


# Error codes with an issue type of their own; other schema codes are schemaViolation and
# anything else (a rule OpenAPI cannot express) is invalidInput.
_ISSUE_KIND_BY_CODE = {
    "required": "requiredInput",
    "unknown_input": "unknownInput",
    "exactly_one": "exactlyOneOfExpected",
    "invalid_period": "invalidPeriod",
}


def _issue_kind(code: str | None) -> str:
    if code in _ISSUE_KIND_BY_CODE:
        return _ISSUE_KIND_BY_CODE[code]
    return "schemaViolation" if code in _SCHEMA_CODES else "invalidInput"


def _input(request: Any, location: str) -> Any:
    """What the caller sent at `location`, to echo values in issues (None if unreadable)."""
    if request is None:
        return None
    if location == "query":
        return request.query_params
    try:
        return request.data
    except exceptions.APIException:  # the body itself could not be parsed
        return None


def validation_issues(exc: exceptions.ValidationError, request: Any, location: str) -> list[dict[str, Any]]:
    source = _input(request, location)
    issues = []
    for path, message in _walk(exc.detail):
        code = getattr(message, "code", None)
        kind = _issue_kind(code)
        value = None
        if kind != "requiredInput" and source is not None and path:
            value = source.get(str(path[0])) if location == "query" else _lookup(source, path)
        issues.append(issue(kind, str(message), location=location, name=_path_name(path) or None, value=value))
    return issues


# --- middleware -----------------------------------------------------------------------------

_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ProblemDetailsMiddleware:
    """Under /REST/: refuse oversized bodies before they are read, turn any non-problem
    error response (Django's 404 page, the 400 of a bad Host, a 500 page) into a problem,
    and answer uncaught exceptions with a bare 500 problem whose instance is logged."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/REST/"):
            return self.get_response(request)
        too_large = self._too_large(request)
        if too_large is not None:
            return too_large
        response = self.get_response(request)
        content_type = response.get("Content-Type", "")
        if response.status_code < 400 or content_type.startswith(PROBLEM_CONTENT_TYPE):
            return response
        status = response.status_code
        name = _STATUS_TO_TYPE.get(status)
        body = about_blank(status) if status in _ABOUT_BLANK_TITLES or name is None else problem(name)
        if status >= 500:
            logger.error("REST %s answered %s (problem %s)", request.method, status, body["instance"])
        headers = {key: response[key] for key in _KEPT_HEADERS if response.has_header(key)}
        return problem_response(body, headers)

    def _too_large(self, request: HttpRequest) -> HttpResponse | None:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return problem_response(
                bad_request(
                    [issue("invalidInput", "Content-Length is not a number", location="header", name="Content-Length")]
                )
            )
        limit = settings.REST_MAX_BODY_BYTES
        if length > limit:
            return problem_response(problem("payloadTooLarge", "The request body is too large", limit=limit))
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path_info.startswith("/REST/"):
            return None
        body = problem("internalServerError", "An unexpected error occurred; quote the instance to support")
        logger.error("REST %s unexpected error (problem %s)", request.method, body["instance"], exc_info=exception)
        return problem_response(body)
