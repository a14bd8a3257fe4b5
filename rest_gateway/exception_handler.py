"""DRF's EXCEPTION_HANDLER: every APIException raised inside an API view as a Belgif problem.

A module of its own: it needs `rest_framework.views`, which loads the authentication, parser,
throttle and filter classes named in REST_FRAMEWORK when it is first imported; those import
`rest_gateway.errors`, which must therefore not import `rest_framework.views` itself.
"""

import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from rest_gateway.errors import (
    _ABOUT_BLANK_TITLES,
    _STATUS_TO_TYPE,
    PROBLEM_CONTENT_TYPE,
    ExpiredAccessToken,
    InvalidAccessToken,
    MalformedBody,
    MissingScope,
    about_blank,
    bad_request,
    issue,
    problem,
    validation_issues,
)


def _problem_for(exc: exceptions.APIException, context: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    request = context.get("request")
    realm = 'Bearer realm="presenceRegistration"'
    if isinstance(exc, exceptions.ValidationError):
        location = getattr(exc, "location", "body")
        return bad_request(validation_issues(exc, request, location)), {}
    if isinstance(exc, exceptions.ParseError):
        reason = str(exc.detail) if isinstance(exc, MalformedBody) else "The body is not valid JSON"
        return bad_request(
            [issue("schemaViolation", reason, location="body")], "The input message is not well-formed"
        ), {}
    if isinstance(exc, exceptions.NotAuthenticated):
        return problem("noAccessToken", "No access token was given"), {"WWW-Authenticate": realm}
    if isinstance(exc, ExpiredAccessToken | InvalidAccessToken):
        description = "Expired Access Token" if isinstance(exc, ExpiredAccessToken) else "Invalid Access Token"
        header = f'{realm}, error="invalid_token", error_description="{description}"'
        return problem(exc.problem, str(exc.detail)), {"WWW-Authenticate": header}
    if isinstance(exc, exceptions.AuthenticationFailed):
        return problem("invalidAccessToken", "The access token is invalid"), {"WWW-Authenticate": realm}
    if isinstance(exc, MissingScope):
        scopes = " ".join(exc.required)
        header = f'{realm}, error="insufficient_scope", scope="{scopes}"'
        return problem("missingScope", str(exc.detail), requiredScopes=exc.required), {"WWW-Authenticate": header}
    if isinstance(exc, exceptions.PermissionDenied):
        return problem("missingPermission", "This client may not perform this operation"), {}
    if isinstance(exc, exceptions.NotFound):
        return problem("resourceNotFound", "The resource does not exist"), {}
    if isinstance(exc, exceptions.Throttled):
        wait = max(1, math.ceil(getattr(exc, "wait", None) or 1))
        body = problem("tooManyRequests", "Too many requests from this client", retryAfter=wait, retryAfterSec=wait)
        return body, {"Retry-After": str(wait)}
    if exc.status_code in _ABOUT_BLANK_TITLES:
        headers = {}
        if isinstance(exc, exceptions.MethodNotAllowed) and context.get("view") is not None:
            headers["Allow"] = ", ".join(context["view"].allowed_methods)
        return about_blank(exc.status_code), headers
    name = _STATUS_TO_TYPE.get(exc.status_code, "badRequest")
    return problem(name), {}


def exception_handler(exc: Exception, context: Mapping[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every APIException as a problem; None lets others propagate
    (the middleware answers them with a 500 problem and logs the traceback)."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        body = problem("payloadTooLarge", "The request body is too large", limit=settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        return Response(body, status=413, content_type=PROBLEM_CONTENT_TYPE)
    if not isinstance(exc, exceptions.APIException):
        return None
    set_rollback()
    body, headers = _problem_for(exc, context)
    return Response(body, status=body["status"], headers=headers, content_type=PROBLEM_CONTENT_TYPE)
