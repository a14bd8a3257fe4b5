"""Celery application: configured from Django settings (namespace CELERY_)."""

import logging
import os

from celery import Celery
from celery.signals import setup_logging

from config.observability import celery_signals  # noqa: F401  # connects the request id and task metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("presence_registration")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_through_the_service_configuration(loglevel: int | str | None = None, **_: object) -> None:
    """Worker and beat log through the service's redacting configuration (config/logging.py)
    instead of handlers of Celery's own, which would print task arguments, results and
    exceptions in clear. The `-l` level still applies."""
    from django.conf import settings
    from django.utils.log import configure_logging

    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)
