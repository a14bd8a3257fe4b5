from django.contrib import admin
from django.urls import include, path

from config.observability.exposition import metrics_view
from config.observability.health import LiveView, ReadyView
from registrations.admin.views import dashboard_view, worker_access_view
from rest_gateway.oauth import token_endpoint

urlpatterns = [
    # Operator pages beside the model screens (before admin.site.urls, which would 404 them).
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="admin-dashboard"),
    path("admin/worker-access/", admin.site.admin_view(worker_access_view), name="admin-worker-access"),
    path("admin/", admin.site.urls),
    # The console's language switch: Django's set_language view (POST), at /i18n/setlang/.
    path("i18n/", include("django.conf.urls.i18n")),
    # Exactly /PresenceRegistration/v1, no trailing slash (the official soap:address).
    path("PresenceRegistration/v1", include("soap_gateway.urls")),
    path("REST/presenceRegistration/v1/", include("rest_gateway.urls")),
    path("REST/oauth/v5/token", token_endpoint, name="oauth-token"),
    # For the load balancer, the orchestrator and Prometheus (docs/operations.md).
    path("health/live", LiveView.as_view(), name="health-live"),
    path("health/ready", ReadyView.as_view(), name="health-ready"),
    path("metrics", metrics_view, name="metrics"),
    # Sandbox mode only (docs/sandbox.md): every view there answers 404 when it is off.
    path("sandbox/", include("sandbox.urls")),
]
