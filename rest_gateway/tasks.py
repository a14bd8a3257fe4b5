"""Housekeeping of the token endpoint's tables (Celery beat, hourly)."""

from celery import shared_task
from django.utils import timezone

from rest_gateway.models import AccessToken, UsedClientAssertion


@shared_task
def purge_expired_credentials() -> int:
    """Delete expired access tokens and assertion ids; returns how many rows went.

    An assertion id is useless once its assertion has expired (PyJWT refuses it anyway),
    and an expired token only answers expiredAccessToken, which an unknown one replaces.
    """
    now = timezone.now()
    tokens, _ = AccessToken.objects.filter(expires_at__lt=now).delete()
    assertions, _ = UsedClientAssertion.objects.filter(expires_at__lt=now).delete()
    return tokens + assertions
