"""The operators' console (Django admin), one module per subject; importing this package
registers every screen."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from registrations.admin import clients, feed, history, reference, registrations, requestlog

admin.site.index_template = "admin/presence_index.html"
# The service's name, in the operator's language, where Django would say "Django administration".
admin.site.site_header = _("PresenceRegistration — operators' console")
admin.site.site_title = _("PresenceRegistration console")
admin.site.index_title = _("Registrations, registers and clients")
# No public site behind the console: no "View site" link to a page that does not exist.
admin.site.site_url = None

__all__ = ["clients", "feed", "history", "reference", "registrations", "requestlog"]
