"""The recording of a gateway's calls: the base of each gateway's request log middleware.

It runs first (outermost), so it times the whole call and sees the answer as the client gets
it, error pages turned into faults or problems included. The record is written once the answer
is sent (when the server closes the response): a call never waits for its record, and a
record that cannot be written costs the call nothing (`request_log_record`).

A gateway subclass says which requests are its calls (`is_call`, `is_recorded`), how large a
body it reads at most, and how to read an error answer (its code or type, and its ticket).
"""

import uuid
from collections.abc import Callable
from typing import ClassVar
from uuid import UUID

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseBase

from requestlog.models import Channel
from requestlog.recording import Call, start_call
from requestlog.services import CallRecord, request_log_record

TICKET_HEADER = "Ticket-Id"


class RequestLogMiddleware:
    channel: ClassVar[Channel]

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def is_call(self, request: HttpRequest) -> bool:
        """Whether the request is one of this gateway's calls (decided before it is answered)."""
        raise NotImplementedError

    def is_recorded(self, request: HttpRequest) -> bool:
        """Whether the answered call gets a record (some operations are left out)."""
        return True

    def max_body_bytes(self) -> int:
        """The largest body the gateway reads; a larger one is refused unread, and not kept."""
        raise NotImplementedError

    def operation(self, request: HttpRequest, call: Call) -> str:
        return call.operation

    def error(self, response: HttpResponseBase) -> tuple[str, UUID | None]:
        """An error answer's fault code or problem type, and its ticket; ("", None) otherwise."""
        raise NotImplementedError

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not self.is_call(request):
            return self.get_response(request)
        call = start_call(request, self.channel)
        body = self._body(request)
        response = self.get_response(request)
        if not self.is_recorded(request):
            return response
        error, ticket = self.error(response)
        record = CallRecord(
            ticket=ticket or uuid.uuid4(),
            at=call.at,
            channel=self.channel,
            client_id=call.client_id,
            operation=self.operation(request, call),
            path=request.get_full_path(),
            duration_ms=call.elapsed_ms,
            http_status=response.status_code,
            error=error,
            items=call.items,
            request_body=body,
            error_body=response.content if error and isinstance(response, HttpResponse) else b"",
        )
        response[TICKET_HEADER] = str(record.ticket)
        # Django calls a response's closers when the server closes it, after the last byte is sent.
        response._resource_closers.append(lambda: request_log_record(record=record))  # type: ignore[attr-defined]
        return response

    def _body(self, request: HttpRequest) -> bytes:
        """The body, read now (before a parser streams it) when the gateway would read it too."""
        length = request.META.get("CONTENT_LENGTH") or ""
        if request.method != "POST" or not length.isdigit() or int(length) > self.max_body_bytes():
            return b""
        try:
            return request.body
        except RequestDataTooBig:
            return b""
