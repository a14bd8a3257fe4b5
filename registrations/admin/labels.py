"""The console's words for the core's codes, in the operator's language.

The stored codes stay what the contract and the gateways say (FAILED, HOLIDAY, remark 12,
client:<uuid>); an operator reads them here in words, next to the code. Remark labels come
from the one remark catalogue (registrations/domain/remarks.py) that REST publishes too, so
the console and the API never word a remark differently.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import formats, timezone
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import CancellationReason, Channel, Status
from registrations.validation.run import WORKER_ACTOR, WORKER_CHANNEL

STATUS_LABELS: dict[str, Promise] = {
    Status.REGISTERED: _("waiting for validation"),
    Status.VALIDATED: _("valid"),
    Status.FAILED: _("remarks found"),
    Status.CANCELLED: _("cancelled"),
}


def remark_label(number: int) -> str:
    """A remark's label in the active language; a number no catalogue knows is said so."""
    remark = REMARKS.get(number)
    return remark.label(get_language()) if remark else gettext("unknown remark")


def remark_text(number: int) -> str:
    """Code and label: "12: The enterprise is neither builder nor subcontractor in this declaration"."""
    return f"{number}: {remark_label(number)}"


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def status_code(status: str) -> str:
    """The contract's spelling of a stored status (SOAP's and the integrators' word)."""
    return str(Status(status).label) if status in Status.values else status


def reason_label(reason: str) -> str:
    return str(CancellationReason(reason).label) if reason in CancellationReason.values else reason


def channel_label(channel: str) -> str:
    if channel == WORKER_CHANNEL:
        return gettext("automatic validation")
    return str(Channel(channel).label) if channel in Channel.values else channel


def actor_label(actor: str, client_names: dict[str, str]) -> str:
    """Who acted, in words: a client by its name, an operator by username, the worker."""
    if actor in client_names:
        return gettext("client %(name)s") % {"name": client_names[actor]}
    if actor.startswith("client:"):
        return gettext("client %(id)s (removed)") % {"id": actor.removeprefix("client:")}
    if actor.startswith("operator:"):
        return gettext("operator %(name)s") % {"name": actor.removeprefix("operator:")}
    if actor == WORKER_ACTOR:
        return gettext("validation worker")
    return actor


def duration_text(duration: timedelta | None) -> str:
    """A lag as people read it: "191 ms", "4.2 s", "3 min 05 s", "2 h 07 min"; "—" for none."""
    if duration is None:
        return "—"
    seconds = duration.total_seconds()
    if seconds < 1:
        return f"{round(seconds * 1000)} ms"
    if seconds < 60:
        return f"{formats.number_format(Decimal(f'{seconds:.1f}'), 1)} s"
    minutes, rest = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


# One unambiguous way to write a moment in every language (the console's tables use it too).
MOMENT_FORMAT = "Y-m-d H:i"


def moment_text(moment: datetime | None) -> str:
    """A timestamp in Brussels time, as "2026-11-26 17:30"."""
    if moment is None:
        return "—"
    return formats.date_format(timezone.localtime(moment), MOMENT_FORMAT)
