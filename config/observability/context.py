"""The request (or task) being served: its id and what the gateways tell about it.

The request id is the ticket a client sees: the `X-Request-ID` header of every answer, the `Id`
of a SOAP fault, the `instance` of a REST problem. Every log line written while it is current
carries it (config/logging.py), and the validation task of the batch a call registered carries
it too (celery_signals.py): one grep follows a registration from the call to its validation.
"""

import uuid
from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class RequestContext:
    request_id: str
    # What the request did, for the request metrics; the gateways say it as soon as they know.
    operation: str = ""
    # Set by a gateway when the HTTP status does not tell the outcome (a SOAP fault is always
    # a 500, whether the client or the provider caused it).
    outcome: str = ""


_current: ContextVar[RequestContext | None] = ContextVar("presence_request", default=None)


def new_request_id() -> str:
    return str(uuid.uuid4())


def begin(request_id: str | None = None) -> Token[RequestContext | None]:
    """Make a new request (or task) current; `end` with the token it returns."""
    return _current.set(RequestContext(request_id or new_request_id()))


def end(token: Token[RequestContext | None]) -> None:
    _current.reset(token)


def clear() -> None:
    """No request is current any more (the answer was sent)."""
    _current.set(None)


def current() -> RequestContext | None:
    return _current.get()


def current_request_id() -> str | None:
    context = _current.get()
    return context.request_id if context else None


def ticket() -> str:
    """The id a client quotes to support: the current request's, or a fresh one outside any
    request (a fault built by a test or a command)."""
    return current_request_id() or new_request_id()


def note_operation(name: str) -> None:
    context = _current.get()
    if context is not None:
        context.operation = name


def note_outcome(outcome: str) -> None:
    context = _current.get()
    if context is not None:
        context.outcome = outcome
