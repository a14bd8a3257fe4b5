"""Per-client rate limits (spec §9): a 429 problem with Retry-After, other clients unaffected.

The counters live in the cache named by REST_THROTTLE_CACHE: Redis in production (shared by
every process), process-local memory on the embedded default. DRF's counter is read-then-
write, so the limit is approximate under heavy concurrency; a flood of bad tokens never
reaches it (authentication runs first) and belongs to the reverse proxy.
"""

from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from rest_gateway.auth import Principal


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"

    def __init__(self) -> None:
        # SimpleRateThrottle reads its rate from a class attribute frozen at import time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]
        return caches[settings.REST_THROTTLE_CACHE]

    def get_rate(self) -> str | None:
        rate: str | None = settings.REST_RATE_LIMIT
        return rate

    def allow_request(self, request: Request, view: Any) -> bool:
        # An operator may give a client its own limit (Client.rate_limit, set in the admin);
        # the client row came with the token, so this costs no query.
        principal = request.auth
        if isinstance(principal, Principal) and principal.client.rate_limit:
            self.rate = principal.client.rate_limit
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        principal = request.auth
        if not isinstance(principal, Principal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": principal.client_id}
