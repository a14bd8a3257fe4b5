"""The operators' console (Django admin), one module per subject; importing this package
registers every screen."""

from registrations.admin import history, registrations

__all__ = ["history", "registrations"]
