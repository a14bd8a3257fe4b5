"""Core objects -> the JSON shapes of spec §6 (described by the `*Out` serializers)."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from registrations.domain.activities import ACTIVITIES
from registrations.domain.authorisation import Caller
from registrations.domain.exceptions import ItemError
from registrations.domain.remarks import REMARKS
from registrations.domain.vocabulary import Status
from registrations.selectors.addresses import NearbyAddress
from registrations.selectors.performances import Performance, Period
from registrations.selectors.worker_names import worker_names_shown

if TYPE_CHECKING:
    from history.models import HistoryEvent
    from registrations.models import Registration

_STATUS_BY_LABEL = {status.label: status for status in Status}


def remark_entry(number: int) -> dict[str, Any]:
    remark = REMARKS[number]
    return {"code": remark.rest_code, "labels": remark.labels}


def remark_catalogue() -> list[dict[str, Any]]:
    return [remark_entry(number) for number in sorted(REMARKS)]


def activity_catalogue() -> list[dict[str, Any]]:
    return [{"code": activity.code, "labels": activity.labels} for activity in ACTIVITIES.values()]


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else timezone.localtime(moment).isoformat()


def validity(registration: "Registration") -> str:
    """pending until validated, then valid (no remark) or invalid; kept after cancellation."""
    if registration.validated_at is None:
        return "pending"
    return "valid" if registration.remark_mask == 0 else "invalid"


def _employer(enterprise_number: str, foreign_vat_number: str) -> dict[str, str]:
    if enterprise_number:
        return {"enterpriseNumber": enterprise_number}
    return {"foreignVatNumber": foreign_vat_number}


def _place_of_work(registration: "Registration") -> dict[str, Any] | None:
    if registration.latitude is not None and registration.longitude is not None:
        return {"coordinates": {"latitude": float(registration.latitude), "longitude": float(registration.longitude)}}
    submitted = registration.submitted.get("placeOfWork") if isinstance(registration.submitted, dict) else None
    if isinstance(submitted, dict) and isinstance(submitted.get("address"), dict):
        return {"address": submitted["address"]}
    return None


def _status(registration: "Registration") -> dict[str, Any]:
    if registration.status == Status.CANCELLED:
        return {"code": "cancelled", "date": _iso(registration.cancelled_at or registration.created_at)}
    return {"code": "registered", "date": _iso(registration.created_at)}


def registration_out(registration: "Registration", names: Mapping[int, tuple[str, str]]) -> dict[str, Any]:
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
        "status": _status(registration),
        "validity": validity(registration),
        "remarks": [remark_entry(number) for number in registration.remarks if number in REMARKS],
    }


def registrations_out(registrations: Sequence["Registration"], caller: Caller) -> list[dict[str, Any]]:
    """Many registrations, with the worker names the caller may read (a fixed number of queries)."""
    names = worker_names_shown(caller=caller, registrations=registrations)
    return [registration_out(registration, names) for registration in registrations]


def errors_out(errors: Iterable[ItemError]) -> list[dict[str, Any]]:
    return [{"errorCode": int(error.code), "errorDescription": error.description} for error in errors]


def history_event_out(event: "HistoryEvent") -> dict[str, Any]:
    out: dict[str, Any] = {
        "sequence": event.seq,
        "type": event.event_type,
        "occurredAt": _iso(event.occurred_at),
        "actor": event.actor,
        "channel": event.channel,
    }
    data = event.data if isinstance(event.data, dict) else {}
    status = _STATUS_BY_LABEL.get(str(data.get("status")))
    if status is not None:
        out["status"] = "cancelled" if status == Status.CANCELLED else "registered"
        if status in (Status.VALIDATED, Status.FAILED):
            out["validity"] = "valid" if status == Status.VALIDATED else "invalid"
    if isinstance(data.get("remarks"), list):
        out["remarks"] = [REMARKS[n].rest_code for n in data["remarks"] if n in REMARKS]
    if data.get("reason"):
        out["reason"] = str(data["reason"])
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
