"""The SOAP gateway's request log (requestlog/): every POST under /PresenceRegistration/.

The gateway notes the client it authenticated and the operation of the Body
(`application.ContractSoap11`), and the item outcomes of a batch (`services`); this reads the
rest off the answer: a fault's platform code and its ticket (the detail's Id).
"""

from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from lxml import etree

from requestlog.middleware import RequestLogMiddleware
from requestlog.models import Channel
from requestlog.recording import Call
from soap_gateway.application import OPERATIONS, hardened_parser
from soap_gateway.faults import ERRORS_NS
from soap_gateway.middleware import PREFIX

_ACTION_PREFIX = "http://socialsecurity.be/presenceregistration/v1/"


class SoapRequestLog(RequestLogMiddleware):
    channel = Channel.SOAP

    def is_call(self, request: HttpRequest) -> bool:
        return request.method == "POST" and request.path_info.startswith(PREFIX)

    def max_body_bytes(self) -> int:
        return int(settings.SOAP_BODY_MAX_BYTES)

    def operation(self, request: HttpRequest, call: Call) -> str:
        """The Body's operation; before the Body is read (a refusal), the SOAPAction's if ours."""
        if call.operation:
            return call.operation
        action = request.META.get("HTTP_SOAPACTION", "").strip().strip('"').removeprefix(_ACTION_PREFIX)
        return action if action in OPERATIONS else ""

    def error(self, response: HttpResponseBase) -> tuple[str, UUID | None]:
        if response.status_code == 200 or not isinstance(response, HttpResponse):
            return "", None
        try:
            fault = etree.fromstring(response.content, hardened_parser())
        except etree.XMLSyntaxError:
            return f"HTTP {response.status_code}", None
        code = fault.findtext(f".//{{{ERRORS_NS}}}Code") or ""
        details = fault.xpath("//err:SystemError/@Id | //err:BusinessError/@Id", namespaces={"err": ERRORS_NS})
        try:
            return code or f"HTTP {response.status_code}", UUID(str(details[0])) if details else None
        except ValueError:
            return code, None
