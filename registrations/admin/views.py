"""Operator pages beside the model screens: the dashboard and worker transparency.

Mounted under /admin/ by config/urls.py and wrapped in `admin.site.admin_view` (staff login).
"""

import logging
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _

from feed.selectors import delivery_figures
from registrations.admin import charts
from registrations.admin.dashboard import DashboardFigures, dashboard_figures
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Sector, Status
from registrations.selectors.transparency import InvalidNissError, worker_accesses

# Who looked at whose access list is itself worth knowing; the NISS is never written.
audit = logging.getLogger("registrations.audit")


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _charts(figures: DashboardFigures) -> dict[str, Any]:
    columns = [day.strftime("%d/%m") for day in figures.days]
    series = [
        (str(Sector(sector).label), [figures.per_day_and_sector[day].get(sector, 0) for day in figures.days])
        for sector in figures.sectors
    ]
    shares = [
        (str(Status.VALIDATED.label), figures.statuses.get(Status.VALIDATED, 0)),
        (str(Status.FAILED.label), figures.statuses.get(Status.FAILED, 0)),
    ]
    remarks = [(f"{number}: {REMARKS[number].en}"[:24], count) for number, count in figures.remarks]
    return {
        "per_day_chart": charts.stacked_bars(_t("Registrations per day and sector"), columns, series),
        "share_chart": charts.share_bar(_t("Share validated / failed"), shares),
        "remarks_chart": charts.horizontal_bars(_t("Most frequent remarks"), remarks),
    }


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Registrations per day and sector, validated/failed share, remarks, lag, queue."""
    _require(request, "registrations.view_dashboard")
    figures = dashboard_figures()
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "figures": figures,
        "webhooks": delivery_figures(),
        **_charts(figures),
    }
    return TemplateResponse(request, "admin/registrations/dashboard.html", context)


class WorkerAccessForm(forms.Form):
    niss = forms.CharField(label=_("NISS or BIS number"), max_length=20)


def worker_access_view(request: HttpRequest) -> HttpResponse:
    """Who consulted a person's registrations. The NISS travels in the POST body only."""
    _require(request, "registrations.view_worker_access")
    form = WorkerAccessForm(request.POST or None)
    accesses = None
    if request.method == "POST" and form.is_valid():
        try:
            accesses = worker_accesses(niss=form.cleaned_data["niss"])
        except InvalidNissError as exc:
            form.add_error("niss", str(exc))
        else:
            audit.info("worker access list shown to operator:%s (%d rows)", request.user.get_username(), len(accesses))
    context = {
        **admin.site.each_context(request),
        "title": _("Who consulted a worker's registrations"),
        "form": form,
        "accesses": accesses,
    }
    return TemplateResponse(request, "admin/registrations/worker_access.html", context)
