"""Reverse look-ups for registrations: which address a registration's coordinates are at.

Never on the request path: the worker resolves places after admission (from the local
address register, cached by rounded coordinates), and an external geocoder, when one is
configured (GEOCODER_URL), is asked in its own Celery task with a short timeout, so a slow or
dead geocoder delays the address, never a registration (bad input 40).
"""

import json
import logging
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.cache import cache

from registrations.domain.vocabulary import Status
from registrations.models import Registration
from registrations.registers.addresses import addresses_near

logger = logging.getLogger(__name__)

CACHE_SECONDS = 24 * 3600
_NOTHING: dict[str, Any] = {}  # cached "no address near here"
# Stored when the external geocoder answers that it knows no address at the coordinates.
NO_ADDRESS: dict[str, Any] = {"address": None, "source": "geocoder"}


def _cache_key(latitude: float, longitude: float) -> str:
    # 5 decimals: about 1 m, so every event of one site shares the entry.
    return f"place:{latitude:.5f}:{longitude:.5f}"


def nearest_place(latitude: float, longitude: float) -> dict[str, Any] | None:
    """The nearest register address within 150 m, as stored on a registration; cached."""
    key = _cache_key(latitude, longitude)
    cached = cache.get(key)
    if cached is not None:
        return cached or None
    found = addresses_near(latitude, longitude, limit=1)
    place = _NOTHING
    if found:
        address = found[0].address
        place = {
            "address": {
                "postCode": address.post_code,
                "municipalityName": address.municipality_name,
                "streetName": address.street_name,
                "houseNumber": address.house_number,
                "boxNumber": address.box_number or None,
            },
            "distanceMeters": found[0].distance_m,
            "source": "register",
        }
    cache.set(key, place, CACHE_SECONDS)
    return place or None


def resolve_places(registrations: Iterable[Registration]) -> list[int]:
    """Fill `place_address` of registrations with coordinates and no address yet, from the
    register. Returns the ids the register could not place (for the external geocoder)."""
    unresolved = []
    for registration in registrations:
        if registration.latitude is None or registration.longitude is None or registration.place_address:
            continue
        place = nearest_place(float(registration.latitude), float(registration.longitude))
        if place is None:
            unresolved.append(registration.pk)
            continue
        Registration.objects.filter(pk=registration.pk, place_address__isnull=True).update(place_address=place)
    return unresolved


def geocode_externally(registration_id: int) -> bool:
    """Ask the configured external geocoder for one registration's address. Raises on a
    timeout or error (the task retries); True when an address was stored."""
    registration = Registration.objects.filter(pk=registration_id, place_address__isnull=True).first()
    if registration is None or registration.latitude is None or registration.longitude is None:
        return False
    query = urllib.parse.urlencode({"lat": registration.latitude, "lon": registration.longitude})
    url = f"{settings.GEOCODER_URL}?{query}"
    with urllib.request.urlopen(url, timeout=settings.GEOCODER_TIMEOUT_SECONDS) as response:  # noqa: S310
        answer = json.load(response)
    address = answer.get("address") if isinstance(answer, dict) else None
    if address is None and isinstance(answer, dict):
        # The geocoder knows no address here: recorded, so the geocoding sweep never asks again.
        Registration.objects.filter(pk=registration_id, place_address__isnull=True).update(place_address=NO_ADDRESS)
        return False
    if not isinstance(address, dict):
        return False
    place = {"address": address, "distanceMeters": answer.get("distanceMeters"), "source": "geocoder"}
    return bool(Registration.objects.filter(pk=registration_id, place_address__isnull=True).update(place_address=place))


def registrations_awaiting_address(*, created_before: datetime, limit: int) -> list[int]:
    """Ids of validated registrations whose coordinates have no address yet, created before
    `created_before`, oldest first: what the geocoding sweep hands to the geocoder again.
    (Registrations still waiting for validation get their register look-up from it.)"""
    awaiting = Registration.objects.filter(
        latitude__isnull=False, place_address__isnull=True, created_at__lt=created_before
    ).exclude(status=Status.REGISTERED)
    return list(awaiting.order_by("created_at", "id").values_list("id", flat=True)[:limit])
