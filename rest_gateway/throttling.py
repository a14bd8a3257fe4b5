"""Per-client rate limits (spec §9): a 429 problem with Retry-After, other clients unaffected.

The counters live in the cache named by REST_THROTTLE_CACHE: Redis in production (shared by
every process), process-local memory on the embedded default. DRF's counter is read-then-
write, so the limit is approximate under heavy concurrency; a flood of bad tokens never
reaches it (authentication runs first) and belongs to the reverse proxy. Every limit here
fails open: while the counters' Redis does not answer, calls go on (logged as a warning).

The token endpoint is a plain Django view, outside DRF's throttling: it counts each client's
token requests itself (`token_request_wait_seconds`), once the assertion is verified.
"""

import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from redis.exceptions import RedisError
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from registrations.domain.rate_limits import ClientKeyedThrottle, wait_seconds
from rest_gateway.auth import Principal

if TYPE_CHECKING:
    from registrations.models import Client

logger = logging.getLogger(__name__)


class ClientRateThrottle(SimpleRateThrottle):
    scope = "client"

    def __init__(self) -> None:
        # SimpleRateThrottle reads its rate from a class attribute frozen at import time.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]  # DRF's is a class attribute; ours follows a setting
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
        try:
            return super().allow_request(request, view)
        except RedisError as exc:
            # Fails open, as the SOAP and token limits do: a Redis outage must not stop the
            # API, which accepts registrations while Redis is down (README, Production).
            logger.warning("REST rate limit not checked, the counters are unreachable: %s", type(exc).__name__)
            return True

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        principal = request.auth
        if not isinstance(principal, Principal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": principal.client_id}


class TokenRequestRateThrottle(ClientKeyedThrottle):
    """The token requests of one client (scope `oauth_token`, apart from its API calls).

    A client needs one token per OAUTH_ACCESS_TOKEN_SECONDS, so its budget is the small
    OAUTH_TOKEN_RATE_LIMIT; the client's own `rate_limit`, meant for its API calls, may lower
    that budget but never raises it (ADR 0013).
    """

    scope = "oauth_token"

    def __init__(self, *, client: "Client") -> None:
        self.client_id = client.pk
        self.rate = self._slower(settings.OAUTH_TOKEN_RATE_LIMIT, client.rate_limit)
        self.num_requests, self.duration = self.parse_rate(self.rate)

    def _slower(self, default: str, own: str) -> str:
        if not own:
            return default
        return own if self._per_second(own) < self._per_second(default) else default

    def _per_second(self, rate: str) -> float:
        count, seconds = self.parse_rate(rate)
        if count is None or seconds is None:  # parse_rate's answer to an empty rate
            raise ValueError("a rate limit cannot be empty")
        return count / seconds


def token_request_wait_seconds(*, client: "Client") -> int | None:
    """Count one token request of `client` (whose assertion is verified): None when it may go
    on, else the seconds to wait (at least 1). Fails open while the counters' Redis does not
    answer: tokens keep being issued (registrations.domain.rate_limits)."""
    return wait_seconds(TokenRequestRateThrottle(client=client), "token")
