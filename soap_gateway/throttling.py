"""The per-client SOAP rate limit (spec §9), the counterpart of rest_gateway/throttling.py.

DRF's SimpleRateThrottle does the counting, as on REST: the same rate syntax, the same cache
(REST_THROTTLE_CACHE: Redis under REST_CACHE_URL, shared by every process; memory on the
embedded default), the client's own `rate_limit` or else SOAP_RATE_LIMIT. The counter is
separate from the REST one (scope `soap_client`). Only authenticated calls are counted, so
nobody else can spend a client's budget.
"""

import logging
import math
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.cache import BaseCache, caches
from redis.exceptions import RedisError
from rest_framework.throttling import SimpleRateThrottle

from registrations.clients import client_rate_limit

logger = logging.getLogger(__name__)


class SoapClientRateThrottle(SimpleRateThrottle):
    scope = "soap_client"

    def __init__(self, *, client_id: UUID, own_rate: str) -> None:
        # Not super().__init__(): it reads the rate from DRF's REST settings.
        self.client_id = client_id
        self.rate = own_rate or settings.SOAP_RATE_LIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)

    @property
    def cache(self) -> BaseCache:  # type: ignore[override]
        return caches[settings.REST_THROTTLE_CACHE]

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.client_id}


def soap_call_wait_seconds(*, client_id: UUID) -> int | None:
    """Count one call of the client: None when it may go on, else the whole seconds to wait
    before its next call is accepted (at least 1).

    Fails open: when the counters' Redis does not answer, the call goes on (logged). The
    limit protects the service; it must not make a Redis outage stop registrations, which
    are accepted while Redis is down (README, Production).
    """
    throttle = SoapClientRateThrottle(client_id=client_id, own_rate=client_rate_limit(client_id=client_id))
    try:
        # DRF's algorithm needs neither the request nor the view: the key is the client's.
        if throttle.allow_request(request=None, view=None):  # type: ignore[arg-type]
            return None
    except RedisError as exc:
        logger.warning("SOAP rate limit not checked, the counters are unreachable: %s", type(exc).__name__)
        return None
    return max(1, math.ceil(throttle.wait() or 1))
