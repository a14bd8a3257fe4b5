"""GET /metrics: the Prometheus text exposition, for Prometheus only (docs/operations.md).

Admitted: a request with `Authorization: Bearer <METRICS_TOKEN>`, or one whose peer address
(REMOTE_ADDR, gunicorn's direct peer, never a forwarded header) is in METRICS_ALLOWED_NETWORKS.
Anything else gets 401, and the embedded default admits no one until one of them is set.

With PROMETHEUS_MULTIPROC_DIR set (`make serve` sets it), every gunicorn worker and Celery
process of the machine writes its counters to memory-mapped files there, and a scrape of any
worker adds them all up (prometheus-client's multiprocess mode). Without it, the counters are
the answering process's own: right for the embedded default's single process.
"""

import hmac
import ipaddress
import os
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector

from config.observability.collectors import DomainCollector


class _ThisProcess:
    """The default registry (this process's counters, its CPU and memory) on a scrape's registry."""

    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


def scrape() -> bytes:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated
    else:
        registry.register(_ThisProcess())
    registry.register(DomainCollector())
    return generate_latest(registry)


def _bearer_token_matches(request: HttpRequest) -> bool:
    expected = settings.METRICS_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(given.strip(), expected)


def _from_allowed_network(request: HttpRequest) -> bool:
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in settings.METRICS_ALLOWED_NETWORKS)


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not (_bearer_token_matches(request) or _from_allowed_network(request)):
        refusal = b"Metrics are for the service's Prometheus only.\n"
        response = HttpResponse(refusal, status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    response = HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)
    add_never_cache_headers(response)
    return response
