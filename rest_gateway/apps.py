from django.apps import AppConfig


class RestGatewayConfig(AppConfig):
    name = "rest_gateway"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the OpenAPI extension for the Bearer authentication class.
        from rest_gateway import schema  # noqa: F401
        from rest_gateway.token_cache import connect_token_revocation

        connect_token_revocation()
