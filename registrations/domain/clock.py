"""Now and today for a caller: the one place where the core reads the time of a decision.

In sandbox mode (SANDBOX_MODE=1, docs/sandbox.md) an operator may give a client a clock offset,
so a vendor can try "tomorrow", "too late to cancel" or the 10-minute real-time rule without
changing any machine's clock. The offset moves what admission and cancellation decide
(the date a presence may have, whether a cancellation is too late, whether a cleaning event
is too late or too early); what is stored stays on the real clock (created_at, history).
Outside sandbox mode the offset is ignored, whatever is stored.
"""

from datetime import date, datetime

from django.conf import settings
from django.utils import timezone

from registrations.domain.authorisation import Caller


def caller_now(caller: Caller) -> datetime:
    """The moment the core decides with for this caller: now, moved by its clock offset in
    sandbox mode only."""
    now = timezone.now()
    if caller.clock_offset and settings.SANDBOX_MODE:
        return now + caller.clock_offset
    return now


def caller_today(caller: Caller) -> date:
    """The caller's today in Europe/Brussels (see `caller_now`)."""
    return timezone.localdate(caller_now(caller))
