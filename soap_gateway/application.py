"""The Spyne application and the protocol that guards it.

`ContractSoap11` does, in order, before any service code runs: parse with a hardened parser
(no DTD, no entities, no network, libxml2's depth limits), refuse a DOCTYPE, require one
SOAP 1.1 Envelope with exactly one Body holding one request element, authenticate the
caller (WS-Security or trusted proxy) on the document as received, drop comments and
processing instructions, validate the Body against our contract XSD, and check the
SOAPAction. Each refusal is a SocSecFault with its platform code; nothing is stored.
"""

import logging
import re
from typing import Any

from django.db import InterfaceError, OperationalError, transaction
from django.http import HttpResponse
from lxml import etree
from lxml.builder import E
from spyne import Application
from spyne.protocol.soap import Soap11
from spyne.server.django import DjangoServer

from config.observability import context
from registrations.domain.authorisation import Caller
from requestlog.recording import note_client, note_operation
from soap_gateway import security, xmlio
from soap_gateway.faults import PlatformCode, SocSecFault, TooManyCalls
from soap_gateway.schemas import protocol_schema
from soap_gateway.services import PresenceRegistrationService
from soap_gateway.throttling import soap_call_wait_seconds
from soap_gateway.types import PR, T

logger = logging.getLogger(__name__)

SOAP11_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
OPERATIONS = ("registerPresences", "cancelPresences", "searchPresences", "getPresenceRegistration")
# Body element -> the contract's SOAPAction for it.
ACTIONS = {f"{{{PR}}}{op[0].upper()}{op[1:]}Request": f"{PR}/{op}" for op in OPERATIONS}
# Body element -> the operation's name, for the request metrics and log line.
OPERATION_OF = {f"{{{PR}}}{op[0].upper()}{op[1:]}Request": op for op in OPERATIONS}


