from django.apps import AppConfig


class RestGatewayConfig(AppConfig):
    name = "rest_gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI extension for the Bearer authentication class.
        from rest_gateway import schema  # noqa: F401
