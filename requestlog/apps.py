from django.apps import AppConfig


class RequestLogConfig(AppConfig):
    name = "requestlog"
    default_auto_field = "django.db.models.BigAutoField"
