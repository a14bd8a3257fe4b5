from django.apps import AppConfig


class SoapGatewayConfig(AppConfig):
    name = "soap_gateway"
    default_auto_field = "django.db.models.BigAutoField"
