from django.apps import AppConfig


class RestGatewayConfig(AppConfig):
    name = "rest_gateway"
    default_auto_field = "django.db.models.BigAutoField"
