"""REST mount point, reserved under /REST/presenceRegistration/v1/ (the REST issue fills it)."""

from django.urls import path

from rest_gateway.views import not_yet

urlpatterns = [path("<path:rest>", not_yet, name="rest-not-yet")]
