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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from feed.selectors import delivery_figures
from registrations.admin import charts
from registrations.admin.dashboard import DashboardFigures, dashboard_figures
from registrations.admin.labels import duration_text, remark_text, status_label
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
    shares = [(status_label(status), figures.statuses.get(status, 0)) for status in (Status.VALIDATED, Status.FAILED)]
    remarks = [(remark_text(number), count) for number, count in figures.remarks]
    return {
        "per_day_chart": charts.stacked_bars(gettext("Registrations per day and sector"), columns, series),
        "share_chart": charts.share_bar(gettext("Share validated / failed"), shares),
        "remarks_chart": charts.horizontal_bars(gettext("Most frequent remarks"), remarks),
        "lag_p50": duration_text(figures.lag_p50),
        "lag_p99": duration_text(figures.lag_p99),
    }


def dashboard_view(request: HttpRequest) -> HttpResponse:
    """Registrations per day and sector, validated/failed share, remarks, lag, queue."""
    _require(request, "registrations.view_dashboard")
    figures = dashboard_figures()
    webhooks = delivery_figures()
    context = {
        **admin.site.each_context(request),
        "title": _("Dashboard"),
        "figures": figures,
        "webhooks": webhooks,
        "webhook_lag_p50": duration_text(webhooks.lag_p50),
        "webhook_lag_p99": duration_text(webhooks.lag_p99),
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
