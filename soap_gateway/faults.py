"""Whole-call SOAP faults in the platform's shape: an err:SystemError / err:BusinessError
detail with a platform code and a ticket Id that is also written to our log (spec §5).

Per-item business errors are never faults: they are answered in the item's ErrorList.
"""

import logging
from enum import StrEnum

from lxml.builder import ElementMaker
from spyne import Fault

from config.observability import context, metrics

logger = logging.getLogger("soap_gateway.faults")

ERRORS_NS = "http://socialsecurity.be/errors/v1"
_ERR = ElementMaker(namespace=ERRORS_NS, nsmap={"err": ERRORS_NS})
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class PlatformCode(StrEnum):
    NOT_AUTHENTICATED = "SOA-01001"
    NOT_AUTHORISED = "SOA-01002"
    PROVIDER_ERROR = "SOA-02001"
    UNAVAILABLE = "SOA-02002"
    MALFORMED = "SOA-03001"
    NOT_SOAP = "SOA-03002"
    BODY_MISSING = "SOA-03003"
    SCHEMA_VIOLATION = "SOA-03006"
    CONTENT_INVALID = "SOA-03007"


# What the caller reads. Reasons with more detail (why a signature failed) go to our log only.
DEFAULT_MESSAGES = {
    PlatformCode.NOT_AUTHENTICATED: "Service call not authenticated.",
    PlatformCode.NOT_AUTHORISED: "Service call not authorised.",
    PlatformCode.PROVIDER_ERROR: "Internal error of the service provider.",
    PlatformCode.UNAVAILABLE: "The service is temporarily unavailable, retry later.",
    PlatformCode.MALFORMED: "Malformed message.",
    PlatformCode.NOT_SOAP: "The message is not a SOAP 1.1 message.",
    PlatformCode.BODY_MISSING: "The SOAP message has no Body content.",
    PlatformCode.SCHEMA_VIOLATION: "The message does not conform to the contract.",
    PlatformCode.CONTENT_INVALID: "The message content is not valid.",
}
_PROVIDER_SIDE = {PlatformCode.PROVIDER_ERROR, PlatformCode.UNAVAILABLE}


class SocSecFault(Fault):  # type: ignore[misc]  # Spyne has no type information
    """A SOAP fault whose detail validates against the platform's errors schema.

    `ticket` is the detail's Id: the request id, also sent as the X-Request-ID header and
    carried by every log line of the call; `log_reason` (never sent) is logged with it. Faults
    caused by the provider (SOA-02xxx) are `Server` faults with Origin Provider, the rest
    `Client` faults with Origin Consumer. Logged and counted once, at construction.
    """

    def __init__(
        self,
        code: PlatformCode,
        message: str | None = None,
        *,
        kind: str = "SystemError",
        log_reason: str = "",
        retry: bool | None = None,
        log_level: int | None = None,
    ) -> None:
        provider = code in _PROVIDER_SIDE
        self.code = code
        self.ticket = context.ticket()
        retry = code == PlatformCode.UNAVAILABLE if retry is None else retry
        detail = _ERR(
            kind,
            _ERR.Origin("Provider" if provider else "Consumer"),
            _ERR.Code(code.value),
            _ERR.Message(message or DEFAULT_MESSAGES[code], {_XML_LANG: "en"}),
            _ERR.Retry("true" if retry else "false"),
            Id=self.ticket,
        )
        super().__init__(faultcode="Server" if provider else "Client", faultstring=code.value, detail=detail)
        metrics.SOAP_FAULTS.labels(code.value).inc()
        context.note_outcome(metrics.SERVER_ERROR if provider else metrics.CLIENT_ERROR)
        if log_level is None:
            log_level = logging.ERROR if provider else logging.WARNING
        logger.log(
            log_level,
            "SOAP fault %s ticket=%s%s",
            code.value,
            self.ticket,
            f": {log_reason}" if log_reason else "",
        )


class TooManyCalls(SocSecFault):
    """The client is over its rate limit: SOA-02002 "temporarily unavailable", Retry true,
    with the seconds to wait in the message. The gateway answers it with HTTP 429 and a
    Retry-After header (ADR 0013). Logged as a warning: the service itself is fine."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            PlatformCode.UNAVAILABLE,
            f"Too many calls from this client: retry in {retry_after} seconds.",
            retry=True,
            log_reason=f"rate limit, retry after {retry_after} s",
            log_level=logging.WARNING,
        )