def hardened_parser() -> etree.XMLParser:
    """No DTD loading, no entity expansion, no network, and libxml2's default limits
    (depth 256, no huge text nodes) kept. Comments and processing instructions stay until
    the signature is verified: exclusive c14n signs processing instructions (bad input 12),
    so they are dropped after authentication (`xmlio.strip_markup`)."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        collect_ids=False,
    )


def parse_envelope(data: bytes) -> etree._Element:
    """The SOAP 1.1 Envelope of `data`. Raises SocSecFault (03001 malformed or DOCTYPE,
    03002 not SOAP 1.1, 03003 no Body content)."""
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as exc:
        # The message is libxml2's position, never the document's content.
        where = f"line {exc.position[0]}, column {exc.position[1]}" if exc.position else ""
        raise SocSecFault(
            PlatformCode.MALFORMED, f"Malformed message: not well-formed XML ({where}).", log_reason=where
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise SocSecFault(PlatformCode.MALFORMED, "A DOCTYPE is not allowed in a SOAP message.")
    if root.tag == f"{{{SOAP12_ENV}}}Envelope":
        raise SocSecFault(PlatformCode.NOT_SOAP, "SOAP 1.2 is not supported: send a SOAP 1.1 Envelope.")
    if root.tag != f"{{{SOAP11_ENV}}}Envelope":
        raise SocSecFault(PlatformCode.NOT_SOAP)
    _check_body(root)
    _note_operation(root)
    return root


def _note_operation(envelope: etree._Element) -> None:
    """Name the call's operation as soon as the Body is known, before authentication, so a
    refused call is counted under the operation it asked for."""
    body = envelope.find(f"{{{SOAP11_ENV}}}Body")
    request = next((child for child in body if isinstance(child.tag, str)), None) if body is not None else None
    if request is not None and request.tag in OPERATION_OF:
        context.note_operation(OPERATION_OF[request.tag])


def _check_body(envelope: etree._Element) -> None:
    """One Body, directly under the Envelope, holding exactly one element (no wrapping)."""
    bodies = envelope.findall(f"{{{SOAP11_ENV}}}Body")
    if len(bodies) > 1 or len(envelope.xpath("//s:Body", namespaces={"s": SOAP11_ENV})) != len(bodies):
        raise SocSecFault(PlatformCode.MALFORMED, "A SOAP message has exactly one Body.")
    elements = [child for child in bodies[0] if isinstance(child.tag, str)] if bodies else []
    if not elements:  # comments and processing instructions are no content
        raise SocSecFault(PlatformCode.BODY_MISSING)
    if len(elements) > 1:
        raise SocSecFault(PlatformCode.SCHEMA_VIOLATION, "The Body holds exactly one request element.")


def operation_of(envelope: etree._Element) -> str:
    """The operation a checked Envelope asks for, from its request element ("" if none of ours)."""
    body = envelope.find(f"{{{SOAP11_ENV}}}Body")
    element = next((child for child in body if isinstance(child.tag, str)), None)  # comments are still there
    return ACTIONS.get(element.tag, "").rsplit("/", 1)[-1] if element is not None else ""


def authenticate(envelope: etree._Element, meta: dict[str, Any]) -> Caller:
    """The caller: from a trusted proxy's certificate header, else from the WS-Security
    signature. Raises SocSecFault 01001 (reason logged only) or 02002 (database down)."""
    try:
        if security.forged_proxy_header(meta):
            raise security.WsSecurityError("certificate header from an address that is not a trusted proxy")
        der = security.proxy_certificate(meta)
        return security.authenticate_proxied(der) if der else security.authenticate_signed(envelope)
    except security.WsSecurityError as exc:
        raise SocSecFault(PlatformCode.NOT_AUTHENTICATED, log_reason=str(exc)) from None
    except (OperationalError, InterfaceError) as exc:  # the database is down or unreachable
        raise SocSecFault(PlatformCode.UNAVAILABLE, log_reason=type(exc).__name__) from None


def _authenticated_within_limit(envelope: etree._Element, request: Any) -> Caller:
    """The caller, once it is authenticated and within its rate limit. Raises SocSecFault.

    Counted once the signature is verified (an unauthenticated flood spends no client's
    budget) and before the schema check and the service, the costly part of a call. The call
    over the limit raises inside the transaction, which rolls back what authentication wrote
    (the seen signature, "last used"): it stores nothing, and the same signed message may be
    sent again after the wait, as SOA-02002's Retry invites.
    """
    try:
        outermost = not transaction.get_connection().in_atomic_block
        with transaction.atomic():
            if outermost:  # never a caller's transaction that writes more than authentication
                security.commit_without_waiting()
            caller = authenticate(envelope, request.META)
            if caller.client_id is None:  # authenticate() answers only with a client's caller
                raise SocSecFault(PlatformCode.PROVIDER_ERROR, log_reason="a SOAP caller without a client")
            note_client(request, caller.client_id)  # its request log shows its calls over the limit too
            wait = soap_call_wait_seconds(client_id=caller.client_id)
            if wait is not None:
                raise TooManyCalls(wait)
    except (OperationalError, InterfaceError) as exc:  # the database is down or unreachable
        raise SocSecFault(PlatformCode.UNAVAILABLE, log_reason=type(exc).__name__) from None
    return caller


# libxml2 quotes the offending value in some messages ("[facet 'pattern'] The value '…' is
# not accepted", "'…' is not a valid value of the atomic type"): such a message is rewritten to
# name the element and the rule only, since a fault is an exception message that proxies and
# client logs keep, and the value may be a NISS (spec §9).
_ELEMENT = re.compile(r"(Element '[^']*'(?:, attribute '[^']*')?): ")
_QUOTES_A_VALUE = re.compile(r"The value '|^Element '[^']*'(?:, attribute '[^']*')?: '|key-sequence")
_FACET = re.compile(r"\[facet '(\w+)'\]")


def schema_error_text(message: str) -> str:
    """libxml2's validation message without the submitted value it may quote."""
    if not _QUOTES_A_VALUE.search(message):
        return message
    element = _ELEMENT.match(message)
    facet = _FACET.search(message)
    rule = f"its '{facet.group(1)}' facet" if facet else "its type"
    return f"{element.group(1) if element else 'A value'}: the value does not satisfy {rule}."


