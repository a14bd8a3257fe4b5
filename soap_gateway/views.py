"""The HTTP face of /PresenceRegistration/v1: the contract on GET, SOAP on POST.

GET `?wsdl` serves our WSDL, `?xsd=<protocol|types|errors|xml>` its schemas, with the
imports and soap:address pointing back here. POST goes to Spyne after the body cap: a body
without a Content-Length or larger than SOAP_BODY_MAX_BYTES gets a SOAP fault before any
byte is parsed. Every answer is XML, never an HTML error page.
"""

from functools import lru_cache

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt
from lxml import etree

from config.observability import context
from soap_gateway.application import SOAP11_ENV, ContractDjangoServer, make_app
from soap_gateway.faults import PlatformCode, SocSecFault
from soap_gateway.schemas import DOCUMENTS, WSDL, render

_XML = "text/xml; charset=utf-8"


@lru_cache(maxsize=1)
def _server() -> ContractDjangoServer:
    """Built on first use (0.2-0.4 s), once per process."""
    return ContractDjangoServer(make_app())


def fault_response(fault: SocSecFault, status: int) -> HttpResponse:
    """A SOAP 1.1 fault envelope written here, for refusals before Spyne runs."""
    envelope = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap={"soapenv": SOAP11_ENV})
    body = etree.SubElement(envelope, f"{{{SOAP11_ENV}}}Body")
    element = etree.SubElement(body, f"{{{SOAP11_ENV}}}Fault")
    etree.SubElement(element, "faultcode").text = f"soapenv:{fault.faultcode}"
    etree.SubElement(element, "faultstring").text = fault.faultstring
    etree.SubElement(element, "detail").append(fault.detail)
    content = etree.tostring(envelope, xml_declaration=True, encoding="UTF-8")
    return HttpResponse(content, status=status, content_type=_XML)


def _contract_document(request: HttpRequest) -> HttpResponse:
    base = settings.SOAP_PUBLIC_URL or request.build_absolute_uri(request.path)
    key = request.GET.get("xsd")
    if key is None and "wsdl" in {name.lower() for name in request.GET}:
        return HttpResponse(render(WSDL, base), content_type=_XML)
    if key in DOCUMENTS:
        return HttpResponse(render(DOCUMENTS[key], base), content_type=_XML)
    return HttpResponseNotFound(b"GET ?wsdl for the service description.\n", content_type="text/plain; charset=utf-8")


def _body_refusal(request: HttpRequest) -> HttpResponse | None:
    """A fault response when the body must not be read, else None (and the body is read)."""
    length = request.META.get("CONTENT_LENGTH") or ""
    if not length.isdigit():
        fault = SocSecFault(PlatformCode.MALFORMED, "A Content-Length is required.", log_reason="no length")
        return fault_response(fault, 411)
    limit = settings.SOAP_BODY_MAX_BYTES
    too_big = int(length) > limit
    if not too_big:
        try:
            request.body  # noqa: B018  # read now, still under Django's own cap
        except RequestDataTooBig:
            too_big = True
    if too_big:
        message = f"The message is larger than {limit} bytes."
        return fault_response(SocSecFault(PlatformCode.MALFORMED, message, log_reason=f"length {length}"), 413)
    return None


@csrf_exempt
def soap_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        context.note_operation("contract")  # the WSDL and its schemas
        return _contract_document(request)
    if request.method != "POST":
        return fault_response(SocSecFault(PlatformCode.NOT_SOAP, "Use POST for SOAP calls."), 405)
    refusal = _body_refusal(request)
    if refusal is not None:
        return refusal
    response: HttpResponse = _server().handle_rpc(request)
    return response
