"""Under /PresenceRegistration/: an error Django answers before (or around) the gateway —
the 400 of a Host not in ALLOWED_HOSTS, a 404, an uncaught 500 — becomes a SOAP fault in
the platform's shape instead of an HTML page (spec §5: faults for every whole-call problem)."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from soap_gateway.faults import PlatformCode, SocSecFault
from soap_gateway.views import fault_response

PREFIX = "/PresenceRegistration/"


class SoapErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path_info.startswith(PREFIX) or request.method != "POST" or response.status_code < 400:
            return response  # GETs (the WSDL and schemas) keep their plain answers
        if "html" not in response.get("Content-Type", ""):
            return response  # already a SOAP fault
        if response.status_code >= 500:
            fault = SocSecFault(PlatformCode.PROVIDER_ERROR, log_reason=f"HTTP {response.status_code} from Django")
        else:
            fault = SocSecFault(PlatformCode.MALFORMED, log_reason=f"HTTP {response.status_code} from Django")
        return fault_response(fault, 500)  # SOAP 1.1 over HTTP: every fault is a 500

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path_info.startswith(PREFIX):
            return None
        fault = SocSecFault(PlatformCode.PROVIDER_ERROR, log_reason=f"uncaught {type(exception).__name__}")
        return fault_response(fault, 500)
