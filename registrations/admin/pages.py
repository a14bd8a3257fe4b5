"""The console's workplace and person pages, linked from every registration.

Each page reads one selector (registrations/selectors/workplaces.py, persons.py) and puts
it into the operator's words; the registration admin mounts them and checks the operator may
view registrations. A person's page is addressed by the opaque key of guards.py (or reached
through the POSTed person search), never by a NISS in the URL.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext

from registrations.admin.labels import moment_text, remark_text, status_code, status_label
from registrations.domain.authorisation import Caller
from registrations.domain.remarks import remarks_in_mask
from registrations.domain.vocabulary import Sector, Status
from registrations.models import Person, Registration
from registrations.selectors.inspection import SnapshotRow
from registrations.selectors.persons import LATEST_REGISTRATIONS, person_overview
from registrations.selectors.workplaces import WORKPLACE_DAYS, workplace_overview


@dataclass(frozen=True)
class RegistrationLine:
    """One registration as a row of a page's table."""

    registration: Registration
    status: str
    status_code: str
    remarks: list[str]
    event_time: str


@dataclass(frozen=True)
class OnSiteLine:
    """One person on the workplace today: a presence, or a cleaning IN still open."""

    row: SnapshotRow
    sector: str
    since: str
    status: str
    remarks: list[str]


def _line(registration: Registration) -> RegistrationLine:
    return RegistrationLine(
        registration=registration,
        status=status_label(registration.status),
        status_code=status_code(registration.status),
        remarks=[remark_text(number) for number in remarks_in_mask(registration.remark_mask)],
        event_time=moment_text(registration.event_at) if registration.event_at else "",
    )


def _on_site(row: SnapshotRow, registration: Registration) -> OnSiteLine:
    return OnSiteLine(
        row=row,
        sector=str(Sector(row.sector).label),
        since=moment_text(row.on_site_since) if row.on_site_since else "",
        status=status_label(registration.status),
        remarks=[remark_text(number) for number in row.remarks],
    )


def workplace_page(request: HttpRequest, site: AdminSite, *, operator: Caller, workplace_id: str) -> HttpResponse:
    now = timezone.now()
    overview = workplace_overview(caller=operator, workplace_id=workplace_id, today=timezone.localdate(now), now=now)
    context: dict[str, Any] = {
        **site.each_context(request),
        "title": gettext("Workplace %(id)s") % {"id": workplace_id},
        "overview": overview,
        # The snapshot lists its rows and the registrations behind them in the same order.
        "on_site": [_on_site(*shown) for shown in zip(overview.on_site.rows, overview.on_site.shown, strict=True)],
        "statuses": [(status, status_label(status)) for status in Status.values],
        "days": [(day, [day.by_status[status] for status in Status.values]) for day in overview.days],
        "remarks": [(remark_text(number), count) for number, count in overview.remarks],
        "latest": [_line(registration) for registration in overview.latest],
        "window_days": WORKPLACE_DAYS,
    }
    return TemplateResponse(request, "admin/registrations/workplace.html", context)


def person_page(request: HttpRequest, site: AdminSite, *, operator: Caller, niss: str) -> HttpResponse:
    overview = person_overview(caller=operator, niss=niss)
    context: dict[str, Any] = {
        **site.each_context(request),
        "title": gettext("Person %(name)s") % {"name": _person_name(overview.person) or f"…{niss[-4:]}"},
        "overview": overview,
        "registrations": [_line(registration) for registration in overview.registrations],
        "remarks": [(remark_text(number), count) for number, count in overview.remarks],
        "latest_limit": LATEST_REGISTRATIONS,
    }
    return TemplateResponse(request, "admin/registrations/person.html", context)


def _person_name(person: Person | None) -> str:
    return f"{person.given_name} {person.family_name}".strip() if person else ""
