"""Per-client rate limits outside a DRF view (spec §9): SOAP calls and token requests.

DRF's SimpleRateThrottle does the counting, as for REST API calls: the same rate syntax and
the same cache (REST_THROTTLE_CACHE: Redis under REST_CACHE_URL, shared by every process;
memory on the embedded default). Each scope counts apart; the key is the client's id, so only
an authenticated caller ever spends a client's budget.
"""

import logging
import math
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import BaseCache, caches
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class ClientKeyedThrottle(SimpleRateThrottle):
    """Counts one client's calls in `scope`; subclasses set `client_id` and `rate` in
    __init__ (not super().__init__(): it reads the rate from DRF's REST settings)."""

    client_id: UUID

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]  # DRF's is a class attribute; ours follows a setting
        return caches[settings.REST_THROTTLE_CACHE]

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.client_id}


def wait_seconds(throttle: ClientKeyedThrottle, what: str) -> int | None:
    """Count one call: None when it may go on, else the whole seconds to wait before the
    client's next call is accepted (at least 1).

    Fails open: when the counters' Redis does not answer, the call goes on (logged). The limit
    protects the service; it must not make a Redis outage stop registrations or tokens, which
    are accepted while Redis is down (README, Production).
    """
    try:
        # DRF's algorithm needs neither the request nor the view: the key is the client's.
        if throttle.allow_request(request=None, view=None):  # type: ignore[arg-type]  # unused: see above
            return None
    except RedisError as exc:
        logger.warning("%s rate limit not checked, the counters are unreachable: %s", what, type(exc).__name__)
        return None
    return max(1, math.ceil(throttle.wait() or 1))
