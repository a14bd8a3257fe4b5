"""What a gateway learns about a call while it answers it, kept on the request for the request
log (`requestlog.middleware` starts it and writes it once the answer is sent).

The gateways note what only they know: the authenticated client, the operation, and the
outcome of each item of a batch. Each note is a no-op on a request that is not being recorded.
"""

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from django.utils import timezone

from requestlog.models import Channel

_ATTRIBUTE = "request_log_call"


@dataclass
class Call:
    channel: Channel
    at: datetime = field(default_factory=timezone.now)
    started: float = field(default_factory=time.perf_counter)
    client_id: UUID | None = None
    operation: str = ""
    items: dict[str, Any] = field(default_factory=dict)

    @property
    def elapsed_ms(self) -> float:
        return round((time.perf_counter() - self.started) * 1000, 2)


def start_call(request: object, channel: Channel) -> Call:
    call = Call(channel=channel)
    setattr(request, _ATTRIBUTE, call)
    return call


def call_of(request: object) -> Call | None:
    """The call being recorded for this request (a Django request or DRF's, which reads through
    to it), or None."""
    call = getattr(request, _ATTRIBUTE, None)
    return call if isinstance(call, Call) else None


def note_client(request: object, client_id: UUID | None) -> None:
    """The client the gateway authenticated: the record is its to read."""
    call = call_of(request)
    if call is not None:
        call.client_id = client_id


def note_operation(request: object, operation: str) -> None:
    call = call_of(request)
    if call is not None:
        call.operation = operation


class _CodedError(Protocol):
    @property
    def code(self) -> int: ...


class ItemOutcome(Protocol):
    """One item's result, as the core's batch services answer it (`ItemResult`)."""

    @property
    def stored(self) -> object | None: ...

    @property
    def errors(self) -> Sequence[_CodedError]: ...

    @property
    def replayed(self) -> bool: ...


def note_items(request: object, results: Sequence[ItemOutcome], *, done: str) -> None:
    """Count a batch's item outcomes: `done` ("created" or "cancelled"), "replayed" (already
    stored: the stored registration was answered), and the refused ones by error code."""
    call = call_of(request)
    if call is None:
        return
    counts: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    for result in results:
        if result.errors:
            refused.update(str(int(error.code)) for error in result.errors)
            counts["refused"] += 1
        elif result.stored is not None:
            counts["replayed" if result.replayed else done] += 1
    call.items = {done: counts[done], "replayed": counts["replayed"], "refused": counts["refused"]}
    if refused:
        call.items["refusedByCode"] = dict(sorted(refused.items(), key=lambda entry: int(entry[0])))
