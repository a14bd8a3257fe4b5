from django.contrib import admin
from django.urls import include, path

from rest_gateway.oauth import token_endpoint

urlpatterns = [
    path("admin/", admin.site.urls),
    # Exactly /PresenceRegistration/v1, no trailing slash (the official soap:address).
    path("PresenceRegistration/v1", include("soap_gateway.urls")),
    path("REST/presenceRegistration/v1/", include("rest_gateway.urls")),
    path("REST/oauth/v5/token", token_endpoint, name="oauth-token"),
]