class ContractSoap11(Soap11):  # type: ignore[misc]  # Spyne has no type information
    """Soap11 whose input side enforces the contract before deserialisation."""

    def create_in_document(self, ctx: Any, charset: str | None = None) -> None:
        request = ctx.transport.req
        mime = request.META.get("CONTENT_TYPE", "").split(";")[0].strip().lower()
        if mime == "application/soap+xml":
            raise SocSecFault(PlatformCode.NOT_SOAP, "SOAP 1.2 is not supported: send text/xml (SOAP 1.1).")
        if mime != "text/xml":
            raise SocSecFault(PlatformCode.NOT_SOAP, "Content-Type must be text/xml (SOAP 1.1).")
        envelope = parse_envelope(b"".join(ctx.in_string))
        note_operation(request, operation_of(envelope))
        ctx.udc = _authenticated_within_limit(envelope, request)
        xmlio.strip_markup(envelope)
        ctx.in_document = (envelope, {})

    def validate_body(self, ctx: Any, message: Any) -> None:
        """The Body's request element against our contract XSD (0.2 ms for 200 items).

        Spyne's own validation is off: the XSD is stricter (order, namespaces, choices,
        totalDigits, unknown elements) and Spyne's debug path would log the whole body.
        """
        body = ctx.in_body_doc
        if body.tag not in ACTIONS:
            raise SocSecFault(PlatformCode.SCHEMA_VIOLATION, "The Body is not a request of this contract.")
        schema = protocol_schema()
        if not schema.validate(body):
            error = schema.error_log.last_error
            # The caller gets libxml2's message without any value it quotes; our log gets the path.
            raise SocSecFault(
                PlatformCode.SCHEMA_VIOLATION,
                f"The message does not conform to the contract: line {error.line}: {schema_error_text(error.message)}",
                log_reason=f"{error.path}: {error.type_name}",
            )
        sent = ctx.transport.req.META.get("HTTP_SOAPACTION", "").strip().strip('"')
        if sent and sent != ACTIONS[body.tag]:
            raise SocSecFault(PlatformCode.MALFORMED, "The SOAPAction does not match the message body.")

    def deserialize(self, ctx: Any, message: Any) -> None:
        """Read the schema-valid Body straight from the tree (xmlio), instead of through
        Spyne's per-value machinery. A value Python cannot hold (a year after 9999) is a
        content fault; nothing here may end as a bare HTTP 500."""
        self.event_manager.fire_event("before_deserialize", ctx)
        try:
            ctx.in_object = xmlio.read(ctx.descriptor.in_message, ctx.in_body_doc)
        except (ValueError, OverflowError) as exc:
            raise SocSecFault(
                PlatformCode.CONTENT_INVALID, "A value could not be read.", log_reason=type(exc).__name__
            ) from None
        except Exception as exc:
            fault = SocSecFault(PlatformCode.PROVIDER_ERROR)
            logger.exception("request could not be read, ticket=%s", fault.ticket)
            raise fault from exc
        self.event_manager.fire_event("after_deserialize", ctx)


class ContractOutSoap11(Soap11):  # type: ignore[misc]  # Spyne has no type information
    """Soap11 output: responses written straight into lxml (xmlio), faults by Spyne without
    the empty <faultactor/> it always writes."""

    def serialize(self, ctx: Any, message: Any) -> None:
        if ctx.out_error is not None or message is not self.RESPONSE:
            super().serialize(ctx, message)
            return
        self.event_manager.fire_event("before_serialize", ctx)
        ctx.out_document = etree.Element(f"{{{SOAP11_ENV}}}Envelope", nsmap=self.app.interface.nsmap)
        ctx.out_body_doc = etree.SubElement(ctx.out_document, f"{{{SOAP11_ENV}}}Body")
        xmlio.write_message(ctx.out_body_doc, ctx.descriptor.out_message, ctx.out_object)
        self.event_manager.fire_event("after_serialize", ctx)

    def fault_to_parent(self, ctx: Any, cls: Any, inst: Any, parent: Any, ns: Any, *args: Any, **kwargs: Any) -> Any:
        subelts = [E("faultcode", f"{self.soap_env}:{inst.faultcode}"), E("faultstring", inst.faultstring)]
        if inst.faultactor:
            subelts.append(E("faultactor", inst.faultactor))
        return self._fault_to_parent_impl(ctx, cls, inst, parent, ns, subelts)


class ContractDjangoServer(DjangoServer):  # type: ignore[misc]  # Spyne has no type information
    """A response that cannot be written becomes a provider fault in the platform's shape;
    a call over the client's rate limit is answered 429 with Retry-After."""

    def response(self, response: HttpResponse, p_ctx: Any, others: Any, error: Any = None) -> HttpResponse:
        response = super().response(response, p_ctx, others, error)
        if isinstance(error, TooManyCalls):
            # An HTTP-level refusal, like 411 and 413: proxies and HTTP clients know 429.
            response.status_code = 429
            response["Retry-After"] = str(error.retry_after)
        return response

    def get_out_string(self, ctx: Any) -> None:
        try:
            super().get_out_string(ctx)
        except Exception:
            if ctx.out_error is not None:
                raise
            fault = SocSecFault(PlatformCode.PROVIDER_ERROR)
            logger.exception("response could not be written, ticket=%s", fault.ticket)
            ctx.out_error, ctx.out_object, ctx.out_document, ctx.out_string = fault, None, None, None
            ctx.transport.resp_code = ctx.out_protocol.fault_to_http_response_code(fault)
            super().get_out_string(ctx)


def make_app() -> Application:
    app = Application(
        [PresenceRegistrationService],
        tns=PR,
        name="PresenceRegistration",
        in_protocol=ContractSoap11(validator=None),
        out_protocol=ContractOutSoap11(),
    )
    # Declare the content namespace once on the Envelope instead of on every item (trap T6).
    app.interface.get_namespace_prefix(T)
    return app
