"""A client's own request log (requestlog/): `GET /requestLogs` (a page of its calls, newest
first, filtered by time window, operation and outcome) and `GET /requestLogs/{ticketId}` (one
call, with what was sent, every NISS masked). Any scope; a client reads its own calls only:
another client's ticket answers 404 exactly like an unknown one.
"""

from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from requestlog.models import Channel, Outcome, RequestLog
from requestlog.selectors import RequestLogFilter, request_log_of_client, request_logs_of_client
from rest_gateway import serializers as s
from rest_gateway.apis import GatewayApi
from rest_gateway.auth import CONSULT, Principal
from rest_gateway.errors import InputValidationError
from rest_gateway.filters import PAGE_PARAMETERS, PAGE_SCHEMA_PARAMETERS, page_out, page_request

OUTCOMES = [outcome.value for outcome in Outcome]
CHANNELS = [channel.value for channel in Channel]


class RequestLogQueryIn(s.StrictSerializer):
    receivedFrom = s.DateOrMomentField(
        required=False, help_text="a date (from its first instant in Brussels) or a date-time with its offset"
    )
    receivedTo = s.DateOrMomentField(required=False, help_text="inclusive; a date is its last instant in Brussels")
    operation = s.StrictCharField(
        required=False, max_length=64, help_text="an operation name: registerInBulk, registerPresences, ..."
    )
    outcome = s.StrictChoiceField(
        choices=OUTCOMES,
        required=False,
        help_text="success (no item refused), itemErrors (one or more items refused), error (a fault or a problem)",
    )


class RefusedCountOut(serializers.Serializer[Any]):
    code = serializers.IntegerField()
    count = serializers.IntegerField()


class ItemOutcomesOut(serializers.Serializer[Any]):
    created = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    replayed = serializers.IntegerField(help_text="already stored: the stored registration was answered")
    refused = serializers.IntegerField()
    refusedByCode = RefusedCountOut(many=True)


class RequestLogOut(serializers.Serializer[Any]):
    ticketId = serializers.UUIDField(
        help_text="the fault's Id, the problem's instance, or the Ticket-Id header of the answer"
    )
    receivedAt = serializers.DateTimeField()
    channel = serializers.ChoiceField(choices=CHANNELS)
    operation = serializers.CharField(help_text="empty when the call named none of ours")
    path = serializers.CharField()
    durationMs = serializers.FloatField()
    httpStatus = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=OUTCOMES)
    faultCode = serializers.CharField(allow_null=True, help_text="SOAP: the fault's platform code (SOA-...)")
    problemType = serializers.CharField(allow_null=True, help_text="REST: the problem's type")
    items = ItemOutcomesOut(allow_null=True, help_text="a batch's item outcomes; null for other operations")


class RequestLogDetailOut(RequestLogOut):
    requestBody = serializers.CharField(help_text="as sent, every NISS masked; cut beyond the configured size")
    errorBody = serializers.CharField(allow_null=True, help_text="the fault or problem answered, NISS masked")


RequestLogPage = type(
    "RequestLogPage",
    (serializers.Serializer,),
    {
        "items": RequestLogOut(many=True),
        "page": serializers.IntegerField(),
        "pageSize": serializers.IntegerField(),
        "total": serializers.IntegerField(),
        "totalPages": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
    },
)


def _items_out(items: dict[str, Any]) -> dict[str, Any] | None:
    if not items:
        return None
    by_code = items.get("refusedByCode", {})
    return {
        "created": items.get("created", 0),
        "cancelled": items.get("cancelled", 0),
        "replayed": items.get("replayed", 0),
        "refused": items.get("refused", 0),
        "refusedByCode": [{"code": int(code), "count": count} for code, count in by_code.items()],
    }


def request_log_out(record: RequestLog) -> dict[str, Any]:
    soap = record.channel == Channel.SOAP
    return {
        "ticketId": str(record.ticket),
        "receivedAt": timezone.localtime(record.at).isoformat(),
        "channel": record.channel,
        "operation": record.operation,
        "path": record.path,
        "durationMs": record.duration_ms,
        "httpStatus": record.http_status,
        "outcome": record.outcome,
        "faultCode": record.error if soap and record.error else None,
        "problemType": record.error if not soap and record.error else None,
        "items": _items_out(record.items),
    }


def _bound(value: date | datetime | None, time_of_day: time) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.combine(value, time_of_day, tzinfo=timezone.get_default_timezone())


def _search(query: dict[str, Any]) -> RequestLogFilter:
    """The query's filter; raises InputValidationError for a window that ends before it starts."""
    since, until = _bound(query.get("receivedFrom"), time.min), _bound(query.get("receivedTo"), time.max)
    if since is not None and until is not None and since > until:
        detail = [ErrorDetail("the start is after the end", code="invalid_period")]
        raise InputValidationError({"receivedTo": detail}, location="query")
    outcome = query.get("outcome")
    return RequestLogFilter(
        since=since, until=until, operation=query.get("operation"), outcome=Outcome(outcome) if outcome else None
    )


class _RequestLogApi(GatewayApi):
    required_scopes = {"GET": CONSULT}

    @property
    def client_id(self) -> UUID:
        principal = self.request.auth
        if not isinstance(principal, Principal):  # the permission lets no other request through
            raise NotFound
        return principal.client.pk


class RequestLogListApi(_RequestLogApi):
    query_parameters = (*RequestLogQueryIn().fields, *PAGE_PARAMETERS)

    @extend_schema(
        operation_id="listRequestLogs",
        parameters=[RequestLogQueryIn, *PAGE_SCHEMA_PARAMETERS],
        responses={200: RequestLogPage},
        summary="Your own SOAP and REST calls, newest first (kept 30 days by default; bodies in the single view)",
    )
    def get(self, request: Request) -> Response:
        paging = page_request(request)
        params = {name: value for name, value in request.query_params.items() if name not in PAGE_PARAMETERS}
        serializer = RequestLogQueryIn(data=params)
        if not serializer.is_valid():
            raise InputValidationError(serializer.errors, location="query")
        records, total = request_logs_of_client(
            client_id=self.client_id,
            search=_search(dict(serializer.validated_data)),
            first_row=paging.first_row,
            fetch_size=paging.page_size,
        )
        return Response(page_out(request, [request_log_out(record) for record in records], paging, total))


class RequestLogApi(_RequestLogApi):
    @extend_schema(operation_id="getRequestLog", responses={200: RequestLogDetailOut})
    def get(self, request: Request, ticketId: UUID) -> Response:  # noqa: N803 - the path parameter's name
        """One of your calls by its ticket, with its body (every NISS masked); another
        client's ticket is unknown."""
        record = request_log_of_client(client_id=self.client_id, ticket=ticketId)
        if record is None:
            raise NotFound
        return Response(
            {
                **request_log_out(record),
                "requestBody": record.request_body,
                "errorBody": record.error_body or None,
            }
        )
