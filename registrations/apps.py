from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistrationsConfig(AppConfig):
    name = "registrations"
    verbose_name = _("Registrations and registers")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The admin has imported every app's admin module by now (django.contrib.admin comes
        # first in INSTALLED_APPS): the lists of other apps get the same URL-lookup guard.
        from django.contrib import admin

        from registrations.admin.guards import guard_other_apps_lists
        from registrations.services.client_stamp import connect_client_stamp

        guard_other_apps_lists(admin.site)
        connect_client_stamp()
