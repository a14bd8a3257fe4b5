"""Core objects -> the JSON shapes of spec §6 (described by the `*Out` serializers)."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from registrations.domain.activities import ACTIVITIES
from registrations.domain.authorisation import Caller
from registrations.domain.exceptions import ItemError
from registrations.domain.remarks import REMARKS
from registrations.selectors.addresses import NearbyAddress
from registrations.selectors.lifecycle import StatusAt, validity_of
from registrations.selectors.performances import Performance, Period
from registrations.selectors.registrations import presence_statuses
from registrations.selectors.timeline import TimelineEntry
from registrations.selectors.worker_names import worker_names_shown

if TYPE_CHECKING:
    from registrations.domain.rows import RegistrationRow
    from registrations.models import Registration


def remark_entry(number: int) -> dict[str, Any]:
    remark = REMARKS[number]
    return {"code": remark.rest_code, "labels": remark.labels}


def remark_catalogue() -> list[dict[str, Any]]:
    return [remark_entry(number) for number in sorted(REMARKS)]


def activity_catalogue() -> list[dict[str, Any]]:
    return [{"code": activity.code, "labels": activity.labels} for activity in ACTIVITIES.values()]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else timezone.localtime(moment).isoformat()


def _employer(enterprise_number: str, foreign_vat_number: str) -> dict[str, str]:
    if enterprise_number:
        return {"enterpriseNumber": enterprise_number}
    return {"foreignVatNumber": foreign_vat_number}


def _place_of_work(registration: "Registration | RegistrationRow") -> dict[str, Any] | None:
    if registration.latitude is not None and registration.longitude is not None:
        return {"coordinates": {"latitude": float(registration.latitude), "longitude": float(registration.longitude)}}
    submitted = registration.submitted.get("placeOfWork") if isinstance(registration.submitted, dict) else None
    if isinstance(submitted, dict) and isinstance(submitted.get("address"), dict):
        return {"address": submitted["address"]}
    return None


def registration_out(
    registration: "Registration | RegistrationRow", names: Mapping[int, tuple[str, str]], status: StatusAt
) -> dict[str, Any]:
    """`names`: the worker names the caller may read, by registration id (others: null)."""
    name = names.get(registration.pk)
    return {
        "id": registration.pk,
        "registrationDate": _iso(registration.event_at),
        "ssin": registration.niss,
        "type": registration.event_type.lower(),
        "worker": {"givenName": name[0], "familyName": name[1]} if name else None,
        "employer": _employer(registration.enterprise_number, registration.foreign_vat_number),
        "placeOfWork": _place_of_work(registration),
        "contractualRelationshipReference": registration.workplace_id,
        "activity": registration.activity or None,
        "channel": registration.channel,
        "customReference": registration.client_reference or None,
        "status": {"code": status.code.value, "date": _iso(status.date)},
        "validity": validity_of(registration).value,
        "remarks": [remark_entry(number) for number in registration.remarks if number in REMARKS],
    }


def registrations_out(
    registrations: Sequence["Registration | RegistrationRow"], caller: Caller
) -> list[dict[str, Any]]:
    """Many registrations, with the worker names the caller may read (a fixed number of queries)."""
    names = worker_names_shown(caller=caller, registrations=registrations)
    statuses = presence_statuses(registrations=registrations)
    return [registration_out(registration, names, statuses[registration.pk]) for registration in registrations]


def errors_out(errors: Iterable[ItemError]) -> list[dict[str, Any]]:
    return [{"errorCode": int(error.code), "errorDescription": error.description} for error in errors]


def history_event_out(entry: TimelineEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "sequence": entry.sequence,
        "type": entry.event_type,
        "occurredAt": _iso(entry.occurred_at),
        "actor": entry.actor,
        "channel": entry.channel,
    }
    if entry.status is not None:
        out["status"] = entry.status.value
    if entry.validity is not None:
        out["validity"] = entry.validity.value
    if entry.remarks is not None:
        out["remarks"] = [REMARKS[number].rest_code for number in entry.remarks]
    if entry.reason:
        out["reason"] = entry.reason
    return out


def iso_duration(duration: timedelta) -> str:
    """ISO 8601 duration: PT7H30M, PT45S, PT0S."""
    seconds = int(duration.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "".join(f"{value}{unit}" for value, unit in ((hours, "H"), (minutes, "M"), (seconds, "S")) if value)
    return f"PT{text or '0S'}"


def _period_out(period: Period) -> dict[str, Any]:
    return {
        "start": _iso(period.start),
        "end": _iso(period.end),
        "workedTime": iso_duration(period.worked),
        "open": period.is_open,
        "inRegistrationId": period.in_registration_id,
        "outRegistrationId": period.out_registration_id,
    }


def performance_out(performance: Performance) -> dict[str, Any]:
    return {
        "ssin": performance.niss,
        "contractualRelationshipReference": performance.workplace_id,
        "date": performance.day.isoformat(),
        "employer": _employer(performance.enterprise_number, performance.foreign_vat_number),
        "start": _iso(performance.start),
        "end": _iso(performance.end),
        "workedTime": iso_duration(performance.worked),
        "open": performance.is_open,
        "periods": [_period_out(period) for period in performance.periods],
    }


# The language an address is written in first, by region; the others follow.
_REGION_LANGUAGES = {"BE-VLG": ("nl", "fr", "de"), "BE-WAL": ("fr", "de", "nl"), "BE-BRU": ("fr", "nl", "de")}


def _names(prefix: str, address: Any) -> dict[str, str]:
    return {lang: value for lang in ("nl", "fr", "de") if (value := getattr(address, f"{prefix}_{lang}"))}


def _first(names: dict[str, str], languages: tuple[str, ...]) -> str:
    return next((names[lang] for lang in languages if lang in names), "")


def nearby_address_out(nearby: NearbyAddress) -> dict[str, Any]:
    address = nearby.address
    languages = _REGION_LANGUAGES.get(address.region_code, ("nl", "fr", "de"))
    streets, municipalities = _names("street_name", address), _names("municipality_name", address)
    shown = {
        "postCode": address.post_code,
        "municipalityName": _first(municipalities, languages),
        "streetName": _first(streets, languages),
        "houseNumber": address.house_number,
    }
    if address.box_number:
        shown["boxNumber"] = address.box_number
    return {
        "address": shown,
        "streetNames": streets,
        "municipalityNames": municipalities,
        "municipalityCode": address.municipality_nis,
        "coordinates": {"latitude": address.latitude, "longitude": address.longitude},
        "distanceMeters": nearby.distance_m,
    }
