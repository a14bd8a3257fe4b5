"""The per-client SOAP rate limit (spec §9), the counterpart of rest_gateway/throttling.py.

DRF's SimpleRateThrottle does the counting, as on REST: the same rate syntax, the same cache
(REST_THROTTLE_CACHE: Redis under REST_CACHE_URL, shared by every process; memory on the
embedded default), the client's own `rate_limit` or else SOAP_RATE_LIMIT. The counter is
separate from the REST one (scope `soap_client`). Only authenticated calls are counted, so
nobody else can spend a client's budget.
"""

from uuid import UUID

from django.conf import settings

from registrations.domain.rate_limits import ClientKeyedThrottle, wait_seconds
from registrations.selectors.clients import client_rate_limit


class SoapClientRateThrottle(ClientKeyedThrottle):
    scope = "soap_client"

    def __init__(self, *, client_id: UUID, own_rate: str) -> None:
        self.client_id = client_id
        self.rate = own_rate or settings.SOAP_RATE_LIMIT
        self.num_requests, self.duration = self.parse_rate(self.rate)


def soap_call_wait_seconds(*, client_id: UUID) -> int | None:
    """Count one call of the client: None when it may go on, else the seconds to wait (at
    least 1). Fails open while the counters' Redis does not answer (registrations.domain.rate_limits)."""
    throttle = SoapClientRateThrottle(client_id=client_id, own_rate=client_rate_limit(client_id=client_id))
    return wait_seconds(throttle, "SOAP")
