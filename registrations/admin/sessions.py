"""Operators' sessions end SESSION_MAX_AGE_SECONDS after login, however active they are.

The idle timeout needs no code: SESSION_SAVE_EVERY_REQUEST moves a session's expiry
SESSION_COOKIE_AGE ahead on each request. Django has no absolute limit, hence this stamp.
"""

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

LOGGED_IN_AT = "operator_logged_in_at"


@receiver(user_logged_in)
def _stamp_login(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    # A session kept through a new login of the same user still starts its day again.
    if request is not None and hasattr(request, "session"):
        request.session[LOGGED_IN_AT] = int(time.time())


class SessionMaxAgeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            logged_in_at = request.session.setdefault(LOGGED_IN_AT, int(time.time()))
            if time.time() - logged_in_at > settings.SESSION_MAX_AGE_SECONDS:
                logout(request)
        return self.get_response(request)
