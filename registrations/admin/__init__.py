"""The operators' console (Django admin), one module per subject; importing this package
registers every screen."""

from django.contrib import admin

from registrations.admin import clients, feed, history, reference, registrations

admin.site.index_template = "admin/presence_index.html"

__all__ = ["clients", "feed", "history", "reference", "registrations"]
