"""Sign-ups per address: the project's client-keyed throttle (registrations.domain.rate_limits),
keyed by the caller's address instead, at SANDBOX_SIGNUP_RATE."""

from typing import Any

from django.conf import settings

from registrations.domain.rate_limits import ClientKeyedThrottle, wait_seconds


class SignupThrottle(ClientKeyedThrottle):
    scope = "sandbox_signup"

    def __init__(self, *, address: str) -> None:
        self.address = address
        self.rate = settings.SANDBOX_SIGNUP_RATE
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.address}


def signup_wait_seconds(*, address: str) -> int | None:
    """Count one sign-up attempt from `address`: None when it may go on, else the seconds to wait."""
    return wait_seconds(SignupThrottle(address=address), "sandbox sign-up")
