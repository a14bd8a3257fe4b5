"""Mounted at /sandbox/ (config/urls.py); every view answers 404 outside sandbox mode."""

from django.urls import path

from sandbox.views import signup_view

urlpatterns = [path("", signup_view, name="sandbox-signup")]
