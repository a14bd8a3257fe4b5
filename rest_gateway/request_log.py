"""The REST gateway's request log (requestlog/): every call under /REST/presenceRegistration/v1/.

The API views note the client they authenticated and the item outcomes of a batch
(`apis.GatewayApi`); this reads the rest off the answer: the operation its URL names, a
problem's type and its ticket (the `instance`). The schema, its documentation page and the
request log's own reads are not recorded: reading the log would fill it with its reading.
"""

import json
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from requestlog.middleware import RequestLogMiddleware
from requestlog.models import Channel
from requestlog.recording import Call
from rest_gateway.errors import PROBLEM_CONTENT_TYPE

PREFIX = "/REST/presenceRegistration/v1/"
# URL name -> the operationId of the OpenAPI description (tests/rest_gateway/test_request_log.py
# checks that they agree).
OPERATIONS = {
    "rest-list": "listPresenceRegistrations",
    "rest-register": "registerInBulk",
    "rest-cancel": "cancelInBulk",
    "rest-search": "searchPresenceRegistrations",
    "rest-get": "getPresenceRegistration",
    "rest-history": "getPresenceRegistrationHistory",
    "rest-performances": "listPerformances",
    "rest-performances-search": "searchPerformances",
    "rest-addresses": "findAddressesNear",
    "rest-remarks": "listRemarks",
    "rest-remark": "getRemark",
    "rest-activities": "listActivities",
    "rest-activity": "getActivity",
    "rest-inspection-snapshot": "getInspectionSnapshot",
    "rest-inspection-csv": "getInspectionSnapshotCsv",
    "rest-inspection-pdf": "getInspectionSnapshotPdf",
    "rest-worker-accesses": "listWorkerAccesses",
    "rest-events": "listEvents",
    "rest-subscription-secret": "rotateSubscriptionSecret",
}
# URLs whose methods are different operations: named by URL and method.
OPERATIONS_BY_METHOD = {
    "rest-subscriptions": {"GET": "listSubscriptions", "POST": "createSubscription"},
    "rest-subscription": {"GET": "getSubscription", "DELETE": "deleteSubscription"},
}
NOT_RECORDED = frozenset({"rest-openapi", "rest-doc", "rest-doc-schema", "rest-request-logs", "rest-request-log"})


def _url_name(request: HttpRequest) -> str:
    return request.resolver_match.url_name or "" if request.resolver_match else ""


class RestRequestLog(RequestLogMiddleware):
    channel = Channel.REST

    def is_call(self, request: HttpRequest) -> bool:
        return request.path_info.startswith(PREFIX)

    def is_recorded(self, request: HttpRequest) -> bool:
        return _url_name(request) not in NOT_RECORDED

    def max_body_bytes(self) -> int:
        return int(settings.REST_MAX_BODY_BYTES)

    def operation(self, request: HttpRequest, call: Call) -> str:
        return operation_name(_url_name(request), request.method or "")

    def error(self, response: HttpResponseBase) -> tuple[str, UUID | None]:
        if response.status_code < 400:
            return "", None
        if not isinstance(response, HttpResponse) or not response.get("Content-Type", "").startswith(
            PROBLEM_CONTENT_TYPE
        ):
            return f"HTTP {response.status_code}", None
        try:
            problem = json.loads(response.content)
        except ValueError:  # ours are JSON; a record must never turn an answer into an error
            return f"HTTP {response.status_code}", None
        if not isinstance(problem, dict):
            return f"HTTP {response.status_code}", None
        try:
            ticket = UUID(str(problem.get("instance", "")).removeprefix("urn:uuid:"))
        except ValueError:
            ticket = None
        return str(problem.get("type", "")), ticket


def operation_name(url_name: str, method: str) -> str:
    """The contract's operationId of a call, "" for a URL that is none of the API's operations."""
    by_method = OPERATIONS_BY_METHOD.get(url_name)
    if by_method is not None:
        return by_method.get(method.upper(), "")
    return OPERATIONS.get(url_name, "")
