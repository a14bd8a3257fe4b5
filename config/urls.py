from django.contrib import admin
from django.urls import include, path

from registrations.admin.views import dashboard_view, worker_access_view
from rest_gateway.oauth import token_endpoint

urlpatterns = [
    # Operator pages beside the model screens (before admin.site.urls, which would 404 them).
    path("admin/dashboard/", admin.site.admin_view(dashboard_view), name="admin-dashboard"),
    path("admin/worker-access/", admin.site.admin_view(worker_access_view), name="admin-worker-access"),
    path("admin/", admin.site.urls),
    # Exactly /PresenceRegistration/v1, no trailing slash (the official soap:address).
    path("PresenceRegistration/v1", include("soap_gateway.urls")),
    path("REST/presenceRegistration/v1/", include("rest_gateway.urls")),
    path("REST/oauth/v5/token", token_endpoint, name="oauth-token"),
    # Sandbox mode only (docs/sandbox.md): every view there answers 404 when it is off.
    path("sandbox/", include("sandbox.urls")),
]
