"""Mounted by config/urls.py at exactly /PresenceRegistration/v1 (the official soap:address)."""

from django.urls import path

from soap_gateway.views import soap_endpoint

urlpatterns = [path("", soap_endpoint, name="soap-endpoint")]
