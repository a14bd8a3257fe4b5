from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # Exactly /PresenceRegistration/v1, no trailing slash (the official soap:address).
    path("PresenceRegistration/v1", include("soap_gateway.urls")),
    path("REST/presenceRegistration/v1/", include("rest_gateway.urls")),
]
