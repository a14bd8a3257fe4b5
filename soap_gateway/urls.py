"""SOAP mount point, reserved at exactly /PresenceRegistration/v1 (the SOAP gateway issue fills it)."""

from django.urls import path

from soap_gateway.views import soap_endpoint

urlpatterns = [path("", soap_endpoint, name="soap-endpoint")]
