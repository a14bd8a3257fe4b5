"""The first middleware: every request gets its id (the `X-Request-ID` answer header, the ticket
of any fault or problem), and every gateway call is counted and timed (metrics.py) and logged
once, with its id, on the `presence.requests` logger."""

import logging
import time
from collections.abc import Callable

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

from config.observability import context, metrics

logger = logging.getLogger("presence.requests")

REQUEST_ID_HEADER = "X-Request-ID"
_GATEWAYS = (("/PresenceRegistration/", "soap"), ("/REST/", "rest"))


def gateway_of(path: str) -> str | None:
    return next((name for prefix, name in _GATEWAYS if path.startswith(prefix)), None)


def outcome_of(status: int, noted: str) -> str:
    """429 is a rate-limit refusal whatever fault carries it; else what the gateway noted
    (a SOAP fault is a 500 for the client's mistakes too); else the status class."""
    if status == 429:
        return metrics.RATE_LIMITED
    if noted:
        return noted
    if status < 400:
        return metrics.SUCCESS
    return metrics.CLIENT_ERROR if status < 500 else metrics.SERVER_ERROR


def _url_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.url_name.removeprefix("rest-") if match and match.url_name else ""


class ObservabilityMiddleware:
    """A client's own X-Request-ID is ignored: the ticket must be unique and ours, so a proxy
    that wants it logs our answer header instead (docs/operations.md)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Current until the answer is closed (request_finished, below): Django's own line for
        # an error answer ("Not Found: /path") is written after the last middleware returns.
        context.begin()
        started = time.perf_counter()
        response = self.get_response(request)
        gateway = gateway_of(request.path_info)
        if gateway is not None:
            self._observe(request, response, gateway, time.perf_counter() - started)
        current = context.current()
        if current is not None:
            response[REQUEST_ID_HEADER] = current.request_id
        return response

    @staticmethod
    def _observe(request: HttpRequest, response: HttpResponse, gateway: str, seconds: float) -> None:
        current = context.current()
        noted_operation = current.operation if current else ""
        # The SOAP gateway names the operation it read from the Body; REST's are its URL names.
        operation = noted_operation or (_url_name(request) if gateway == "rest" else "") or "unknown"
        outcome = outcome_of(response.status_code, current.outcome if current else "")
        metrics.REQUESTS.labels(gateway, operation, outcome).inc()
        metrics.REQUEST_DURATION.labels(gateway, operation, outcome).observe(seconds)
        if outcome == metrics.RATE_LIMITED:
            metrics.RATE_LIMIT_REFUSALS.labels(gateway, operation).inc()
        logger.info(
            "%s %s %s: HTTP %d in %.1f ms",
            gateway,
            operation,
            outcome,
            response.status_code,
            seconds * 1000,
            extra={"gateway": gateway, "operation": operation, "outcome": outcome, "status": response.status_code},
        )


@receiver(request_finished)
def _request_over(**_: object) -> None:
    context.clear()
